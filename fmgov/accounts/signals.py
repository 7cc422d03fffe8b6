"""User creation, role changes, password changes and deactivations are audit events wherever they happen.

Services, the Django admin, ``manage.py changepassword`` and the password-change
page all end in ``User.save()``, so the hooks are here; a password change or a
deactivation also revokes the user's API tokens (``fmgov.accounts.services``).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from audits import changes as audit_changes
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
            changes=audit_changes.created(
                {"username": instance.username, "email": instance.email, "is_superuser": instance.is_superuser}
            ),
        )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit-role-change")
def record_role_change(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if reverse:
        return
    if action == "pre_clear":
        instance._fmgov_roles_before_clear = sorted(instance.groups.values_list("name", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    if action != "post_clear" and not names:
        return
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    roles = sorted(instance.groups.values_list("name", flat=True))
    previous = {
        "post_add": sorted(set(roles) - set(names)),
        "post_remove": sorted(set(roles) | set(names)),
        "post_clear": getattr(instance, "_fmgov_roles_before_clear", None),
    }[action]
    with transaction.atomic():
        audit_record(
            action="user.roles_changed",
            actor=getattr(instance, "_fmgov_actor", None),
            system="accounts",
            obj=instance,
            changes={"roles": [previous, roles]},
            context={verb: names},
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


@receiver(pre_save, sender=User, dispatch_uid="accounts-remember-password-disabled")
def remember_password_disabled(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``set_unusable_password()`` (the admin's "disable password login") sets no ``_password``: compare the row."""
    instance._fmgov_password_disabled = False
    if raw or instance._state.adding or instance.pk is None or instance.has_usable_password():
        return
    if update_fields is not None and "password" not in update_fields:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._fmgov_password_disabled = stored is not None and is_password_usable(stored)


@receiver(post_save, sender=User, dispatch_uid="accounts-password-and-deactivation")
def revoke_tokens_on_password_change_or_deactivation(sender, instance, created, raw=False, **kwargs) -> None:
    """``_password`` is set by ``set_password`` until the save (hash upgrades on login clear it first)."""
    if created or raw:
        return
    actor = getattr(instance, "_fmgov_actor", None)
    was_active = getattr(instance, "_fmgov_was_active", None)
    if was_active is not None and was_active != instance.is_active:
        user_active_changed(user=instance, actor=actor)
    disabled, instance._fmgov_password_disabled = getattr(instance, "_fmgov_password_disabled", False), False
    if getattr(instance, "_password", None) is not None or disabled:
        user_password_changed(user=instance, actor=actor)
