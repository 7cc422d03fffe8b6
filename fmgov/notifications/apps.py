from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "fmgov.notifications"
    label = "notifications"
    verbose_name = "Notifications"
