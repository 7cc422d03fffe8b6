"""Forms for the registry pages. They validate input; the services do the writing (and the auditing)."""

from django import forms

from fmgov.registry.choices import Access, AdaptationKind, DeploymentStatus, Environment, Modality
from fmgov.registry.models import Adaptation, Deployment, EndpointCredential, FoundationModel
from fmgov.registry.selectors import adaptation_list, foundation_model_list
from fmgov.registry.services import ADAPTATION_FIELDS, DEPLOYMENT_FIELDS, FOUNDATION_MODEL_FIELDS, IMPORT_ONLY_FIELDS

__all__ = [
    "FoundationModelForm",
    "AdaptationForm",
    "DeploymentForm",
    "CardImportForm",
    "TransitionForm",
    "ModelFilterForm",
    "AdaptationFilterForm",
    "DeploymentFilterForm",
]

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class FoundationModelForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = FoundationModel
        # The page does not offer ``supersedes`` (set it through the API or the admin).
        fields = [f for f in FOUNDATION_MODEL_FIELDS if f not in IMPORT_ONLY_FIELDS and f != "supersedes"]
        widgets = {
            "release_date": forms.DateInput(attrs={"type": "date"}),
            "intended_uses": TEXTAREA,
            "out_of_scope_uses": TEXTAREA,
            "training_data_summary": TEXTAREA,
            "model_card": forms.Textarea(attrs={"rows": 10}),
        }


class AdaptationForm(forms.ModelForm):
    required_css_class = "required"

    derived_from_models = forms.ModelMultipleChoiceField(
        queryset=FoundationModel.objects.none(), required=False, label="Derived from foundation models"
    )
    derived_from_adaptations = forms.ModelMultipleChoiceField(
        queryset=Adaptation.objects.none(), required=False, label="Derived from adaptations"
    )

    class Meta:
        model = Adaptation
        # Like models' pages, this one does not offer ``supersedes`` (set it through the API or the admin).
        fields = [f for f in ADAPTATION_FIELDS if f not in IMPORT_ONLY_FIELDS and f != "supersedes"]
        widgets = {"purpose": TEXTAREA, "data_summary": TEXTAREA, "model_card": forms.Textarea(attrs={"rows": 8})}

    field_order = ["name", "version", "kind", "derived_from_models", "derived_from_adaptations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["derived_from_models"].queryset = foundation_model_list()
        self.fields["derived_from_adaptations"].queryset = adaptation_list()
        self.fields["derived_from_models"].help_text = "An adaptation needs at least one parent."

    def clean(self):
        data = super().clean()
        if not data.get("derived_from_models") and not data.get("derived_from_adaptations"):
            raise forms.ValidationError("Choose at least one parent: a foundation model or another adaptation.")
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["derived_from_models"] = [m.pk for m in data.get("derived_from_models") or []]
        data["derived_from_adaptations"] = [a.pk for a in data.get("derived_from_adaptations") or []]
        return data


class DeploymentForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Deployment
        fields = list(DEPLOYMENT_FIELDS)
        help_texts = {
            "foundation_model": "Choose the model or the adaptation this deployment serves, not both.",
            "endpoint_model": "For the local adapter, the name of a local model an admin registered.",
            "endpoint_credential": "A credential an admin registered; workers send it only to its hosts.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["foundation_model"].queryset = foundation_model_list()
        self.fields["adaptation"].queryset = adaptation_list()
        self.fields["endpoint_credential"].queryset = EndpointCredential.objects.filter(active=True)


class CardImportForm(forms.Form):
    required_css_class = "required"

    card = forms.CharField(
        required=False,
        label="Model card (README.md)",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="Paste the card, YAML front matter included, or upload the file below.",
    )
    card_file = forms.FileField(required=False, label="…or upload README.md")
    hf_repo_id = forms.CharField(required=False, label="Hugging Face repo id", help_text="owner/name")
    name = forms.CharField(required=False)
    version = forms.CharField(required=False)
    provider = forms.CharField(required=False)
    modality = forms.ChoiceField(required=False, choices=[("", "from the card"), *Modality.choices])
    access = forms.ChoiceField(required=False, choices=[("", "from the card"), *Access.choices])
    kind = forms.ChoiceField(
        required=False, choices=[("", "from the card"), *AdaptationKind.choices], label="Adaptation kind"
    )

    MAX_BYTES = 1_000_000

    def clean(self):
        data = super().clean()
        upload = data.pop("card_file", None)
        if upload:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError("The card is larger than 1 MB.")
            try:
                data["card"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The card must be UTF-8 text.")
        if not (data.get("card") or "").strip():
            raise forms.ValidationError("Paste a model card or upload its README.md.")
        return data


class TransitionForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def _choices(choices) -> list:
    return [("", "any"), *choices]


class ModelFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    modality = forms.ChoiceField(required=False, choices=_choices(Modality.choices))
    provider = forms.CharField(required=False)


class AdaptationFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    kind = forms.ChoiceField(required=False, choices=_choices(AdaptationKind.choices))


class DeploymentFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(required=False, choices=_choices(DeploymentStatus.choices))
    environment = forms.ChoiceField(required=False, choices=_choices(Environment.choices))
