"""Hooks: how a lower app asks a question that a higher app answers, without importing it.

Dependencies point one way (core -> audits -> ... -> reports -> dashboard). When a
lower app needs an answer only a higher app has (the registry's go-live gate asks
the reviews app for a valid approval), the lower app declares a ``Hook`` and the
higher app registers its answer in ``AppConfig.ready()``. A hook nobody answered
fails loudly, at start-up (``manage.py check``) and at the call, never with a
silent default: a missing module must not become an open gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

__all__ = ["Hook"]

P = ParamSpec("P")
R = TypeVar("R")

_hooks: list[Hook[Any, Any]] = []


class Hook(Generic[P, R]):
    """One answer, registered once by the app that owns it."""

    def __init__(self, name: str, *, answered_by: str) -> None:
        self.name = name
        self.answered_by = answered_by
        self._answer: Callable[P, R] | None = None
        _hooks.append(self)

    def register(self, answer: Callable[P, R]) -> Callable[P, R]:
        if self._answer is not None and self._answer is not answer:
            raise ImproperlyConfigured(f"The hook {self.name} is already answered by {self._answer!r}.")
        self._answer = answer
        return answer

    @property
    def registered(self) -> bool:
        return self._answer is not None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._answer is None:
            raise ImproperlyConfigured(
                f"Nothing answers the hook {self.name}: {self.answered_by} must register it in AppConfig.ready()."
            )
        return self._answer(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name} answered by {self.answered_by}: {'registered' if self.registered else 'MISSING'}>"


@checks.register()
def check_every_hook_is_answered(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check`` (run by migrate, runserver and the test runner) names any hook left unanswered."""
    return [
        checks.Error(
            f"Nothing answers the hook {hook.name}.",
            hint=f"{hook.answered_by} must register it in its AppConfig.ready().",
            id="fmgov.E001",
        )
        for hook in _hooks
        if not hook.registered
    ]
