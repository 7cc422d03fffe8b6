"""User creation and role changes are audit events wherever they happen (services, admin)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from audits.services import audit_record

User = get_user_model()


@receiver(post_save, sender=User, dispatch_uid="audit-user-create")
def record_user_created(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw:
        return
    with transaction.atomic():
        audit_record(
            action="user.create",
            actor=getattr(instance, "_fmgov_actor", None),
            system="accounts",
            obj=instance,
            changes={"username": instance.username, "email": instance.email, "is_superuser": instance.is_superuser},
        )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit-role-change")
def record_role_change(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    if action != "post_clear" and not names:
        return
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    with transaction.atomic():
        audit_record(
            action="user.roles_changed",
            actor=getattr(instance, "_fmgov_actor", None),
            system="accounts",
            obj=instance,
            changes={verb: names, "roles": sorted(instance.groups.values_list("name", flat=True))},
        )
    if hasattr(instance, "_fmgov_roles"):
        del instance._fmgov_roles
