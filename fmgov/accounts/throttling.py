"""DRF throttles keyed on the client address that TRUSTED_PROXIES vouches for.

DRF's own ``get_ident`` believes any ``X-Forwarded-For`` (or counts hops with
``NUM_PROXIES``); these use ``fmgov.core.client_ip`` like django-axes does. The
counts live in the default cache, which is Redis whenever one is configured,
so a limit holds across gunicorn workers and machines.
"""

from rest_framework.throttling import ScopedRateThrottle

from fmgov.core.client_ip import client_ip

__all__ = ["ClientScopedRateThrottle"]


class ClientScopedRateThrottle(ScopedRateThrottle):
    """``throttle_scope`` per view; anonymous callers counted per client address."""

    def get_ident(self, request) -> str:
        return client_ip(request) or ""
