"""The documentation page of a model or adaptation: the whole record as one form, saved as a new version.

Thin: the form shapes input, the services decide who may write and validate against the catalogue; their
per-field refusals are shown on the fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from fmgov.core.exceptions import DomainError
from fmgov.core.roles import Role
from fmgov.core.views import show_refusal
from fmgov.core.views_util import role_required
from fmgov.documentation import selectors, services
from fmgov.documentation.forms import DocumentationForm
from fmgov.documentation.prefill import prefill
from fmgov.registry.models import Adaptation, FoundationModel

__all__ = ["documentation_edit"]

KINDS = {
    "model": (FoundationModel, "registry:model-detail"),
    "adaptation": (Adaptation, "registry:adaptation-detail"),
}


def _save(request: HttpRequest, target, record, form: DocumentationForm) -> None:
    given = {
        "fields": form.documentation_values(),
        "role": form.cleaned_data["role"],
        "systemic_risk": form.cleaned_data["systemic_risk"],
    }
    if record is None:
        services.documentation_create(target=target, actor=request.user, **given)
    else:
        services.documentation_update(record=record, actor=request.user, **given)


@role_required(Role.ENGINEER, Role.REVIEWER, Role.ADMIN)
def documentation_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model, detail = KINDS[kind]
    target = get_object_or_404(model, pk=pk)
    if not services.may_edit(request.user, target):
        raise PermissionDenied("Engineers document the models and adaptations they own; reviewers and admins any.")
    record = selectors.record_for(target)
    if record is None:
        values, provenance = prefill(target)
        settings = {"role": services.default_role(target), "systemic_risk": False}
    else:
        values, provenance = record.current_version.fields, record.current_version.provenance
        settings = {"role": record.role, "systemic_risk": record.systemic_risk}
    form = DocumentationForm(request.POST or None, values=values, initial=settings)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, target, record, form)
        except DomainError as exc:
            show_refusal(request, exc, form)
        else:
            record = selectors.record_for(target)
            messages.success(
                request, f"Saved the documentation of {target} as version {record.current_version.number}."
            )
            return redirect(detail, target.pk)
    context = {
        "target": target,
        "detail_url": detail,
        "form": form,
        "sections": form.sections(provenance),
        "record": record,
        "completeness": selectors.completeness(settings["role"], settings["systemic_risk"], values),
    }
    return render(request, "documentation/edit.html", context)
