"""Security headers for every response (the audit request context is in ``audits.middleware``)."""

from typing import Any

from django.conf import settings

from fmgov.core.hooks import Hook


class SecurityHeadersMiddleware:
    """Content-Security-Policy (Django 5.2 has none built in) and Referrer-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(
            settings,
            "CONTENT_SECURITY_POLICY",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        response.setdefault("Referrer-Policy", "same-origin")
        return response


NO_ROLE_MESSAGE = "Your account holds no role in fmgov yet; ask an admin for one."
#: (message, identity provider to sign in with again, or "") for a signed-in user holding no role. Answered by
#: fmgov.accounts: a single sign-on user's roles come from their provider's groups, which no fmgov admin can give.
no_role_explanation: Hook[[Any], tuple[str, str]] = Hook("core.no_role_explanation", answered_by="fmgov.accounts")
# URL names a signed-in user without any role may still reach: signing in and out, the password page, who am I,
# their own API tokens, health checks, the single sign-on callback, and Django admin's own sign-in and sign-out.
ROLELESS_VIEWS = frozenset(
    {
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "healthz",
        "me",
        "auth-token",
        "auth-token-revoke",
        "api-token-list",
        "api-token-detail",
        "api-token-revoke",
        "sso-callback",
        "oidc_authentication_init",  # signing in again through the provider is how an SSO user's roles arrive
        "oidc_authentication_callback",
        "admin:login",
        "admin:logout",
    }
)


class RoleRequiredMiddleware:
    """Every page and endpoint needs a role: a signed-in user holding none gets 403 and the "no role yet" page.

    Anonymous requests pass on to the view, whose login check (pages) or authentication (API tokens, which
    DRF resolves inside the view, where ``AnyRole`` is the default permission) answers them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.http import JsonResponse
        from django.shortcuts import render

        from fmgov.core.roles import user_roles

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user_roles(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ROLELESS_VIEWS:
            return None
        message, provider = no_role_explanation(user)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        return render(request, "no_role.html", {"message": message, "sso_provider": provider}, status=403)
