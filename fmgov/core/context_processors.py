from django.urls import reverse

from fmgov.core.roles import Role, user_roles

# (url name, label) of the pages in the navigation bar, in order.
NAV = [
    ("registry:model-list", "Models"),
    ("registry:adaptation-list", "Adaptations"),
    ("registry:deployment-list", "Deployments"),
    ("reviews:review-list", "Reviews"),
    ("evaluations:index", "Evaluations"),
    ("reports:report-list", "Reports"),
]


def _nav_items() -> list[dict[str, str]]:
    return [{"url": reverse(name), "label": label} for name, label in NAV]


def roles(request) -> dict:
    user = getattr(request, "user", None)
    names = user_roles(user)
    flags = {f"is_{name}": name in names for name in Role.values}
    return {"user_roles": sorted(names), "nav_items": _nav_items() if names else [], **flags}
