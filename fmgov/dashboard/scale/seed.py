"""``seed_scale``: the parts in order, the registry in one transaction, then the events, then a vacuum."""

import random
import time
from collections.abc import Callable

from django.db import connection, transaction

from audits.base import bulk_writes_recorded
from fmgov.dashboard.scale.events import _events
from fmgov.dashboard.scale.registry import Sizes, _dag, _deployments, _reviews, _runs, _users
from fmgov.dashboard.scale.tables import (
    _foreign_keys_checked_at_end,
    _indexes_rebuilt,
    _lineage_models,
    _vacuum_lineage,
)
from fmgov.registry.lineage import lineage_rebuild


def seed_scale(sizes: Sizes, *, seed: int = 18, prefix: str = "scale", say: Callable[[str], None] = print) -> dict:
    """Fill the database; returns the counts written. Each part is timed for the caller's log."""
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    clock = time.perf_counter()

    def done(part: str, n: int) -> None:
        counts[part] = n
        say(f"{part}: {n:,} in {time.perf_counter() - clock:.1f}s")

    people = _users(prefix)
    owners = [user.pk for user in people["engineer"]]
    alone = not connection.in_atomic_block
    with transaction.atomic(), bulk_writes_recorded(), _foreign_keys_checked_at_end(sizes, alone=alone) as large:
        model_ids, adaptations = _dag(sizes, rng, owners, prefix)
        done("adaptations", len(adaptations))
        with _indexes_rebuilt(_lineage_models(), when=large):  # the rebuild rewrites every row
            rebuilt = lineage_rebuild()
        counts["lineage_roots"], counts["lineage_reach"] = rebuilt["rows"], rebuilt["reach_rows"]
        done("lineage roots and reach pairs", rebuilt["rows"] + rebuilt["reach_rows"])
        deployments = _deployments(sizes, rng, owners, model_ids, adaptations, prefix)
        done("deployments", len(deployments))
        done("reviews", _reviews(sizes, deployments, people))
        _runs(sizes, deployments, people["engineer"][0])
        done("evaluation runs", sizes.runs)
    say(f"registry committed in {time.perf_counter() - clock:.1f}s")
    objects = [("registry.deployment", pk) for pk in deployments[:1000]] + [
        ("registry.adaptation", pk) for pk in adaptations[:1000]
    ]
    _events(sizes.events, objects, people["engineer"][0])
    done("audit events", sizes.events)
    _vacuum_lineage()
    done("lineage tables vacuumed", counts["lineage_roots"] + counts["lineage_reach"])
    return counts
