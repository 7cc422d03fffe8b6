from django.urls import NoReverseMatch, reverse

from fmgov.core.roles import user_roles

# (url name, label): pages appear in the navigation once their app provides them.
NAV = [
    ("registry:model-list", "Models"),
    ("registry:adaptation-list", "Adaptations"),
    ("registry:deployment-list", "Deployments"),
    ("reviews:review-list", "Reviews"),
    ("evaluations:index", "Evaluations"),
    ("reports:report-list", "Reports"),
]


def _nav_items() -> list[dict[str, str]]:
    items = []
    for name, label in NAV:
        try:
            items.append({"url": reverse(name), "label": label})
        except NoReverseMatch:
            continue
    return items


def roles(request) -> dict:
    user = getattr(request, "user", None)
    names = user_roles(user)
    flags = {f"is_{name}": name in names for name in ("engineer", "reviewer", "auditor", "admin")}
    return {"user_roles": sorted(names), "nav_items": _nav_items() if names else [], **flags}
