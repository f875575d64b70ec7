"""PDFs with WeasyPrint that can load nothing but the app's own static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string

PDF_BASE_URL = "https://app.invalid/"


# Where a document finds the files its caller hands over (``render_pdf(files=...)``), such as an
# uploaded logo: ``{{ pdf_files_url }}logo``.
PDF_FILES_PATH = "/_files/"


def static_url_fetcher(files: dict[str, tuple[bytes, str]] | None = None):
    """A WeasyPrint URL fetcher that serves only the app's own static files, found through the
    staticfiles finders or, under the hashed names production's manifest storage gives them in
    ``{% static %}``, among the collected files; and the ``files`` its caller read (name:
    content and type). Every other URL (another host, ``file:``, ``data:``, a path outside
    STATIC_URL, a missing file) raises, so a document can never make the server fetch anything
    else."""
    files = files or {}
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    # Not ``static("x")``: the manifest storage refuses a name it has not collected.
    static_prefix = urlsplit(settings.STATIC_URL).path  # "/static/"
    base = urlsplit(PDF_BASE_URL)

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise ValueError(f"not a static file of this app: {url}")
            if parts.path.startswith(PDF_FILES_PATH):
                name = unquote(parts.path[len(PDF_FILES_PATH) :])
                if name not in files:
                    raise ValueError(f"no such file: {url}")
                content, content_type = files[name]
                return URLFetcherResponse(url, content, headers={"Content-Type": content_type})
            if not parts.path.startswith(static_prefix):
                raise ValueError(f"not a static file of this app: {url}")
            relative = unquote(parts.path[len(static_prefix) :])
            if not relative or ".." in Path(relative).parts:
                raise ValueError(f"not a static file of this app: {url}")
            found = finders.find(relative)
            if found:
                content = Path(found).read_bytes()
            elif staticfiles_storage.exists(relative):  # collected under its hashed name
                with staticfiles_storage.open(relative) as collected:
                    content = collected.read()
            else:
                raise ValueError(f"no such static file: {url}")
            content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
            return URLFetcherResponse(url, content, headers={"Content-Type": content_type})

    return StaticOnlyFetcher(fail_on_errors=False)


def render_pdf(
    template_name: str,
    context: dict,
    request=None,
    files: dict[str, tuple[bytes, str]] | None = None,
) -> bytes:
    from weasyprint import HTML

    context = {**context, "pdf_files_url": PDF_BASE_URL.rstrip("/") + PDF_FILES_PATH}
    html = render_to_string(template_name, context, request=request)
    return HTML(
        string=html, base_url=PDF_BASE_URL, url_fetcher=static_url_fetcher(files)
    ).write_pdf()
