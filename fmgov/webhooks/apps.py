from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "fmgov.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from audits.events import audit_event_recorded
        from audits.models import Checkpoint
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule
        from fmgov.webhooks.receivers import on_audit_event, on_checkpoint_saved

        audit_event_recorded.connect(on_audit_event, dispatch_uid="webhooks-audit-event")
        post_save.connect(on_checkpoint_saved, sender=Checkpoint, dispatch_uid="webhooks-checkpoint")
        register_builtin_schedule(
            BuiltinSchedule(
                name="Re-send webhook deliveries whose task was lost",
                task="fmgov.webhooks.tasks.sweep_webhook_deliveries",
                every_minutes=1,
                queue="webhooks",
            )
        )
