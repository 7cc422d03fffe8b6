from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "fmgov.evidence"
    label = "evidence"
    verbose_name = "Evidence files"

    def ready(self) -> None:
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule
        from fmgov.evidence.review_content import review_attachment_parts
        from fmgov.reviews import hooks as review_hooks

        review_hooks.review_attachments.register(review_attachment_parts)
        register_builtin_schedule(
            BuiltinSchedule(
                name="Evidence files: expiry notices to uploaders",
                task="fmgov.evidence.tasks.evidence_expiry_notices",
                crontab="15 6 * * *",
            )
        )
