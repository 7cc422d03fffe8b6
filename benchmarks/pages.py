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
"""

import argparse
import gc
import statistics
import time

from _setup import benchmark_database, describe_database, emit

GOAL_MS = 200.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    from fmgov.dashboard.scale import Sizes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Sizes()
    for name in Sizes.__dataclass_fields__:
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with benchmark_database():
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from fmgov.dashboard.scale import measured_pages, seed_scale

        start = time.perf_counter()
        seed_scale(Sizes(**{name: getattr(args, name) for name in Sizes.__dataclass_fields__}))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seed_scale: {time.perf_counter() - start:.1f}s on {describe_database()}")
        client = Client()
        client.force_login(get_user_model().objects.get(username="scale-auditor-0"))
        pages = measured_pages()
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
