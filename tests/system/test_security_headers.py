"""The content security policy allows only this site's own scripts and styles, so the templates
must not carry inline scripts, inline styles or event handler attributes."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
# The project's templates and every app's own.
TEMPLATES = [
    ROOT / "templates",
    *sorted(ROOT.glob("*/templates")),
    *sorted(ROOT.glob("*/*/templates")),
]


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/login/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.parametrize(
    "template",
    sorted(path for folder in TEMPLATES for path in folder.rglob("*.html")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_template_has_inline_script_or_style(template):
    """Regression: the print view's inline <style> and onclick stopped working under the CSP."""
    html = template.read_text()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "event handler attribute"


def test_the_admin_loads_under_the_policy(admin_client):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert "Content-Security-Policy" in response


def test_the_api_passes_the_pages_middleware_but_keeps_its_protection(client):
    """A JSON answer to a bearer token needs no session, language, messages or login state
    (hap_contracting/core/middleware.py); the security headers and the host check stay."""
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Vary" not in response  # neither Cookie (session) nor Accept-Language (locale)
    assert not response.cookies
    assert client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).status_code == 400
    assert "Accept-Language" in client.get("/login/")["Vary"]
