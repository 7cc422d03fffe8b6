"""Server time of every page on a large registry, in-process with the test client: median and p95.

Seeds a throwaway database with ``manage.py seed_scale`` (100,000 adaptations,
10,000 deployments, 2,000 reviews, 100,000 runs, 1,000,000 audit events by
default; the size flags make it smaller), logs in as an auditor and requests
each page of ``fmgov.dashboard.scale.measured_pages`` (the dashboard, every
list page, a model page with its lineage, a review page, the audit trail with
each filter, every API list endpoint) ``--repeat`` times after a warm-up. It
prints, per page, the median and the p95 of the server time and the queries of
one request, and one JSON line per page with the p95 against the goal (200 ms).

    DATABASE_URL=postgres://... python benchmarks/pages.py [--repeat 20] [--adaptations 100000] [--events 1000000] ...

Seeding at full size takes minutes, so ``--database-name NAME --keep`` seeds a database of that name once,
keeps it afterwards and reuses it (migrated, not reseeded) on the next run with the same name; drop it by
hand when done. The size flags apply only to the run that seeds it.
"""

import argparse
import gc
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from _setup import benchmark_database, describe_database, emit

GOAL_MS = 200.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def kept_database(name: str, keep: bool) -> Iterator[bool]:
    """A migrated database called ``name``, created if missing, kept at the end if ``keep``; yields "needs seeding"."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    try:
        yield not get_user_model().objects.filter(username="scale-auditor-0").exists()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
        teardown_test_environment()


def main() -> None:
    from fmgov.dashboard.scale import Sizes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Sizes()
    for name in Sizes.__dataclass_fields__:
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-name", help="seed a database of this name once and reuse it on later runs")
    parser.add_argument("--keep", action="store_true", help="with --database-name: keep the database at the end")
    parser.add_argument("--only", help="time only the pages whose name contains this text")
    args = parser.parse_args()

    database = kept_database(args.database_name, args.keep) if args.database_name else benchmark_database()
    with database as needs_seed:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from fmgov.dashboard.scale import measured_pages, seed_scale

        if needs_seed is not False:  # benchmark_database() yields the vendor name: always a fresh database
            start = time.perf_counter()
            seed_scale(Sizes(**{name: getattr(args, name) for name in Sizes.__dataclass_fields__}))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"seed_scale: {time.perf_counter() - start:.1f}s on {describe_database()}")
        else:
            print(f"reusing the seeded database {args.database_name} on {describe_database()}")
        client = Client()
        client.force_login(get_user_model().objects.get(username="scale-auditor-0"))
        pages = [page for page in measured_pages() if not args.only or args.only in page[0]]
        for name, path in pages:  # every page once before any is timed: modules, templates, caches
            response = client.get(path)
            assert response.status_code == 200, (name, path, response.status_code)
        gc.collect()  # then freeze, as each gunicorn worker does once loaded (gunicorn.conf.py)
        gc.freeze()
        results = []
        for name, path in pages:
            client.get(path)
            queries: list[str] = []

            def count(execute, sql, *rest, seen=queries):
                seen.append(sql)
                return execute(sql, *rest)

            # Counted by a wrapper: the request closes the connection at its end, which drops the debug log.
            with connection.execute_wrapper(count):
                client.get(path)
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - began) * 1000)
            results.append((name, path, statistics.median(times), percentile(times, 0.95), len(queries)))

    print(f"\n{'page':<42} {'median ms':>10} {'p95 ms':>10} {'queries':>8}")
    for name, path, median, p95, count in results:
        print(f"{name:<42} {median:>10.1f} {p95:>10.1f} {count:>8}  {path}")
    for name, _, _, p95, _ in results:
        emit(f"pages: p95 {name}", p95, goal=GOAL_MS, unit="ms")


if __name__ == "__main__":
    main()
