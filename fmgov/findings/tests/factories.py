"""Findings opened through the service, as every source opens them (audit event included)."""

from fmgov.findings.choices import FindingSource
from fmgov.findings.models import Finding
from fmgov.findings.services import finding_open


def open_finding(*, subject=None, source: str = FindingSource.PORTFOLIO, key: str = "", **extra) -> Finding:
    finding, _ = finding_open(
        source=source, subject=subject, title=extra.pop("title", "Something to look at"), dedupe_key=key, **extra
    )
    return finding
