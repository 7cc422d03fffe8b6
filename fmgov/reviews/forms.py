"""Forms for the review pages; the services validate the rules and write the audit events."""

from django import forms

from fmgov.reviews.choices import SCORE_MAX, SCORE_MIN, Decision, ReviewState
from fmgov.reviews.models import ReviewItem, RiskReview
from fmgov.reviews.selectors import review_policy_list, risk_category_list
from fmgov.reviews.services import REVIEW_FIELDS, REVIEW_ITEM_FIELDS

__all__ = ["ReviewCreateForm", "ReviewItemForm", "SignOffForm", "RequestChangesForm", "RevokeForm", "ReviewFilterForm"]

SCORES = [(n, str(n)) for n in range(SCORE_MIN, SCORE_MAX + 1)]


class ReviewCreateForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = RiskReview
        fields = list(REVIEW_FIELDS)
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policies = review_policy_list()
        self.fields["policy"].queryset = policies
        default = next((p for p in policies if p.is_default), None)
        if default and not self.is_bound:
            self.initial.setdefault("policy", default.pk)


class ReviewItemForm(forms.ModelForm):
    required_css_class = "required"

    likelihood = forms.TypedChoiceField(choices=SCORES, coerce=int, help_text="1 rare … 5 almost certain")
    severity = forms.TypedChoiceField(choices=SCORES, coerce=int, help_text="1 negligible … 5 severe")
    residual_likelihood = forms.TypedChoiceField(choices=SCORES, coerce=int, label="Residual likelihood")
    residual_severity = forms.TypedChoiceField(choices=SCORES, coerce=int, label="Residual severity")
    evidence = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One text or URL per line.",
    )

    class Meta:
        model = ReviewItem
        fields = list(REVIEW_ITEM_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "mitigation": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = risk_category_list()
        if self.instance.pk:
            categories = categories.filter(retired=False) | categories.filter(pk=self.instance.category_id)
        else:
            categories = categories.filter(retired=False)
        self.fields["category"].queryset = categories
        if self.instance.pk and not self.is_bound:
            self.initial["evidence"] = "\n".join(self.instance.evidence or [])

    def clean_evidence(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["evidence"].splitlines() if line.strip()]

    def _post_clean(self):
        # Residual scores above the inherent ones are the service's refusal to explain; no model checks here.
        pass


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Conditions attached to an approval (ignored for reject and abstain).",
    )
    conflict_of_interest = forms.CharField(
        label="Conflict of interest",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Declare any stake you have in this deployment; your sign-off then counts as an abstention.",
    )


class RequestChangesForm(forms.Form):
    comment = forms.CharField(label="What must change", widget=forms.Textarea(attrs={"rows": 3}))


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Why the approval no longer holds", widget=forms.Textarea(attrs={"rows": 2}))


class ReviewFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    state = forms.ChoiceField(required=False, choices=[("", "any"), *ReviewState.choices])
    awaiting = forms.BooleanField(required=False, label="Awaiting my sign-off")
