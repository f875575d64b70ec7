"""Settings that protect the running system."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setting_under(module: str, expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": module, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def test_the_development_server_keeps_no_database_connection_open_per_thread():
    """runserver starts a thread per request: persistent connections ran out of PostgreSQL's."""
    assert (
        setting_under("config.settings.local", 'settings.DATABASES["default"]["CONN_MAX_AGE"]')
        == "0"
    )


def test_passwords_have_at_least_twelve_characters():
    validators = setting_under("config.settings.local", "settings.AUTH_PASSWORD_VALIDATORS")

    assert "'min_length': 12" in validators
    assert "CommonPasswordValidator" in validators


def test_the_demo_serves_on_another_port_and_its_links_follow():
    dry_run = subprocess.run(
        ["make", "--dry-run", "--always-make", "demo", "PORT=8001"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    serve = dry_run[dry_run.index("SITE_URL=") :]
    assert serve.startswith("SITE_URL=http://127.0.0.1:8001 ")
    assert "runserver 127.0.0.1:8001" in serve
