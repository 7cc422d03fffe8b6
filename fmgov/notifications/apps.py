from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "fmgov.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from audits.hooks import auditor_email_send
        from fmgov.notifications.services import auditor_email

        auditor_email_send.register(auditor_email)
