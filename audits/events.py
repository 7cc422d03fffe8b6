"""Telling other apps that the trail grew, inside the transaction that grew it.

``audit_event_recorded`` is sent by ``audits.services.audit_record`` right
after the event is stored, still inside the caller's transaction: rows a
receiver writes (a webhook delivery to send later) commit or roll back with
the change itself, so a committed event never loses them when a process dies
after the commit. Receivers must be quick, must not swallow errors into
silence, and leave work outside the database to ``transaction.on_commit``.
The audits app itself connects nothing here; higher apps connect in their
``AppConfig.ready()``.
"""

from django.dispatch import Signal

__all__ = ["audit_event_recorded"]

#: Sent with ``sender=AuditEvent`` and ``event=<the stored AuditEvent>``.
audit_event_recorded = Signal()
