"""Questions the registry asks apps above it; they answer in their ``AppConfig.ready()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fmgov.core.hooks import Hook

if TYPE_CHECKING:
    from fmgov.registry.models import Deployment

__all__ = ["deployment_approval_blocker"]

#: Why a deployment may not go live (None when a valid approval holds). Answered by the reviews app.
deployment_approval_blocker: Hook[[Deployment], str | None] = Hook(
    "registry.deployment_approval_blocker", answered_by="fmgov.reviews"
)
