from django.contrib import admin, messages

from fmgov.core.exceptions import DomainError
from fmgov.portfolio.models import PortfolioSettings
from fmgov.portfolio.services import portfolio_settings_update


@admin.register(PortfolioSettings)
class PortfolioSettingsAdmin(admin.ModelAdmin):
    list_display = ["hhi_alert_threshold", "single_point_of_failure_share", "grid_intensity_gco2e_per_kwh"]

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is audited.
        try:
            portfolio_settings_update(actor=request.user, **{f: getattr(obj, f) for f in form.changed_data})
        except DomainError as exc:
            messages.error(request, exc.message)

    def has_delete_permission(self, request, obj=None):
        return False
