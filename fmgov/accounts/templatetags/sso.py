"""``{% sso_login_button next %}``: the "Sign in with <provider>" link on the login page, when single sign-on is on."""

from django import template
from django.conf import settings

from fmgov.accounts.sso_config import provider_name, sso_enabled

register = template.Library()


@register.inclusion_tag("accounts/sso_login_button.html")
def sso_login_button(next_url: str = "") -> dict:
    return {
        "sso_enabled": sso_enabled(),
        "provider": provider_name(),
        "next": next_url,
        "local_password_off": getattr(settings, "FMGOV_OIDC_DISABLE_LOCAL_PASSWORD", False),
    }
