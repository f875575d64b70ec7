"""The location managers' investigation of addresses where refused care was given that are not
a known location of a known organisation (seed 004, 7.2). Reading the claims there is logged."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.decorators import logs_refused_reads
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import listing
from hap_contracting.core.errors import DomainError
from hap_contracting.core.predicates import is_location_manager, is_programme_manager
from hap_contracting.triage.rules import can_download_triage_list

from .. import rules as billing_rules
from .. import selectors as billing_selectors
from ..exports import INVESTIGATION_COLUMNS
from ..forms import (
    InvestigationFilterForm,
    InvestigationLocationForm,
    InvestigationNotificationForm,
)
from ..services import investigations


def _require_investigator(user) -> None:
    if not (is_location_manager.test(user) or is_programme_manager.test(user)):
        raise PermissionDenied


def _listed_investigations(request):
    """The investigations the list shows (all pages), for the page and for its export."""
    _require_investigator(request.user)
    form = InvestigationFilterForm(request.GET or None, user=request.user)
    filters = form.filters(sort=request.GET.get(listing.SORT_PARAMETER, ""))
    return form, filters, billing_selectors.investigation_list(request.user, filters)


@login_required
@require_GET
def investigation_list(request):
    form, _filters, investigations = _listed_investigations(request)
    page = Paginator(investigations, listing.PAGE_SIZE).get_page(
        request.GET.get(listing.PAGE_PARAMETER)
    )
    return render(
        request,
        "billing/investigation_list.html",
        {
            **listing.list_context(request, billing_selectors.INVESTIGATION_SORTS, page),
            "filters": form,
            "can_download_triage_list": can_download_triage_list.test(request.user),
        },
    )


# What the success message says: what happened, and what comes next.
INVESTIGATION_DONE = {
    "location": gettext_lazy(
        "The organisation at %(address)s is recorded. Next: tell them that this care is not "
        "given without a contract, and record how."
    ),
    "notification": gettext_lazy("Recorded that the organisation at %(address)s has been told."),
}


@login_required
@require_GET
@logs_refused_reads("address investigations {fmt}")
def investigation_list_export(request, fmt: str):
    """The list as CSV or XLSX: addresses where refused care was given and their number of
    claims, no patient reference; as claim data it is in the access log, with the filters."""
    _form, filters, investigations = _listed_investigations(request)
    if fmt not in listing.EXPORT_FORMATS:
        raise Http404
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        what=f"address investigations {fmt.upper()} ({filters.describe()})",
    )
    return listing.export_response(
        fmt,
        queryset=investigations,
        columns=INVESTIGATION_COLUMNS,
        filename="adresonderzoeken",
        title=_("Address investigations"),
    )


@login_required
@require_http_methods(["GET", "POST"])
@logs_refused_reads("claims at investigated address {pk}")
def investigation_detail(request, pk: int):
    _require_investigator(request.user)
    investigation = billing_selectors.investigation_for_user(request.user, pk)
    locations = billing_selectors.investigation_candidate_locations(investigation)
    may_act = billing_rules.can_investigate.test(request.user, investigation.post)
    location_form = InvestigationLocationForm(
        locations=locations,
        initial={"location": investigation.location_id},
    )
    notification_form = InvestigationNotificationForm(
        initial={
            "notified_on": investigation.notified_on or timezone.localdate(),
            "notified_how": investigation.notified_how,
            "notes": investigation.notes,
        }
    )
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        name = request.POST.get("form")
        if name == "location":
            form = location_form = InvestigationLocationForm(request.POST, locations=locations)
            service = investigations.investigation_record_location
        elif name == "notification":
            form = notification_form = InvestigationNotificationForm(request.POST)
            service = investigations.investigation_record_notification
        else:
            raise Http404
        if form.is_valid():
            try:
                service(investigation=investigation, by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, INVESTIGATION_DONE[name] % {"address": investigation})
                return redirect("billing:investigation_detail", pk=investigation.pk)
        messages.error(request, _("Not saved: see the form below."))
    claims = billing_selectors.investigation_claims(investigation)
    access_log_record(
        user=request.user,
        action=AccessAction.VIEW,
        what=_("claims at address %(address)s") % {"address": investigation},
        patient_references=[claim.patient_reference for claim in claims],
    )
    return render(
        request,
        "billing/investigation_detail.html",
        {
            "investigation": investigation,
            "claims": claims,
            "locations": locations,
            "may_act": may_act,
            "location_form": location_form,
            "notification_form": notification_form,
        },
    )
