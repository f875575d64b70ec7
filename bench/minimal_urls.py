"""The project's URLs plus the benchmarks' floors: a minimal JSON view (``bench_ok``), a
logged-in page that renders the real ``base.html`` and nothing else (``bench_base_page``, the
page benchmark's), and the triage API's floors.

``bench/procedure_pages.py`` requests the pages with this ROOT_URLCONF, and
``bench/minimal_wsgi.py`` serves it to ``bench/triage_lookup.py``, so the floors and the pages or
the triage API run with the same settings and through the same middleware. The base page does
what every page of the site does before its own work: the login check, the session and the user
(through the middleware), the context processors and the menu of ``base.html`` (with the "Mijn
werk" count) for that user; only the page's content is empty.

``bench_list_page`` is the stack's reference for a list: the base page plus the least any list
page does, one query for 50 requests of the user's region (with their locations) and a bare
table of them in the template (a link, four cells), without filters, sorting or pagination.
``bench_list_page_cheapest`` is the same table the cheapest way this stack allows: the same
query's columns read as tuples (no model instances) and the rows drawn in Python
(``format_html_join``) instead of a template loop: the bound below which no list page of 50
rows can come.

The triage floors do the work each operation cannot avoid, the cheapest way this stack allows:
the API's own token check (``triage.api.authenticate``: the client by its token's hash, kept
by the process a few seconds, its use noted and counted against its rate limit), then ONE
indexed SELECT written out, its rows as JSON:

- ``api/bench/triage/verdict``: the address's parameters checked as the API checks them, then the
  verdict from the table of verdicts per address by the normalised address and today;
- ``api/bench/triage/verdict-logged``: the same plus the API's one INSERT into the access log
  (``audit.services.access_log_record_api_read``), to show what logging each read costs;
- ``api/bench/triage/addresses``: the whole filter list now (its additions without a removal), or
  with ``?changed_since=N`` the changes after version N, in one SELECT each;
- ``api/bench/triage/addresses-logged``: the same plus the access log's INSERT, as for the
  verdict.

They skip what the API does besides: django-ninja's parameter and response handling, the
access log (but the logged ones), the client's last sync, the version and ETag.
"""

import datetime
import json

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import engines
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join

import config.urls
from hap_contracting.audit.services import access_log_record_api_read
from hap_contracting.triage.api import Refused, authenticate, check_triage_parameters

VERDICT_SQL = (
    "SELECT verdict FROM triage_triageaddressverdict WHERE postcode = %s AND house_number = %s "
    "AND addition = %s AND starts_on <= %s AND ends_on >= %s LIMIT 1"
)
LIST_SQL = """
    SELECT added.entry_id, added.postcode, added.house_number, added.addition, added.reason,
           added."on"
    FROM triage_triagelistchange added
    WHERE added.kind = 'added' AND NOT EXISTS (
        SELECT 1 FROM triage_triagelistchange removed
        WHERE removed.entry_id = added.entry_id AND removed.kind = 'removed'
    )
    ORDER BY added.postcode, added.house_number, added.addition, added.entry_id
"""
CHANGES_SQL = """
    SELECT id, kind, entry_id, postcode, house_number, addition, reason, "on", removed_because,
           recorded_at
    FROM triage_triagelistchange WHERE id > %s ORDER BY id
"""
LIST_KEYS = ("entry", "postcode", "house_number", "addition", "reason", "listed_on")
CHANGE_KEYS = (
    "version",
    "change",
    "entry",
    "postcode",
    "house_number",
    "addition",
    "reason",
    "date",
    "removed_because",
    "recorded_at",
)


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


@login_required
def list_page_cheapest(request):
    from hap_contracting.core.scoping import scoped_to_region
    from hap_contracting.procedure.constants import RequestKind, RequestState
    from hap_contracting.procedure.models import AdmissionRequest

    rows = (
        scoped_to_region(AdmissionRequest.objects.all(), request.user, "location__region_id")
        .order_by("-received_on", "-pk")
        .values_list("pk", "location__name", "location__city", "kind", "state", "received_on")[:50]
    )
    # Every link has the same shape: reversed once, not per row.
    detail = reverse("procedure:request_detail", args=[0]).removesuffix("0/")
    kinds, states = dict(RequestKind.choices), dict(RequestState.choices)
    table = format_html_join(
        "\n",
        '<tr><td><a href="{}{}/">{}</a></td><td>{}<br><small class="text-muted">{}</small>'
        "</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            # The reference as ``AdmissionRequest.reference`` writes it.
            (
                detail,
                pk,
                f"A-{pk:05d}",
                name,
                city,
                kinds[kind],
                states[state],
                date_format(on, "j F Y"),
            )
            for pk, name, city, kind, state, on in rows
        ),
    )
    return HttpResponse(CHEAPEST_LIST_PAGE.render({"rows": table}, request))


CHEAPEST_LIST_PAGE = engines["django"].from_string(
    """{% extends "base.html" %}{% block content %}
<table class="table table-hover"><tbody>
{{ rows }}
</tbody></table>
{% endblock %}
"""
)

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


def _iso(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(value)


def _checked_address(request) -> dict:
    values, errors = check_triage_parameters(request.GET)
    if errors:
        raise Refused(JsonResponse({"errors": errors}, status=400))
    return values


def _verdict(values: dict) -> str:
    day = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            VERDICT_SQL, [values["postcode"], values["house_number"], values["addition"], day, day]
        )
        row = cursor.fetchone()
    return row[0] if row else "unknown"


def triage_verdict_floor(request):
    try:
        authenticate(request)
        values = _checked_address(request)
    except Refused as refused:
        return refused.response
    return JsonResponse({"verdict": _verdict(values), **values})


def triage_verdict_logged_floor(request):
    try:
        client = authenticate(request)
        values = _checked_address(request)
    except Refused as refused:
        return refused.response
    verdict = _verdict(values)
    access_log_record_api_read(client=client["name"], what=f"triage verdict {values}: {verdict}")
    return JsonResponse({"verdict": verdict, **values})


def triage_addresses_floor(request, *, logged: bool = False):
    try:
        client = authenticate(request)
    except Refused as refused:
        return refused.response
    since = request.GET.get("changed_since")
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(LIST_SQL)
            body = {"entries": [dict(zip(LIST_KEYS, row, strict=True)) for row in cursor]}
        else:
            cursor.execute(CHANGES_SQL, [int(since)])
            body = {"changes": [dict(zip(CHANGE_KEYS, row, strict=True)) for row in cursor]}
    if logged:
        access_log_record_api_read(client=client["name"], what=f"triage list since {since}")
    return HttpResponse(json.dumps(body, default=_iso), content_type="application/json")


urlpatterns = [
    path("bench/ok.json", ok, name="bench_ok"),
    path("bench/base/", base_page, name="bench_base_page"),
    path("bench/list/", list_page, name="bench_list_page"),
    path("bench/list-cheapest/", list_page_cheapest, name="bench_list_page_cheapest"),
    # Under /api/, as the API is: past the pages' middleware (core.middleware).
    path("api/bench/triage/verdict", triage_verdict_floor),
    path("api/bench/triage/verdict-logged", triage_verdict_logged_floor),
    path("api/bench/triage/addresses", triage_addresses_floor),
    path("api/bench/triage/addresses-logged", triage_addresses_floor, {"logged": True}),
    *config.urls.urlpatterns,
]
