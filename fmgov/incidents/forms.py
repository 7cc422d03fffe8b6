"""Incident page forms: they shape input; ``fmgov.incidents.services`` decides who may do what and the clock."""

from __future__ import annotations

import re

from django import forms

from fmgov.core.roles import Role, has_role
from fmgov.incidents.choices import Regime
from fmgov.incidents.conf import deadlines
from fmgov.registry.selectors import deployment_list

__all__ = ["IncidentOpenForm", "IncidentFollowUpForm", "IncidentReportForm", "harm_category_choices"]

#: datetime-local inputs: the browser sends minutes; the site runs in UTC.
_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def harm_category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The configured categories grouped by regime, each with its days and legal source (the table is config)."""
    labels = dict(Regime.choices)
    return [
        (
            str(labels.get(regime, regime)),
            [
                (category, f"{category.replace('_', ' ')}: {d['days']} days ({d['source']})")
                for category, d in categories.items()
            ],
        )
        for regime, categories in deadlines().items()
    ]


class _DeploymentIds(forms.ModelMultipleChoiceField):
    """Past ``LISTED`` deployments the field is a text input of ids, as on the reports page (issue 18)."""

    def clean(self, value):
        if isinstance(value, str):
            value = [part for part in re.split(r"[,\s]+", value) if part]
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            value = [part for part in re.split(r"[,\s]+", value[0]) if part]
        return super().clean(value)


class IncidentOpenForm(forms.Form):
    """Report a serious incident: what, when, under which regime and category, and what it involves."""

    required_css_class = "required"
    LISTED = 200

    summary = forms.CharField(max_length=300, help_text="What happened, in a line.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="What happened")
    occurred_at = forms.DateTimeField(widget=_WHEN, label="Occurred at (UTC)")
    aware_at = forms.DateTimeField(
        widget=_WHEN,
        label="Organisation aware at (UTC)",
        help_text="The legal deadline runs from here (EU AI Act Art. 73(2), Art. 55(1)(c)).",
    )
    regime = forms.ChoiceField(choices=Regime.choices)
    harm_category = forms.ChoiceField(help_text="Sets the number of days to report; each with its legal source.")
    deployments = _DeploymentIds(
        queryset=None, required=False, label="Deployments involved", help_text="Engineers: their own deployments."
    )
    suspend = forms.BooleanField(
        required=False,
        label="Confirm at once: suspend the deployments and revoke approvals down the lineage",
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["harm_category"].choices = harm_category_choices()
        board = user is not None and has_role(user, Role.REVIEWER, Role.ADMIN)
        if not board:
            del self.fields["suspend"]  # the service refuses it to engineers; not offered
        field = self.fields["deployments"]
        # Any deployment is accepted here, so the service's ownership rule is what refuses (shown on the field);
        # the options offered are the ones this user may name.
        field.queryset = deployment_list().order_by("name", "pk")
        offered = field.queryset if board else field.queryset.filter(owner=user)
        if offered.order_by()[: self.LISTED + 1].count() > self.LISTED:
            field.widget = forms.TextInput(attrs={"placeholder": "ids, comma separated"})
            field.help_text = "The ids of the deployments involved, shown on their pages, comma separated."
        else:
            field.widget.choices = [(pk, f"{name} (#{pk})") for pk, name in offered.values_list("pk", "name")]
            field.widget.attrs["size"] = min(8, max(2, len(field.widget.choices)))


class IncidentFollowUpForm(forms.Form):
    """What Art. 73(6) asks after the first report; both are needed to close."""

    corrective_measures = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class IncidentReportForm(forms.Form):
    reported_at = forms.DateTimeField(
        widget=_WHEN, required=False, label="Reported at (UTC)", help_text="Now if left empty."
    )
