"""Questions the audit trail asks of apps above it (see fmgov.core.hooks), answered in their AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from fmgov.core.hooks import Hook

__all__ = ["anchor_failure_report", "auditor_email_send", "trail_problem_report"]

#: Make a failed timestamp or witness visible: open (or keep open) a finding. Keyword arguments:
#: ``title``, ``detail`` (a dict) and ``dedupe_key`` (one active finding per failing authority or witness).
anchor_failure_report: Hook[..., Any] = Hook("audits.anchor_failure_report", answered_by="fmgov.findings")

#: Make a trail that does not verify, or a signer that refuses, visible: open (or keep open) a critical finding.
#: Keyword arguments ``title``, ``detail`` (a dict) and ``dedupe_key``.
trail_problem_report: Hook[..., Any] = Hook("audits.trail_problem_report", answered_by="fmgov.findings")

#: E-mail the auditors, at most once per ``key``; keyword arguments ``key``, ``subject``, ``body``.
#: Returns how many messages were sent; raises when one could not be.
auditor_email_send: Hook[..., int] = Hook("audits.auditor_email_send", answered_by="fmgov.notifications")
