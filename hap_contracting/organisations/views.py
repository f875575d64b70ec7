"""The care locations' pages: the list of the region's locations (and its export) and
registering a location; the organisations, whose invoice details finance keeps. Thin: reads
through the selectors, writes through the services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hap_contracting.core import listing
from hap_contracting.core.errors import DomainError

from . import rules as organisation_rules
from . import selectors as organisation_selectors
from .exports import LOCATION_COLUMNS
from .forms import CareLocationForm, InvoiceDetailsForm, LocationFilterForm, OrganisationFilterForm
from .services import care_location_register, care_organisation_save


def _listed_locations(request):
    """The locations the list shows (all pages), for the page and for its export."""
    if not organisation_rules.can_list_locations.test(request.user):
        raise PermissionDenied
    form = LocationFilterForm(request.GET or None, user=request.user)
    filters = form.filters(sort=request.GET.get(listing.SORT_PARAMETER, ""))
    return form, organisation_selectors.location_list(request.user, filters)


@login_required
@require_GET
def location_list(request):
    form, locations = _listed_locations(request)
    page = Paginator(locations, listing.PAGE_SIZE).get_page(request.GET.get(listing.PAGE_PARAMETER))
    return render(
        request,
        "organisations/location_list.html",
        {
            **listing.list_context(request, organisation_selectors.LOCATION_SORTS, page),
            "filters": form,
            "can_register_location": organisation_rules.can_register_location.test(request.user),
        },
    )


@login_required
@require_GET
def location_detail(request, pk: int):
    """A location's facts, its Wkkgz situation with what follows from it, and its history."""
    if not organisation_rules.can_list_locations.test(request.user):
        raise PermissionDenied
    location = organisation_selectors.location_for(request.user, pk)
    if location is None:
        raise Http404
    return render(
        request,
        "organisations/location_detail.html",
        {
            "location": location,
            "history": organisation_selectors.classification_history(location),
            "links_to_admin": request.user.is_staff
            and request.user.has_perm("organisations.change_carelocation", location),
        },
    )


@login_required
@require_GET
def location_list_export(request, fmt: str):
    """The location list as CSV or XLSX: no patient data, so not in the access log."""
    _form, locations = _listed_locations(request)
    return listing.export_response(
        fmt,
        queryset=locations,
        columns=LOCATION_COLUMNS,
        filename="zorglocaties",
        title=_("Care locations"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def location_create(request):
    if not organisation_rules.can_register_location.test(request.user):
        raise PermissionDenied
    form = CareLocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = care_location_register(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Location %(name)s registered.") % {"name": location.name})
            return redirect(reverse("procedure:request_create") + f"?location={location.pk}")
    return render(request, "organisations/location_create.html", {"form": form})


@login_required
@require_GET
def organisation_list(request):
    if not organisation_rules.can_keep_invoice_details.test(request.user):
        raise PermissionDenied
    form = OrganisationFilterForm(request.GET or None)
    organisations = organisation_selectors.organisation_list(
        form.filters(sort=request.GET.get(listing.SORT_PARAMETER, ""))
    )
    page = Paginator(organisations, listing.PAGE_SIZE).get_page(
        request.GET.get(listing.PAGE_PARAMETER)
    )
    return render(
        request,
        "organisations/organisation_list.html",
        {
            **listing.list_context(request, organisation_selectors.ORGANISATION_SORTS, page),
            "filters": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_invoice_details(request, pk: int):
    """Change where an organisation's invoices go. ``next``: the page to return to (an invoice
    whose details were missing), only when it is on this site."""
    if not organisation_rules.can_keep_invoice_details.test(request.user):
        raise PermissionDenied
    organisation = organisation_selectors.organisation(pk)
    if organisation is None:
        raise Http404
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    form = InvoiceDetailsForm(
        request.POST or None, initial=InvoiceDetailsForm.initial_of(organisation)
    )
    if request.method == "POST" and form.is_valid():
        try:
            care_organisation_save(organisation=organisation, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                _(
                    "The invoice details of %(name)s are saved. Invoices approved from now on "
                    "carry them; approved invoices keep the details they were approved with."
                )
                % {"name": organisation.name},
            )
            return redirect(back or "organisations:organisation_list")
    return render(
        request,
        "organisations/organisation_invoice_details.html",
        {"organisation": organisation, "form": form, "back": back},
    )
