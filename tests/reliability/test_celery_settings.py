"""Celery settings are consistent with each other and with every registered task.

A message is redelivered to another worker once the broker's visibility
timeout passes without an ack; with late acks that is while the first worker
still runs it, unless the timeout is longer than the longest hard time limit.
The Redis configuration is checked in a subprocess, so the check also runs
when this session uses the embedded broker.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = r"""
import json, django
django.setup()
from django.conf import settings
from fmgov.celery import app
app.loader.import_default_modules()
app.autodiscover_tasks(force=True)
conf = app.conf
tasks = {}
for name, task in sorted(app.tasks.items()):
    if name.startswith("celery."):
        continue
    tasks[name] = {"time_limit": task.time_limit, "soft_time_limit": task.soft_time_limit,
                   "acks_late": task.acks_late, "reject_on_worker_lost": task.reject_on_worker_lost}
annotations = conf.task_annotations or {}
print(json.dumps({
    "transport_options": conf.broker_transport_options or {},
    "time_limit": conf.task_time_limit,
    "soft_time_limit": conf.task_soft_time_limit,
    "acks_late": conf.task_acks_late,
    "reject_on_worker_lost": conf.task_reject_on_worker_lost,
    "prefetch": conf.worker_prefetch_multiplier,
    "annotations": annotations if isinstance(annotations, dict) else {},
    "tasks": tasks,
}))
"""


def _redis_configuration(**extra_env) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="fmgov.settings.base",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",  # configuration only; nothing connects
        **extra_env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _hard_limits(config: dict) -> dict[str, float]:
    limits = {"CELERY_TASK_TIME_LIMIT": config["time_limit"]}
    for name, task in config["tasks"].items():
        limit = task["time_limit"] or config["time_limit"]
        annotated = (config["annotations"].get(name) or {}).get("time_limit")
        limits[name] = max(limit or 0, annotated or 0)
    return limits


@pytest.fixture(scope="module")
def redis_config():
    return _redis_configuration()


def test_every_task_has_a_hard_time_limit(redis_config):
    assert redis_config["tasks"], "no task was discovered; the probe is broken"
    unbounded = [name for name, limit in _hard_limits(redis_config).items() if not limit]
    assert not unbounded, f"tasks with no hard time limit (a hung task would hold its message forever): {unbounded}"


def test_visibility_timeout_longer_than_every_hard_time_limit(redis_config):
    visibility = redis_config["transport_options"].get("visibility_timeout")
    assert visibility, "the Redis broker has no visibility_timeout; kombu's default is one hour"
    too_long = {name: limit for name, limit in _hard_limits(redis_config).items() if limit and limit >= visibility}
    assert not too_long, (
        f"visibility timeout {visibility}s is not longer than these hard time limits, so the message "
        f"would be redelivered while the task still runs: {too_long}"
    )


def test_soft_limits_below_hard_limits(redis_config):
    assert redis_config["soft_time_limit"] < redis_config["time_limit"]
    bad = {}
    for name, task in redis_config["tasks"].items():
        hard = task["time_limit"] or redis_config["time_limit"]
        soft = task["soft_time_limit"] or redis_config["soft_time_limit"]
        if soft and hard and soft >= hard:
            bad[name] = (soft, hard)
    assert not bad, f"soft time limit not below the hard one (the task never gets to clean up): {bad}"


def test_late_ack_settings_for_crash_safety(redis_config):
    assert redis_config["acks_late"] is True
    assert redis_config["reject_on_worker_lost"] is True
    assert redis_config["prefetch"] == 1
    early = [n for n, t in redis_config["tasks"].items() if t["acks_late"] is False]
    assert not early, f"tasks that ack before running (lost if the worker dies): {early}"


def test_operator_overrides_stay_consistent():
    """An operator raising the time limit without the visibility timeout is caught too."""
    config = _redis_configuration(CELERY_TASK_TIME_LIMIT="9000", CELERY_VISIBILITY_TIMEOUT="3600")
    visibility = config["transport_options"]["visibility_timeout"]
    assert any(limit >= visibility for limit in _hard_limits(config).values()), "the check cannot detect a bad pair"


def test_this_session_configuration_is_consistent():
    from fmgov.celery import app

    app.loader.import_default_modules()
    options = app.conf.broker_transport_options or {}
    if app.conf.broker_url.startswith("filesystem://"):
        # The embedded broker never redelivers unacknowledged messages, so there is no timeout to compare.
        assert "visibility_timeout" not in options
        return
    hard = [t.time_limit or app.conf.task_time_limit for n, t in app.tasks.items() if not n.startswith("celery.")]
    assert options["visibility_timeout"] > max(hard)
