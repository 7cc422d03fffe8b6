"""A large, realistic registry for measurement (``manage.py seed_scale``), written with bulk loads.

It lives in the dashboard app because it fills every app below it. The rows are
measurement data, not governance writes, so they bypass the services (inside
``bulk_writes_recorded()``): each table's rows are built as tuples (every
column: the few that vary, the model's defaults for the rest) and streamed
with ``COPY`` on PostgreSQL, ``executemany`` elsewhere; ids are reserved from
the table's sequence first, so children can point at parents without reading
anything back. The audit trail gets ``events`` synthetic events in its current
format (canonical bytes, hash chained from the current head, the head row
moved), so ``verify_audit_trail`` still passes afterwards. The lineage tables
are rebuilt once from the edges (``lineage_rebuild``).

The package by concern: ``tables`` (ids, COPY loads, the index and foreign-key
drop-and-rebuild), ``registry`` (models, adaptations, deployments, reviews,
runs), ``events`` (the audit trail's synthetic events), ``seed`` (the order of
it all, ``seed_scale``), ``pages`` (``measured_pages``).
"""

from fmgov.dashboard.scale.pages import measured_pages
from fmgov.dashboard.scale.registry import Sizes
from fmgov.dashboard.scale.seed import seed_scale

__all__ = ["Sizes", "measured_pages", "seed_scale"]
