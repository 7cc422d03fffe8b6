"""Demo users, one or more per role; all share the password DEMO_PASSWORD."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from fmgov.accounts.services import user_create
from fmgov.core.seeding import register_demo

DEMO_PASSWORD = "demo-password"

DEMO_USERS = [
    ("erin", ["engineer"], []),
    ("eli", ["engineer"], []),
    ("rita", ["reviewer"], []),
    ("ravi", ["reviewer"], ["security"]),
    ("sam", ["reviewer"], ["ethics"]),
    ("aude", ["auditor"], []),
]


@transaction.atomic
def seed(stdout) -> None:
    User = get_user_model()
    created = 0
    for username, roles, extra_groups in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = user_create(username=username, roles=roles, password=DEMO_PASSWORD, email=f"{username}@example.org")
        for name in extra_groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        created += 1
    stdout.write(f"demo users: {created} created (password {DEMO_PASSWORD!r})")


register_demo(seed)
