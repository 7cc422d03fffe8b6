"""Audit-trail appends per second with N concurrent writers, against raw INSERTs.

Baseline: the same writers inserting rows of the same shape into a plain table
(no chain-head lock, no hashing), one transaction per row, same database, same run.

    python benchmarks/audit_append.py [--writers 8] [--events 500]

Goal (issue 14): storing the hashed bytes keeps the audited/raw ratio within
10% of the ratio before (BEFORE_RATIO, measured on PostgreSQL from the commit
before the change, same machine). Prints one JSON line per figure.
"""

import argparse
import json
import sys
import threading
import time

from _setup import benchmark_database, describe_database
from django.db import connection, transaction

#: audited/raw on PostgreSQL before the stored bytes (commit 20eaa60, 8 writers x 500, 2026-12-01).
BEFORE_RATIO = 0.09

PLAIN_TABLE = """
CREATE TABLE bench_plain_event (
    seq BIGINT PRIMARY KEY, timestamp TIMESTAMP WITH TIME ZONE, actor_id BIGINT, actor_username VARCHAR(150),
    actor_system VARCHAR(100), action VARCHAR(100), object_type VARCHAR(100), object_id VARCHAR(64),
    object_repr VARCHAR(300), changes TEXT, context TEXT, prev_hash VARCHAR(64), hash VARCHAR(64)
)
"""


def run_threads(writers: int, work) -> float:
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def body(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--events", type=int, default=500, help="events per writer")
    args = parser.parse_args()

    with benchmark_database():
        from audits.selectors import verify_chain
        from audits.services import audit_record

        total = args.writers * args.events
        with connection.cursor() as cursor:
            cursor.execute(PLAIN_TABLE)
        counter = iter(range(1, 10**9))
        lock = threading.Lock()

        def plain(n: int) -> None:
            for i in range(args.events):
                with lock:
                    seq = next(counter)
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO bench_plain_event VALUES (%s, CURRENT_TIMESTAMP, NULL, '', %s, 'bench.append', "
                        "'bench', %s, '', '{}', '{}', %s, %s)",
                        [seq, f"writer-{n}", str(i), "0" * 64, f"{seq:064x}"],
                    )

        def audited(n: int) -> None:
            for i in range(args.events):
                with transaction.atomic():
                    audit_record(action="bench.append", system=f"writer-{n}", object_type="bench", object_id=i)

        plain_seconds = run_threads(args.writers, plain)
        audit_seconds = run_threads(args.writers, audited)
        assert verify_chain().ok

        database = describe_database()

    plain_rate, audit_rate = total / plain_seconds, total / audit_seconds
    line = {"benchmark": "audit_append.appends_per_s_vs_raw_insert", "value": round(audit_rate, 2)}
    line |= {"baseline": round(plain_rate, 2), "ratio": round(audit_rate / plain_rate, 4)}
    print(json.dumps(line | {"goal": round(0.9 * BEFORE_RATIO, 4), "op": ">="}))
    print(f"database: {database}, {args.writers} concurrent writers, {total} events", file=sys.stderr)


if __name__ == "__main__":
    main()
