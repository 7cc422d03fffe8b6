"""Request context for the audit trail: who and where, bound for the length of each request."""

from audits import context
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
