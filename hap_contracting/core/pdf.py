"""PDFs with WeasyPrint that can load nothing but the app's own static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static

PDF_BASE_URL = "https://app.invalid/"


def static_url_fetcher():
    """A WeasyPrint URL fetcher that serves only the app's own static files, found through the
    staticfiles finders; every other URL (another host, ``file:``, ``data:``, a path outside
    STATIC_URL, a missing file) raises, so a document can never make the server fetch
    anything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_prefix = urlsplit(static("x")).path[:-1]  # "/static/"
    base = urlsplit(PDF_BASE_URL)

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise ValueError(f"not a static file of this app: {url}")
            if not parts.path.startswith(static_prefix):
                raise ValueError(f"not a static file of this app: {url}")
            relative = unquote(parts.path[len(static_prefix) :])
            if not relative or ".." in Path(relative).parts:
                raise ValueError(f"not a static file of this app: {url}")
            found = finders.find(relative)
            if not found:
                raise ValueError(f"no such static file: {url}")
            content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, Path(found).read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticOnlyFetcher(fail_on_errors=False)


def render_pdf(template_name: str, context: dict, request=None) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template_name, context, request=request)
    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=static_url_fetcher()).write_pdf()
