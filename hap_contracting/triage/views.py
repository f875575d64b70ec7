"""The triage filter list for the location managers, finance and administrators, and its CSV
for the triage system (TPM): addresses only, no patient data."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import spreadsheets
from hap_contracting.core.predicates import is_finance_for_all_regions
from hap_contracting.core.spreadsheets import Column

from . import rules as triage_rules
from .constants import TriageFilterReason
from .selectors import triage_list as triage_list_of
from .selectors import triage_refused_entries

TRIAGE_LIST_COLUMNS = (
    Column("location__postcode", gettext_lazy("postcode")),
    Column("location__house_number", gettext_lazy("house number"), spreadsheets.NUMBER),
    Column("location__house_number_addition", gettext_lazy("addition")),
    Column("location__name", gettext_lazy("location")),
    Column(
        "reason",
        gettext_lazy("reason"),
        spreadsheets.LABEL,
        labels=dict(TriageFilterReason.choices),
    ),
    Column("listed_on", gettext_lazy("listed on"), spreadsheets.DATE),
)


def _require_triage_list(user) -> None:
    if not triage_rules.can_download_triage_list.test(user):
        raise PermissionDenied


@login_required
@require_GET
def triage_list(request):
    _require_triage_list(request.user)
    page = Paginator(triage_list_of(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "triage/triage_list.html",
        {"page": page, "is_finance": is_finance_for_all_regions.test(request.user)},
    )


@login_required
@require_GET
def triage_list_csv(request):
    """The refused addresses, for the triage system (TPM)."""
    _require_triage_list(request.user)
    rows = spreadsheets.rows_of(triage_refused_entries(request.user), TRIAGE_LIST_COLUMNS)
    content = spreadsheets.csv_text(TRIAGE_LIST_COLUMNS, rows)
    # No claim data in it, but every export is logged (who took the list, and when).
    access_log_record(
        user=request.user, action=AccessAction.EXPORT, what=_("triage filter list (CSV)")
    )
    response = HttpResponse(content, content_type=spreadsheets.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="triage-filterlijst-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response
