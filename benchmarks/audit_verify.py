"""Events verified per second by verify_chain, against plain chained SHA-256 of the same bytes in memory.

Goals (issue 14): 100,000 events verified in under a second, at a rate at least
0.3x the in-memory SHA-256 of the same stored bytes in the same run. Prints one
JSON line per figure.

The trail is built as a running one stands: signed by a checkpoint, with the
newest ``--unsigned`` events after it (the signer checkpoints every few minutes),
and on PostgreSQL vacuumed and analysed as autovacuum leaves an append-only
table. Verification re-hashes every event and checks those newest ones exactly.

python benchmarks/audit_verify.py [--events 100000] [--unsigned 1000]
"""

import argparse
import hashlib
import json
import sys
import time

from _setup import benchmark_database, describe_database
from django.db import connection, transaction


def fill(count: int, signed_up_to: int) -> None:
    """``count`` events exactly as audit_record writes them (bytes, columns, hash), inserted in bulk.

    audit_record itself appends a few thousand events a second; this benchmark measures verification, so
    the chain is built here with the same canonical form and written 5,000 rows at a time.
    """
    import datetime as dt

    from audits.canonical import GENESIS_HASH, canonical_bytes, format_timestamp, stored_form
    from audits.models import AuditEvent, ChainHead
    from audits.services import checkpoint_create

    prev, moment, rows = GENESIS_HASH, dt.datetime.now(dt.UTC), []
    for seq in range(1, count + 1):
        values = {
            "seq": seq,
            "timestamp": moment + dt.timedelta(microseconds=seq),
            "actor_id": None,
            "actor_username": "",
            "actor_system": "bench",
            "action": "bench.event",
            "object_type": "bench.thing",
            "object_id": str(seq),
            "object_repr": f"thing {seq}",
            "changes": {"status": ["proposed", "approved"], "score": [None, seq * 0.5]},
            "context": {"request_id": f"{seq:032x}"},
            "prev_hash": prev,
        }
        data = canonical_bytes({**values, "timestamp": format_timestamp(values["timestamp"])})
        prev = hashlib.sha256(prev.encode("ascii") + data).hexdigest()
        columns = {name: stored_form(value) for name, value in values.items() if name != "timestamp"}
        rows.append(AuditEvent(**columns, timestamp=values["timestamp"], canonical=data, hash=prev))
        if len(rows) == 5000 or seq in (count, signed_up_to):
            with transaction.atomic():
                AuditEvent.objects.bulk_create(rows)
            rows = []
        if seq == signed_up_to:
            ChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev})
            checkpoint_create()
    ChainHead.objects.update_or_create(pk=1, defaults={"seq": count, "hash": prev})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--unsigned", type=int, default=1000, help="events after the newest checkpoint")
    args = parser.parse_args()

    with benchmark_database():
        from audits.canonical import GENESIS_HASH
        from audits.models import AuditEvent
        from audits.selectors import verify_chain

        fill(args.events, args.events - args.unsigned)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # what autovacuum does to an append-only table after a bulk load
                cursor.execute("VACUUM ANALYZE audits_auditevent")
        stored = list(AuditEvent.objects.order_by("seq").values_list("canonical", flat=True))
        payloads = [bytes(data) for data in stored]

        start = time.perf_counter()
        result = verify_chain()
        verify_seconds = time.perf_counter() - start
        assert result.ok and result.length == args.events and result.checkpoints_checked == 1, result

        start = time.perf_counter()
        prev = GENESIS_HASH
        for payload in payloads:
            prev = hashlib.sha256(prev.encode("ascii") + payload).hexdigest()
        hash_seconds = time.perf_counter() - start
        database = describe_database()

    per_100k = verify_seconds * 100_000 / args.events
    rate, hash_rate = args.events / verify_seconds, args.events / hash_seconds
    figures = [
        # seconds to verify 100,000 events against the one-second budget
        ("audit_verify.seconds_per_100k_events", per_100k, 1.0, per_100k / 1.0, 1.0, "<="),
        # verification rate against chained SHA-256 of the same bytes in memory
        ("audit_verify.events_per_s_vs_sha256", rate, hash_rate, rate / hash_rate, 0.3, ">="),
    ]
    for name, value, baseline, ratio, goal, op in figures:
        line = {"benchmark": name, "value": round(value, 4), "baseline": round(baseline, 4)}
        print(json.dumps(line | {"ratio": round(ratio, 4), "goal": goal, "op": op}))
    print(f"database: {database}, {args.events} events", file=sys.stderr)


if __name__ == "__main__":
    main()
