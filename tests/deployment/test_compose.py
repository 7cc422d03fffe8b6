"""docker-compose.yml and the Dockerfile agree with the settings (no Docker engine runs in CI)."""

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_health_checks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat", "flower"}
    assert services["db"]["image"] == "postgres:16" and services["redis"]["image"] == "redis:7"
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat", "flower"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_worker_scales_and_serves_every_queue():
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker, "--scale worker=N needs neither"
    command = " ".join(worker["command"].split())
    queues = command.split(" -Q ")[1].split()[0].split(",")
    assert sorted(queues) == sorted(settings.FMGOV_WORKER_QUEUES)


def test_web_migrates_and_every_app_service_uses_postgres_and_redis():
    services = compose()["services"]
    assert "migrate --noinput" in services["web"]["command"] and "gunicorn fmgov.wsgi" in services["web"]["command"]
    for name in ("web", "worker", "beat", "flower"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"].startswith("redis://")
        assert "reports:/data/media" in services[name]["volumes"]
    assert {"pgdata", "redisdata", "reports"} <= set(compose()["volumes"])


def test_dockerfile_uses_production_settings_and_installs_weasyprint_libraries():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# One image") and "FROM python:3.11-slim" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=fmgov.settings.production" in dockerfile
    assert "libpango-1.0-0" in dockerfile and "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "USER fmgov" in dockerfile
    requirements = (ROOT / "requirements.txt").read_text()
    assert "flower==" in requirements and "gunicorn==" in requirements
