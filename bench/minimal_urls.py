"""The project's URLs plus a minimal JSON view (``bench_ok``), the baseline of the page and
triage benchmarks.

``bench/procedure_pages.py`` requests the pages with this ROOT_URLCONF, and
``bench/minimal_wsgi.py`` serves it to ``bench/triage_lookup.py``, so the minimal view and the
pages or the triage API (``triage:api_verdict``) run with the same settings and through the same
middleware; the minimal view only skips the page's work (for the API: the token check and the
verdict query).
"""

from django.http import JsonResponse
from django.urls import path

import config.urls


def ok(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ok.json", ok, name="bench_ok"),
    *config.urls.urlpatterns,
]
