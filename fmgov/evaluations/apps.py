from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "fmgov.evaluations"
    label = "evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        from fmgov.evaluations.review_content import policy_suite_requirements, review_content_parts
        from fmgov.evaluations.review_evidence import review_evidence, run_for_evidence
        from fmgov.evaluations.selectors import review_submission_blockers
        from fmgov.evaluations.services import evidence_link_create
        from fmgov.evaluations.trends import deployment_evaluation_panel
        from fmgov.registry.hooks import deployment_evaluation_panel as evaluation_panel
        from fmgov.reviews import hooks as review_hooks

        review_hooks.review_submission_blockers.register(review_submission_blockers)
        review_hooks.review_evidence.register(review_evidence)
        review_hooks.evidence_run.register(run_for_evidence)
        review_hooks.evidence_link_create.register(evidence_link_create)
        review_hooks.review_content_parts.register(review_content_parts)
        review_hooks.policy_suite_requirements.register(policy_suite_requirements)
        evaluation_panel.register(deployment_evaluation_panel)
        from fmgov.evaluations.services.schedules import schedules_move
        from fmgov.registry.hooks import deployment_handover_schedules

        deployment_handover_schedules.register(
            lambda old, new, actor: schedules_move(source=old, target=new, actor=actor)
        )
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Re-queue evaluation runs whose worker died",
                task="fmgov.evaluations.tasks.requeue_orphaned_runs",
                every_minutes=1,
                queue="evaluations",
            )
        )
        register_builtin_schedule(
            BuiltinSchedule(
                name="Fail evaluation runs stuck past the hard time limit",
                task="fmgov.evaluations.tasks.fail_stuck_runs",
                every_minutes=5,
                queue="evaluations",
            )
        )
