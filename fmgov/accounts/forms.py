"""Django's password forms, saving through the audited service instead of ``user.save()``."""

import contextvars

from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm

from fmgov.accounts.services import user_set_password

__all__ = ["AuditedAdminPasswordChangeForm", "AuditedPasswordChangeForm", "acting_admin"]

# The admin builds its password form itself (form_class(user, data)); the acting admin comes through this.
acting_admin: contextvars.ContextVar = contextvars.ContextVar("fmgov_acting_admin", default=None)


class AuditedPasswordChangeForm(PasswordChangeForm):
    """The user's own password page: the user is the actor."""

    def save(self, commit: bool = True):
        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"], actor=self.user)


class AuditedAdminPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password page (set, reset or switch off password login), done by ``acting_admin``."""

    def save(self, commit: bool = True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return user_set_password(user=self.user, password=password, actor=acting_admin.get())
