"""Admin for users, roles and API tokens: every change goes through an audited service in the admin's name.

Django's stock ``UserAdmin`` saves the user and its groups directly; here the change
form and the password page call ``fmgov.accounts.services`` instead, users are
deactivated rather than deleted, and tokens are revoked rather than deleted.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from fmgov.accounts import beat_admin
from fmgov.accounts.forms import AuditedAdminPasswordChangeForm, acting_admin
from fmgov.accounts.models import ApiToken, SsoIdentity
from fmgov.accounts.selectors import is_sso_user
from fmgov.accounts.services import (
    SSO_ROLE_REFUSAL,
    USER_PROFILE_FIELDS,
    token_revoke,
    user_create,
    user_set_active,
    user_set_roles,
    user_set_superuser,
    user_update,
)
from fmgov.accounts.sso_config import manages_roles, provider_name
from fmgov.core.admin_readonly import ReadOnlyAdminMixin
from fmgov.core.roles import Role

User = get_user_model()
ROLE_FIELDS = ("groups", "is_superuser")
beat_admin.register()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["user", "key_hash", "prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
    search_fields = ["user__username", "prefix", "name"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Refused: the row stays so the trail keeps naming it; revoke instead (audited)."""
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        for token in queryset:
            token_revoke(token=token, actor=request.user, reason="revoked in the admin")
        messages.success(request, f"{queryset.count()} token(s) revoked.")


@admin.register(SsoIdentity)
class SsoIdentityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who signs in through the identity provider: read-only, written by the sign-in service alone."""

    list_display = ["user", "issuer", "subject", "last_login_at"]
    search_fields = ["user__username", "subject"]
    readonly_fields = ["user", "issuer", "subject", "groups", "created_at", "last_login_at"]


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class ReadOnlyGroupAdmin(ReadOnlyAdminMixin, GroupAdmin):
    """The role groups are fixed (fmgov.core.roles); membership changes on the user, through its service."""


@admin.register(User)
class FmgovUserAdmin(UserAdmin):
    """The user admin, saving through the accounts services so each change is an event by the acting admin."""

    change_password_form = AuditedAdminPasswordChangeForm
    readonly_fields = ["is_staff", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_superuser", "groups", "is_staff")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("groups",)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Refused: a user is deactivated (audited, tokens revoked) so the trail keeps naming them."""
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        """For a single sign-on user, a change of groups or superuser is refused on the form, with the reason."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or not (manages_roles() and is_sso_user(obj)):
            return form
        refusal = SSO_ROLE_REFUSAL.format(username=obj.username, provider=provider_name())

        class SsoUserChangeForm(form):
            def clean(self):
                cleaned = super().clean()
                for name in ROLE_FIELDS:
                    if name in self.changed_data:
                        self.add_error(name, refusal)
                return cleaned

        return SsoUserChangeForm

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.filter(name__in=Role.values).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def user_change_password(self, request, id, form_url=""):
        token = acting_admin.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            acting_admin.reset(token)

    def save_model(self, request, obj, form, change) -> None:
        actor = request.user
        if not change:
            usable = form.cleaned_data.get("set_usable_password", True)
            user = user_create(
                username=obj.username,
                roles=[],
                password=form.cleaned_data.get("password1") if usable else None,
                actor=actor,
            )
            obj.pk, obj.password, obj._state.adding = user.pk, user.password, False
            return
        profile = {name: form.cleaned_data[name] for name in USER_PROFILE_FIELDS if name in form.changed_data}
        if profile:
            user_update(user=obj, actor=actor, **profile)
        if "is_superuser" in form.changed_data:
            user_set_superuser(user=obj, is_superuser=form.cleaned_data["is_superuser"], actor=actor)
        if "is_active" in form.changed_data:
            user_set_active(user=obj, is_active=form.cleaned_data["is_active"], actor=actor)

    def save_related(self, request, form, formsets, change) -> None:
        if change and "groups" in form.changed_data:
            roles = [group.name for group in form.cleaned_data["groups"]]
            user_set_roles(user=form.instance, roles=roles, actor=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
