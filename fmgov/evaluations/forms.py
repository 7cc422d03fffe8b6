"""Forms for the evaluation pages; the services validate configs, crons and runnability."""

import json

from django import forms

from fmgov.core.jsonlimits import loads_bounded
from fmgov.evaluations.evaluators import REGISTRY
from fmgov.evaluations.selectors import suite_list
from fmgov.evaluations.services import SCHEDULE_FIELDS, SUITE_FIELDS
from fmgov.registry.selectors import deployment_list

__all__ = ["SuiteForm", "ScheduleForm", "RunNowForm", "FindingNoteForm"]


class JSONObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return {}
        try:
            data = loads_bounded(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}")
        if not isinstance(data, dict):
            raise forms.ValidationError("Give a JSON object, e.g. {}.")
        return data

    def prepare_value(self, value):
        return json.dumps(value, indent=1) if isinstance(value, dict) else value


class SuiteForm(forms.Form):
    """One form field per SUITE_FIELDS entry, in that order (a test holds the two to each other)."""

    required_css_class = "required"
    field_order = SUITE_FIELDS

    name = forms.CharField(max_length=200)
    evaluator = forms.ChoiceField(choices=())
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    config = JSONObjectField(required=False, help_text="The evaluator's configuration as a JSON object.")
    thresholds = JSONObjectField(
        required=False, help_text='Per metric, e.g. {"refusal_rate": {"op": ">=", "value": 0.95}}.'
    )
    concurrency = forms.IntegerField(min_value=1, max_value=64, initial=4, help_text="Concurrent requests.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].choices = [
            (name, f"{name} — {ev.description}" if ev.description else name) for name, ev in sorted(REGISTRY.items())
        ]


class ScheduleForm(forms.Form):
    """One form field per SCHEDULE_FIELDS entry, in that order (a test holds the two to each other)."""

    required_css_class = "required"
    field_order = SCHEDULE_FIELDS

    suite = forms.ModelChoiceField(queryset=None)
    deployment = forms.ModelChoiceField(queryset=None)
    cron = forms.CharField(max_length=100, initial="0 3 * * *", help_text="minute hour day month weekday, UTC")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite"].queryset = suite_list().order_by("name")
        self.fields["deployment"].queryset = deployment_list().order_by("name", "pk")


class RunNowForm(forms.Form):
    required_css_class = "required"

    suite = forms.ModelChoiceField(queryset=None)
    deployment = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite"].queryset = suite_list().order_by("name")
        self.fields["deployment"].queryset = deployment_list().order_by("name", "pk")


class FindingNoteForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
