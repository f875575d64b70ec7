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

``bench_list_page`` is the stack's reference for a list: the base page plus the least any list
page does, one query for 50 requests of the user's region (with their locations) and a bare
table of them in the template (a link, four cells), without filters, sorting or pagination.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import engines
from django.urls import path

import config.urls


def ok(request):
    return JsonResponse({"ok": True})


@login_required
def base_page(request):
    return render(request, "base.html")


@login_required
def list_page(request):
    from hap_contracting.core.scoping import scoped_to_region
    from hap_contracting.procedure.models import AdmissionRequest

    rows = scoped_to_region(
        AdmissionRequest.objects.select_related("location"), request.user, "location__region_id"
    ).order_by("-received_on", "-pk")[:50]
    return HttpResponse(LIST_PAGE.render({"rows": rows}, request))


LIST_PAGE = engines["django"].from_string(
    """{% extends "base.html" %}{% block content %}
<table class="table table-hover">
  <tbody>
  {% for item in rows %}
    <tr>
      <td><a href="{% url 'procedure:request_detail' item.pk %}">{{ item.reference }}</a></td>
      <td>{{ item.location.name }}<br><small class="text-muted">{{ item.location.city }}</small></td>
      <td>{{ item.get_kind_display }}</td>
      <td>{{ item.get_state_display }}</td>
      <td>{{ item.received_on|date:"j F Y" }}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}
"""
)


urlpatterns = [
    path("bench/ok.json", ok, name="bench_ok"),
    path("bench/base/", base_page, name="bench_base_page"),
    path("bench/list/", list_page, name="bench_list_page"),
    *config.urls.urlpatterns,
]
