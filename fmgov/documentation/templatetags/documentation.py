"""``{% documentation_summary model as doc %}``: a model's or adaptation's documentation completeness, one query.

A tag rather than a registry view change: the registry sits below this app and does not import it; its pages load
the tag and include ``documentation/_completeness.html``.
"""

from typing import Any

from django import template
from django.urls import reverse

from fmgov.documentation.choices import DocRole
from fmgov.documentation.fields import FIELDS, required_fields
from fmgov.documentation.selectors import completeness, record_for
from fmgov.documentation.services import default_role, may_edit
from fmgov.registry.models import Adaptation

register = template.Library()


@register.simple_tag(takes_context=True)
def documentation_summary(context, target) -> dict[str, Any]:
    """Completeness of the target's record (labels of what is missing), its submission, and where to edit it."""
    is_adaptation = isinstance(target, Adaptation)
    kind = "adaptation" if is_adaptation else "foundation-model"
    summary: dict[str, Any] = {"api_url": reverse(f"{kind}-documentation", args=[target.pk]), "record": None}
    user = context.get("user")
    if user is not None and user.is_authenticated and may_edit(user, target):
        page = "documentation:adaptation-edit" if is_adaptation else "documentation:model-edit"
        summary["edit_url"] = reverse(page, args=[target.pk])
    record = record_for(target)
    if record is None:
        role = default_role(target)
        summary |= {"role": DocRole(role).label, "required": len(required_fields(role, False))}
        return summary
    score = completeness(record.role, record.systemic_risk, record.current_version.fields)
    summary |= {
        "record": record,
        "role": DocRole(record.role).label,
        "completeness": score,
        "percent": round(score["score"] * 100),
        "missing_labels": [FIELDS[name].label for name in score["missing"]],
        "version": record.current_version.number,
        "frozen": record.frozen_version,
    }
    return summary
