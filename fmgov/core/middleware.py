"""Request context for the audit trail, and security headers."""

from django.conf import settings

from fmgov.core import context
from fmgov.core.client_ip import client_ip


class RequestContextMiddleware:
    """Binds request id, client IP and user agent for audit events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or context.new_request_id()
        with context.bind_context(
            request_id=request_id,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:256] or None,
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


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
