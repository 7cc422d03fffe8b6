"""API tokens that expire and can be revoked. Only a SHA-256 of the key is stored."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    prefix = models.CharField(_("key prefix"), max_length=8, help_text=_("First characters, to recognise a token."))
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class SsoIdentity(models.Model):
    """Marks a user as signed in through the OpenID Connect provider: the identity provider owns their roles.

    A user is found by (issuer, subject) only, never by e-mail, so an identity provider account can never take
    over a local account that happens to share its address.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity")
    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    groups = models.JSONField(_("groups at last sign-in"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last single sign-on"), null=True, blank=True)

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="accounts_sso_identity_unique")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
