from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The page that shows every app at once; it sits at the top of the order, so nothing imports it."""

    name = "fmgov.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
