"""PDFs load the app's own static files, under production's hashed names too: with the manifest
storage ``{% static %}`` names ``css/print.1a2b3c4d5e6f.css``, a file only ``collectstatic``
wrote, and refuses a name it did not collect."""

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings

from hap_contracting.core import pdf

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


@pytest.fixture
def collected(tmp_path):
    with override_settings(STORAGES=MANIFEST, STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield tmp_path


def _url(static_url: str) -> str:
    return pdf.PDF_BASE_URL + static_url.lstrip("/")


def test_a_pdf_loads_its_stylesheet_under_the_hashed_name_production_gives_it(collected):
    hashed = static("css/invoice-pdf.css")
    assert hashed != "/static/css/invoice-pdf.css"  # the manifest's name, with its hash

    fetched = pdf.static_url_fetcher()(_url(hashed))

    assert fetched.read() == (collected / hashed.removeprefix("/static/")).read_bytes()
    assert fetched.headers["Content-Type"] == "text/css"


def test_with_the_manifest_storage_the_fetcher_still_serves_nothing_else(collected):
    fetch = pdf.static_url_fetcher()

    for url in (
        _url("/static/css/no-such-file.css"),
        _url("/static/../manage.py"),
        _url("/media/contracts/signed.pdf"),
        "https://elsewhere.example/static/css/app.css",
    ):
        with pytest.raises(ValueError):
            fetch(url)
