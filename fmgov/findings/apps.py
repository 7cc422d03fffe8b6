from django.apps import AppConfig


def _open_anchor_finding(*, title: str, detail: dict, dedupe_key: str) -> None:
    """A timestamp authority or witness did not take an audit checkpoint (audits.anchors): a finding."""
    from fmgov.findings.choices import FindingSource
    from fmgov.findings.services import finding_open

    finding_open(source=FindingSource.WITNESS, title=title, detail=detail, dedupe_key=dedupe_key, system="audit-signer")


def _open_trail_finding(*, title: str, detail: dict, dedupe_key: str) -> None:
    """The audit trail did not verify exactly, or the signer refused to sign it (audits.tasks): a critical finding."""
    from fmgov.findings.choices import FindingSource, Severity
    from fmgov.findings.services import finding_open

    finding_open(
        source=FindingSource.AUDIT_TRAIL,
        severity=Severity.CRITICAL,
        title=title,
        detail=detail,
        dedupe_key=dedupe_key,
        system="audit-signer",
    )


class FindingsConfig(AppConfig):
    name = "fmgov.findings"
    label = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        from audits.hooks import anchor_failure_report, trail_problem_report

        anchor_failure_report.register(_open_anchor_finding)
        trail_problem_report.register(_open_trail_finding)
