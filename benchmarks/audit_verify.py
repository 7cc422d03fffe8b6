"""Events verified per second by verify_chain, against plain chained SHA-256 of the same bytes in memory.

Goals (issue 14): 100,000 events verified in under a second, at a rate at least
0.3x the in-memory SHA-256 of the same stored bytes in the same run. Prints one
JSON line per figure.

python benchmarks/audit_verify.py [--events 100000]
"""

import argparse
import hashlib
import json
import sys
import time

from _setup import benchmark_database, describe_database
from django.db import transaction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    with benchmark_database():
        from audits.canonical import GENESIS_HASH
        from audits.models import AuditEvent
        from audits.selectors import verify_chain
        from audits.services import audit_record

        batch = 500
        for start in range(0, args.events, batch):
            with transaction.atomic():
                for i in range(start, min(start + batch, args.events)):
                    audit_record(
                        action="bench.event",
                        system="bench",
                        object_type="bench.thing",
                        object_id=i,
                        object_repr=f"thing {i}",
                        changes={"status": ["proposed", "approved"], "score": [None, i * 0.5]},
                    )
        stored = list(AuditEvent.objects.order_by("seq").values_list("canonical", flat=True))
        payloads = [bytes(data) for data in stored]

        start = time.perf_counter()
        result = verify_chain()
        verify_seconds = time.perf_counter() - start
        assert result.ok and result.length == args.events, result

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
