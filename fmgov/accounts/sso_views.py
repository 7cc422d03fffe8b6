"""The single sign-on pages: start (redirect to the identity provider) and callback (back from it).

mozilla-django-oidc's views, answering 404 while single sign-on is off, and turning every refusal (a tampered
or misdirected ID token, an unknown state, a provider that cannot be reached, an account fmgov will not sign in)
into the login page with a message instead of an error page.
"""

import logging

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from fmgov.accounts.sso_config import provider_name, sso_enabled
from fmgov.accounts.sso_services import sso_refusal_record
from fmgov.core.client_ip import client_ip
from fmgov.core.exceptions import DomainError

__all__ = ["SsoCallbackView", "SsoStartView"]

logger = logging.getLogger(__name__)
NOT_SIGNED_IN = "Sign-in with {provider} did not complete; you are not signed in."
UNVERIFIED = "Sign-in with {provider} could not be verified (it was started elsewhere, replayed or tampered with)."
MISCONFIGURED = "Sign-in with {provider} is misconfigured on fmgov's side; an admin must run manage.py check."


class SsoOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SsoStartView(SsoOnlyMixin, OIDCAuthenticationRequestView):
    """Redirects to the provider's authorization endpoint with a fresh state, nonce and PKCE challenge."""


class SsoCallbackView(SsoOnlyMixin, OIDCAuthenticationCallbackView):
    """Exchanges the code, verifies the ID token and signs the user in; any refusal is a message on the login page."""

    failure_message = NOT_SIGNED_IN

    @property
    def failure_url(self) -> str:
        return reverse("login")

    def login_failure(self):
        message = self.failure_message.format(provider=provider_name())
        sso_refusal_record(reason=message, ip=client_ip(self.request))
        messages.error(self.request, message)
        return HttpResponseRedirect(self.failure_url)

    def get(self, request):
        try:
            return super().get(request)
        except DomainError as exc:
            self.failure_message = exc.message.replace("{", "{{").replace("}", "}}")
        except SuspiciousOperation as exc:
            logger.warning("single sign-on refused: %s", exc)
            self.failure_message = UNVERIFIED
        except ImproperlyConfigured as exc:
            logger.error("single sign-on misconfigured: %s", exc)
            self.failure_message = MISCONFIGURED
        return self.login_failure()
