"""The deployment files: docker/compose.yml validates with Debian's docker-compose (no Docker
engine runs here), a misspelt key fails that validation, and the production settings pass
Django's deployment checks."""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yml"


@pytest.fixture(scope="module")
def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        skip_or_fail("docker-compose is not installed (Debian package docker-compose)")
    return path


def compose_config(docker_compose, text: str) -> subprocess.CompletedProcess:
    # From stdin, run in docker/ so the relative env_file resolves as for docker/compose.yml.
    return subprocess.run(
        [docker_compose, "-f", "-", "config", "-q"],
        cwd=DOCKER,
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_compose_file_is_valid(docker_compose):
    result = compose_config(docker_compose, COMPOSE.read_text())

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("key", "misspelt"), [("healthcheck", "healtcheck"), ("depends_on", "depend_on")]
)
def test_a_misspelt_key_fails_the_validation(docker_compose, key, misspelt):
    text = COMPOSE.read_text()
    assert f" {key}:" in text
    broken = text.replace(f" {key}:", f" {misspelt}:", 1)

    result = compose_config(docker_compose, broken)

    assert result.returncode != 0
    assert misspelt in result.stderr


def test_the_stack_has_its_services_with_health_checks_and_one_beat():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["beat"]["deploy"]["replicas"] == 1
    assert sum("beat" in " ".join(s.get("command", [])) for s in services.values()) == 1
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert {"pgdata", "media"} <= set(compose["volumes"])


def test_the_application_runs_as_a_role_that_owns_nothing_and_the_owner_migrates():
    compose = yaml.safe_load(COMPOSE.read_text())
    example = dict(
        line.split("=", 1)
        for line in (DOCKER / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    migrate = " ".join(compose["services"]["migrate"]["command"])

    assert 'DATABASE_URL="$$MIGRATE_DATABASE_URL" python manage.py migrate' in migrate
    assert 'grant_database_roles "$$HAP_APP_ROLE"' in migrate
    assert example["DATABASE_URL"].startswith(f"postgres://{example['HAP_APP_ROLE']}:")
    assert example["MIGRATE_DATABASE_URL"].startswith(f"postgres://{example['HAP_OWNER_ROLE']}:")
    assert example["POSTGRES_USER"] not in (example["HAP_APP_ROLE"], example["HAP_OWNER_ROLE"])
    assert (
        "./postgres-init:/docker-entrypoint-initdb.d:ro"
        in compose["services"]["postgres"]["volumes"]
    )
    init = (DOCKER / "postgres-init" / "10-roles.sh").read_text()
    assert "HAP_APP_ROLE" in init and "HAP_OWNER_ROLE" in init


def test_the_image_is_multi_stage_and_runs_unprivileged():
    dockerfile = (DOCKER / "Dockerfile").read_text()

    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "gunicorn" in dockerfile


def test_the_example_environment_names_every_required_variable():
    example = (DOCKER / "env.example").read_text()

    for variable in (
        "DJANGO_SECRET_KEY",
        "BSN_HASH_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "POSTGRES_PASSWORD",
    ):
        assert re.search(rf"^{variable}=", example, re.MULTILINE), variable


def manage_py_with_production_settings(*args, secret_key: str | None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "sqlite:///:memory:",
        "BSN_HASH_KEY": "a-test-key-for-the-bsn-hash-not-the-secret-key",
    }
    env.pop("DJANGO_SECRET_KEY", None)
    if secret_key is not None:
        env["DJANGO_SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checks():
    result = manage_py_with_production_settings(
        "check", "--deploy", "--fail-level", "WARNING", secret_key=secrets.token_urlsafe(50)
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage_py_with_production_settings("check", secret_key=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _gunicorn_settings(environ: dict[str, str]) -> dict:
    """What config/gunicorn_conf.py sets, read with ``environ`` as the environment."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(ROOT / "config" / "gunicorn_conf.py"))


def test_the_image_compose_and_the_load_test_run_one_gunicorn_configuration():
    from bench.load import run as load_test

    compose = yaml.safe_load(COMPOSE.read_text())
    web = compose["services"]["web"]["command"]
    dockerfile = (DOCKER / "Dockerfile").read_text()

    assert web[:2] == ["gunicorn", "config.wsgi"]
    assert web[web.index("-c") + 1] == "config/gunicorn_conf.py"
    assert "--workers" not in web and "--threads" not in web
    assert 'CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn_conf.py"]' in dockerfile
    assert load_test.GUNICORN_CONF == ROOT / "config" / "gunicorn_conf.py"


def test_gunicorn_runs_six_processes_of_two_threads_unless_the_environment_says_otherwise():
    default = _gunicorn_settings({})
    changed = _gunicorn_settings({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4"})

    assert (default["worker_class"], default["workers"], default["threads"]) == ("gthread", 6, 2)
    assert default["bind"] == "0.0.0.0:8000"
    assert default["accesslog"] == "-"
    assert (changed["workers"], changed["threads"]) == (3, 4)


def test_gunicorn_workers_freeze_what_they_loaded_and_again_once_warmed_up():
    import gc
    from types import SimpleNamespace

    hooks = _gunicorn_settings({})
    warm_up = hooks["FREEZE_AGAIN_AFTER_REQUESTS"]
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(nr=0))
        frozen_at_start = gc.get_freeze_count()
        gc.unfreeze()
        hooks["post_request"](SimpleNamespace(nr=warm_up - 1), None, {}, None)
        before_warm_up = gc.get_freeze_count()
        hooks["post_request"](SimpleNamespace(nr=warm_up + 1), None, {}, None)
        once_warmed_up = gc.get_freeze_count()
        gc.unfreeze()
        hooks["post_request"](SimpleNamespace(nr=warm_up + 2), None, {}, None)
        later = gc.get_freeze_count()
    finally:
        gc.unfreeze()

    assert frozen_at_start > 0
    assert before_warm_up == 0
    assert once_warmed_up > 0
    assert later == 0


def test_production_keeps_sessions_in_the_cache_written_through_to_the_database():
    result = manage_py_with_production_settings(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
        secret_key=secrets.token_urlsafe(50),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.contrib.sessions.backends.cached_db"
