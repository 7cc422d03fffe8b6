from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "fmgov.incidents"
    label = "incidents"
    verbose_name = "Serious incidents"

    def ready(self) -> None:
        from django.core import checks

        from fmgov.incidents.conf import check_incident_deadlines

        checks.register(check_incident_deadlines)
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule
        from fmgov.incidents.services import incidents_hand_over
        from fmgov.registry.hooks import deployment_handover_incidents

        deployment_handover_incidents.register(
            lambda old, new, actor: incidents_hand_over(source=old, target=new, actor=actor)
        )

        register_builtin_schedule(
            BuiltinSchedule(
                name="Serious-incident clock: reminders and overdue findings",
                task="fmgov.incidents.tasks.incident_clock",
                every_minutes=15,
            )
        )
