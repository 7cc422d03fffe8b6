"""Events verified per second by verify_chain, against plain SHA-256 of the same bytes in memory.

python benchmarks/audit_verify.py [--events 20000]
"""

import argparse
import hashlib
import time

from _setup import benchmark_database, describe_database
from django.db import transaction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()

    with benchmark_database():
        from audits.canonical import canonical_json
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
        payloads = [
            e.prev_hash.encode("ascii") + canonical_json(e.canonical()).encode("utf-8")
            for e in AuditEvent.objects.order_by("seq")
        ]

        start = time.perf_counter()
        result = verify_chain()
        verify_seconds = time.perf_counter() - start
        assert result.ok and result.length == args.events, result

        start = time.perf_counter()
        for payload in payloads:
            hashlib.sha256(payload).hexdigest()
        hash_seconds = time.perf_counter() - start

    print(f"database: {describe_database()}, {args.events} events")
    print(f"verify_chain events/s: {args.events / verify_seconds:,.0f}")
    print(f"plain SHA-256 of the same bytes in memory, events/s (baseline): {args.events / hash_seconds:,.0f}")
    print(f"ratio verify/baseline: {hash_seconds / verify_seconds:.3f}")


if __name__ == "__main__":
    main()
