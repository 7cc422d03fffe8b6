"""docker-compose.yml and the Dockerfile agree with the settings (no Docker engine runs in CI)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_health_checks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "signer", "beat", "flower"}
    assert services["db"]["image"] == "postgres:16" and services["redis"]["image"] == "redis:7"
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("migrate", "web", "worker", "beat", "flower"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"
    for name in ("web", "worker", "signer", "beat", "flower"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["restart"] == "no"


def _queues(service: dict) -> list[str]:
    return " ".join(service["command"].split()).split(" -Q ")[1].split()[0].split(",")


def test_worker_scales_and_the_signer_serves_the_signing_queue():
    """Workers scale and serve every queue but audit-signing; the one signer, alone with the key, serves that."""
    services = compose()["services"]
    worker, signer = services["worker"], services["signer"]
    assert "container_name" not in worker and "ports" not in worker, "--scale worker=N needs neither"
    assert sorted(_queues(worker) + _queues(signer)) == sorted(settings.FMGOV_WORKER_QUEUES)
    assert _queues(signer) == ["audit-signing"] and "--concurrency 1" in signer["command"]
    assert signer["environment"]["AUDIT_SIGNER"] == "1"
    key_dir = signer["environment"]["AUDIT_SIGNING_KEY_FILE"].rsplit("/", 1)[0]
    assert any(v.endswith(":" + key_dir) for v in signer["volumes"])
    for name, service in services.items():
        if name != "signer":
            assert "AUDIT_SIGNING_KEY_FILE" not in (service.get("environment") or {}), name
            assert not any(key_dir in str(v) for v in service.get("volumes") or []), name
    for name in ("web", "worker", "beat", "flower", "signer"):
        assert services[name]["environment"]["AUDIT_PUBLIC_KEY_FILES"] == "/run/secrets/audit_public_key", name


def test_migrate_runs_as_the_owner_and_every_app_service_as_the_restricted_role():
    """Only migrate holds the owner's password; it grants fmgov_app its rights from audits.db_roles after migrating."""
    services = compose()["services"]
    migrate = " ".join(services["migrate"]["command"].split())
    assert "manage.py migrate --noinput && python manage.py db_grants fmgov_app --apply" in migrate
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith("postgres://fmgov:${POSTGRES_PASSWORD:?")
    assert "migrate" not in services["web"]["command"] and "gunicorn fmgov.wsgi" in services["web"]["command"]
    for name in ("web", "worker", "beat", "flower"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://fmgov_app:${APP_DB_PASSWORD:?"), name
        assert "POSTGRES_PASSWORD" not in env["DATABASE_URL"] and "POSTGRES_PASSWORD" not in env, name
        assert env["CELERY_BROKER_URL"].startswith("redis://")
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


# --- Exposure and secrets (issue 16) ------------------------------------------------------------

REQUIRED = (
    "POSTGRES_PASSWORD",
    "APP_DB_PASSWORD",
    "REDIS_PASSWORD",
    "SECRET_KEY",
    "AUDIT_CHECKPOINT_KEY",
    "FLOWER_BASIC_AUTH",
)


def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


def test_secrets_are_required_never_defaulted():
    text = compose_text()
    for name in (
        *REQUIRED,
        "CREDENTIAL_PUBLIC_KEY",
        "CREDENTIAL_PRIVATE_KEY_PATH",
        "AUDIT_PUBLIC_KEY_PATH",
        "AUDIT_SIGNER_DIR",
    ):
        assert re.search(r"\$\{" + name + r":\?[^}]+\}", text), f"{name} must be ${{{name}:?…}}"
        assert not re.search(r"\$\{" + name + r":?-", text), f"{name} must have no default"
    services = compose()["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in ("web", "worker", "beat", "flower"):
        env = services[name]["environment"]
        assert ":${APP_DB_PASSWORD:?" in env["DATABASE_URL"] and ":${REDIS_PASSWORD:?" in env["CELERY_BROKER_URL"]
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "--requirepass" in " ".join(services["redis"]["command"])


def test_only_web_publishes_a_port_and_flower_only_on_localhost_with_auth():
    services = compose()["services"]
    published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
    assert set(published) == {"web", "flower"}
    assert len(published["web"]) == 1 and published["web"][0].endswith(":8000")
    assert published["web"][0].startswith("${WEB_PUBLISH:-127.0.0.1:"), "loopback unless the operator says otherwise"
    assert published["flower"] == ["127.0.0.1:5555:5555"]
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert "basic" not in services["flower"]["command"], "the password stays out of the process list"


def test_database_and_broker_live_on_an_internal_network():
    spec = compose()
    services, networks = spec["services"], spec["networks"]
    assert networks["backend"]["internal"] is True
    for name in ("db", "redis", "migrate", "beat"):
        assert services[name]["networks"] == ["backend"], name
    assert "edge" in services["web"]["networks"] and "egress" in services["worker"]["networks"]
    assert not networks.get("edge", {}).get("internal") and not networks.get("egress", {}).get("internal")


def test_trusted_proxy_default_is_the_gateway_of_the_published_network():
    spec = compose()
    gateway = spec["networks"]["edge"]["ipam"]["config"][0]["gateway"]
    assert spec["services"]["web"]["environment"]["TRUSTED_PROXIES"] == f"${{TRUSTED_PROXIES:-{gateway}}}"
    assert "TRUSTED_PROXIES" in (ROOT / "README.md").read_text()


def test_only_workers_hold_the_credential_private_key():
    services = compose()["services"]
    assert "credential_private_key" in services["worker"]["secrets"]
    assert services["worker"]["environment"]["CREDENTIAL_PRIVATE_KEY_FILE"] == "/run/secrets/credential_private_key"
    for name in ("web", "signer", "beat", "flower"):
        assert services[name]["secrets"] == ["audit_public_key"], name
        assert not any(key.startswith("CREDENTIAL_PRIVATE") for key in services[name]["environment"]), name


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".env", ".env.*", "var/", ".git", ".venv", "media/", "__pycache__/", "*.py[cod]"):
        assert pattern in ignored, pattern
    assert not any(line.startswith("!") for line in ignored), "nothing is re-included"
    # Every path git ignores as local state is also kept out of the build context.
    for line in (ROOT / ".gitignore").read_text().splitlines():
        if line.strip() in {".env", "var/", ".venv/", "media/", "__pycache__/", "staticfiles/"}:
            assert line.strip() in ignored or line.strip().rstrip("/") in ignored, line


def test_readme_says_how_to_put_tls_in_front():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deployment with docker compose", 1)[1].split("\n## ", 1)[0]
    for needle in ("TLS", "X-Forwarded-For", "X-Forwarded-Proto", "TRUSTED_PROXIES", "FLOWER_BASIC_AUTH", "ssh -L"):
        assert needle in section, needle


def test_the_image_build_step_satisfies_the_production_settings(tmp_path):
    """collectstatic runs under fmgov.settings.production at build time, with build-only values."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    step = next(line for line in dockerfile.splitlines() if line.startswith("RUN") and "collectstatic" in line)
    build_env = dict(re.findall(r"([A-Z_]+)=(\S+)", step.split("python manage.py", 1)[0]))
    assert {"SECRET_KEY", "AUDIT_CHECKPOINT_KEY"} <= set(build_env)
    env = {
        "PATH": os.environ["PATH"],
        "FMGOV_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "fmgov.settings.production",
        **build_env,
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"
