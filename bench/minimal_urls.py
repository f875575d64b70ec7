"""The project's URLs plus a minimal JSON view, for the triage benchmark's baseline.

``bench/minimal_wsgi.py`` serves this URLconf, so the minimal view and the triage API run in the
same gunicorn workers, with the same settings and through the same middleware; the minimal view
only skips the token check and the verdict query.
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
