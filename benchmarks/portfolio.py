"""Concentration endpoint on a large registry, against the same computation in Python on rows in memory.

Builds 100,000 adaptations (one or two parents each) under 20 foundation models
of 6 providers and 10,000 live deployments (the stored lineage roots rebuilt
once after the bulk insert, as ``seed_scale`` does), then times
``fmgov.portfolio.selectors.concentration()`` (set-based: the weights summed per
model in the database, a constant number of queries) against computing the same
figures in pure Python from the edges, models and deployments already loaded in
memory. Every figure is also printed as one JSON line.

    python benchmarks/portfolio.py [--adaptations 100000] [--deployments 10000]
"""

import argparse
import random
import statistics
import time
from collections import defaultdict

from _setup import benchmark_database, describe_database, emit


def build(adaptations: int, deployments: int, owner) -> None:
    from audits.base import bulk_writes_recorded
    from fmgov.registry.lineage import lineage_rebuild
    from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel

    rng = random.Random(7)
    with bulk_writes_recorded():
        models = FoundationModel.objects.bulk_create(
            FoundationModel(
                name=f"model-{i}", version="1", provider=f"provider-{i % 6}", modality="text", access="api", owner=owner
            )
            for i in range(20)
        )
        model_ids = [m.pk for m in models]
        batch = 10_000
        adaptation_ids: list[int] = []
        for start in range(0, adaptations, batch):
            created = Adaptation.objects.bulk_create(
                Adaptation(name=f"a-{i}", version="1", kind="fine_tune", owner=owner)
                for i in range(start, min(start + batch, adaptations))
            )
            edges = []
            for adaptation in created:
                parents = 2 if rng.random() < 0.2 else 1
                chosen = set()
                for _ in range(parents):
                    # Mostly recent adaptations (deep chains), sometimes a model directly.
                    if not adaptation_ids or rng.random() < 0.05:
                        chosen.add(("m", rng.choice(model_ids)))
                    else:
                        window = adaptation_ids[-2000:]
                        chosen.add(("a", rng.choice(window)))
                for kind, parent in chosen:
                    edges.append(
                        AdaptationParent(
                            child_id=adaptation.pk,
                            parent_model_id=parent if kind == "m" else None,
                            parent_adaptation_id=parent if kind == "a" else None,
                        )
                    )
                adaptation_ids.append(adaptation.pk)
            AdaptationParent.objects.bulk_create(edges, batch_size=5000)
        lineage_rebuild()
        Deployment.objects.bulk_create(
            (
                Deployment(
                    name=f"d-{i}",
                    environment="production",
                    status="live",
                    owner=owner,
                    **(
                        {"foundation_model_id": rng.choice(model_ids)}
                        if i % 10 == 0
                        else {"adaptation_id": rng.choice(adaptation_ids)}
                    ),
                )
                for i in range(deployments)
            ),
            batch_size=5000,
        )


def in_python(deployments, edges, providers, spof_limit: float) -> dict:
    """The same figures from rows in memory: weights by post-order over parents, then shares and HHI."""
    parents: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for child, parent_model, parent_adaptation in edges:
        parents[child].append(("m", parent_model) if parent_model is not None else ("a", parent_adaptation))
    memo: dict[int, dict[int, float]] = {}

    def weights(node: int) -> dict[int, float]:
        stack = [node]
        while stack:
            current = stack[-1]
            pending = [p for k, p in parents[current] if k == "a" and p not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current in memo:
                continue
            own: dict[int, float] = defaultdict(float)
            for kind, parent in parents[current]:
                share = 1.0 / len(parents[current])
                if kind == "m":
                    own[parent] += share
                else:
                    for root, w in memo[parent].items():
                        own[root] += share * w
            memo[current] = own
        return memo[node]

    per_model: dict[int, float] = defaultdict(float)
    depends: dict[int, int] = defaultdict(int)
    for model_id, adaptation_id in deployments:
        roots = {model_id: 1.0} if model_id is not None else weights(adaptation_id)
        for root, w in roots.items():
            per_model[root] += float(w)
            depends[root] += 1
    per_provider: dict[str, float] = defaultdict(float)
    for model_id, count in per_model.items():
        per_provider[providers[model_id]] += count
    total = len(deployments)
    hhi = sum((c / total * 100) ** 2 for c in per_provider.values())
    spof = sorted(m for m, n in depends.items() if n / total > spof_limit)
    return {"hhi": hhi, "spof": spof}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--adaptations", type=int, default=100_000)
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with benchmark_database():
        from django.contrib.auth import get_user_model

        from fmgov.portfolio.selectors import concentration
        from fmgov.registry.models import AdaptationParent, Deployment, FoundationModel

        owner = get_user_model().objects.create(username="bench")
        start = time.perf_counter()
        build(args.adaptations, args.deployments, owner)
        print(
            f"built {args.adaptations:,} adaptations and {args.deployments:,} live deployments "
            f"in {time.perf_counter() - start:.1f}s"
        )

        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        concentration()  # warm the connection and the page cache
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = concentration()
            timings.append(time.perf_counter() - start)
        endpoint_seconds = statistics.median(timings)

        edges = list(AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id"))
        deployments = list(Deployment.objects.filter(status="live").values_list("foundation_model_id", "adaptation_id"))
        providers = dict(FoundationModel.objects.values_list("id", "provider"))
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            expected = in_python(deployments, edges, providers, report["single_point_of_failure_share"])
            timings.append(time.perf_counter() - start)
        python_seconds = statistics.median(timings)

        assert abs(expected["hhi"] - report["hhi"]) < 1e-3, (expected["hhi"], report["hhi"])
        assert expected["spof"] == sorted(r["foundation_model"] for r in report["single_points_of_failure"])

    print(f"database: {describe_database()}")
    print(f"concentration() from the database: {endpoint_seconds:.2f}s (HHI {report['hhi']:.1f}, {report['band']})")
    print(f"same computation in Python on rows already in memory (baseline): {python_seconds:.2f}s")
    print(f"ratio endpoint/baseline: {endpoint_seconds / python_seconds:.2f}")
    emit(
        "portfolio: concentration, set-based",
        endpoint_seconds * 1000,
        baseline=python_seconds * 1000,
        goal=1.5,
        unit="ms",
    )


if __name__ == "__main__":
    main()
