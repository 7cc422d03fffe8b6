"""User creation, role changes, password changes and deactivations are audit events wherever they happen.

Services, the Django admin, ``manage.py changepassword`` and the password-change
page all end in ``User.save()``, so the hooks are here; a password change or a
deactivation also revokes the user's API tokens (``fmgov.accounts.services``).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from audits.services import audit_record
from fmgov.accounts.services import user_active_changed, user_password_changed

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


@receiver(pre_save, sender=User, dispatch_uid="accounts-remember-is-active")
def remember_is_active(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Note whether the stored user was active, to see a deactivation after the save."""
    instance._fmgov_was_active = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("is_active", flat=True)
    instance._fmgov_was_active = stored.first()


@receiver(post_save, sender=User, dispatch_uid="accounts-password-and-deactivation")
def revoke_tokens_on_password_change_or_deactivation(sender, instance, created, raw=False, **kwargs) -> None:
    """``_password`` is set by ``set_password`` until the save (hash upgrades on login clear it first)."""
    if created or raw:
        return
    actor = getattr(instance, "_fmgov_actor", None)
    was_active = getattr(instance, "_fmgov_was_active", None)
    if was_active is not None and was_active != instance.is_active:
        user_active_changed(user=instance, actor=actor)
    if getattr(instance, "_password", None) is not None:
        user_password_changed(user=instance, actor=actor)
