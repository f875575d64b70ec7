"""The project's URLs plus two floors for the benchmarks: a minimal JSON view (``bench_ok``, the
triage benchmark's) and a logged-in page that renders the real ``base.html`` and nothing else
(``bench_base_page``, the page benchmark's).

``bench/procedure_pages.py`` requests the pages with this ROOT_URLCONF, and
``bench/minimal_wsgi.py`` serves it to ``bench/triage_lookup.py``, so the floors and the pages or
the triage API (``triage:api_verdict``) run with the same settings and through the same
middleware. The JSON view only skips the API's work (the token check and the verdict query).
The base page does what every page of the site does before its own work: the login check, the
session and the user (through the middleware), the context processors and the menu of
``base.html`` (with the "Mijn werk" count) for that user; only the page's content is empty.
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

import config.urls


def ok(request):
    return JsonResponse({"ok": True})


@login_required
def base_page(request):
    return render(request, "base.html")


urlpatterns = [
    path("bench/ok.json", ok, name="bench_ok"),
    path("bench/base/", base_page, name="bench_base_page"),
    *config.urls.urlpatterns,
]
