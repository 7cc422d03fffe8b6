"""Domain exceptions raised by services; the API and the UI translate them.

A service never returns an HTTP status: it raises one of these, and
``fmgov.core.api.exceptions`` turns them into 400/403/404/409 responses while
UI views show ``message`` to the user.
"""

__all__ = ["DomainError", "InvalidInput", "NotAllowed", "Conflict", "TransitionNotAllowed"]


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a business rule (400)."""

    status_code = 400


class NotAllowed(DomainError):
    """The actor may not do this (403)."""

    status_code = 403


class Conflict(DomainError):
    """The object's current state does not allow this (409)."""

    status_code = 409


class TransitionNotAllowed(Conflict):
    """A workflow transition not in the transition table (409)."""
