"""The report request form; ``reports.services.report_request`` decides who may request what."""

from django import forms

from fmgov.core.roles import has_role
from fmgov.registry.selectors import deployment_list
from reports.choices import ReportKind
from reports.selectors import OVERSIGHT_ROLES

__all__ = ["ReportRequestForm"]


class ReportRequestForm(forms.Form):
    required_css_class = "required"
    LISTED_DEPLOYMENTS = 200  # more than this, and the deployment is given by its id instead of from a list

    # The kinds this page requests; incident reports and documentation exports are requested through the API.
    kind = forms.ChoiceField(
        choices=[(k.value, k.label) for k in (ReportKind.DEPLOYMENT_DOSSIER, ReportKind.PERIOD_SUMMARY)],
        widget=forms.RadioSelect,
        initial=ReportKind.DEPLOYMENT_DOSSIER,
    )
    deployment = forms.ModelChoiceField(
        queryset=None, required=False, help_text="For a deployment dossier.", empty_label="choose a deployment"
    )
    period_start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        deployments = deployment_list().order_by("name", "pk")
        if user is not None and not has_role(user, *OVERSIGHT_ROLES):
            deployments = deployments.filter(owner=user)  # engineers report on their own deployments
        field = self.fields["deployment"]
        field.queryset = deployments
        if deployments.order_by()[: self.LISTED_DEPLOYMENTS + 1].count() > self.LISTED_DEPLOYMENTS:
            # Ten thousand options made the reports page 550 kB and seconds to render: ask for the id.
            field.widget = forms.NumberInput(attrs={"min": 1, "placeholder": "the id on the deployment's page"})
            field.help_text = "For a deployment dossier: the deployment's id, shown on its page."

    def clean(self):
        data = super().clean()
        if data.get("kind") == ReportKind.DEPLOYMENT_DOSSIER:
            if not data.get("deployment"):
                self.add_error("deployment", "Choose the deployment the dossier is about.")
            data["period_start"] = data["period_end"] = None
        elif data.get("kind") == ReportKind.PERIOD_SUMMARY:
            for name in ("period_start", "period_end"):
                if not data.get(name):
                    self.add_error(name, "Required for a period summary.")
            data["deployment"] = None
        return data
