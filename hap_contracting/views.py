"""Thin views: read through selectors, write through services, show DomainErrors on the form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import rules as procedure_rules
from .actions import ACTIONS, available_actions
from .constants import AdviceStep, RequestState
from .errors import DomainError
from .forms import AdmissionRequestForm, CareLocationForm, RequestFilterForm, WithdrawForm
from .models import AdmissionRequest, CareLocation
from .selectors import admission as admission_selectors
from .selectors.graph import state_graph
from .services import admission as admission_services
from .services.locations import care_location_register


@login_required
def my_work(request):
    work = admission_selectors.my_work(request.user)
    page = Paginator(work, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "hap_contracting/my_work.html",
        {"page": page, "can_register": procedure_rules.can_register_request.test(request.user)},
    )


@login_required
def request_list(request):
    filters = RequestFilterForm(request.GET or None)
    requests = admission_selectors.admission_requests_visible_to(request.user)
    if filters.is_valid():
        if filters.cleaned_data["state"]:
            requests = requests.filter(state=filters.cleaned_data["state"])
        if filters.cleaned_data["kind"]:
            requests = requests.filter(kind=filters.cleaned_data["kind"])
        if filters.cleaned_data["q"]:
            term = filters.cleaned_data["q"]
            requests = requests.filter(
                Q(location__name__icontains=term)
                | Q(location__city__icontains=term)
                | Q(location__postcode__icontains=term)
                | Q(requester_name__icontains=term)
            )
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    return render(request, "hap_contracting/request_list.html", {"page": page, "filters": filters})


@login_required
def request_detail(request, pk: int):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    return render(
        request,
        "hap_contracting/request_detail.html",
        {
            "admission_request": admission_request,
            "advices": admission_request.advices.select_related("decided_by"),
            "history": admission_selectors.admission_request_history(admission_request),
            "actions": available_actions(admission_request, request.user),
            "AdviceStep": AdviceStep,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_action(request, pk: int, action: str):
    admission_request = admission_selectors.admission_request_for_user(request.user, pk)
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    form = step.build_form(admission_request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            step.perform(admission_request, request.user, form.service_arguments())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("%(action)s: saved.") % {"action": step.label})
            return redirect("hap_contracting:request_detail", pk=admission_request.pk)
    return render(
        request,
        "hap_contracting/request_action.html",
        {
            "admission_request": admission_request,
            "action": step,
            "form": form,
            **step.context(admission_request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    if not procedure_rules.can_register_request.test(request.user):
        raise PermissionDenied
    locations = CareLocation.objects.select_related("region").order_by("name")
    if not request.user.sees_all_regions:
        locations = locations.filter(region_id=request.user.region_id)
    initial = {"location": request.GET.get("location")}
    form = AdmissionRequestForm(request.POST or None, locations=locations, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            admission_request = admission_services.admission_request_register(
                by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("Request %(reference)s registered.") % {"reference": admission_request.reference},
            )
            return redirect("hap_contracting:request_detail", pk=admission_request.pk)
    return render(request, "hap_contracting/request_create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def location_create(request):
    if not procedure_rules.can_register_request.test(request.user):
        raise PermissionDenied
    form = CareLocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = care_location_register(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Location %(name)s registered.") % {"name": location.name})
            return redirect(reverse("hap_contracting:request_create") + f"?location={location.pk}")
    return render(request, "hap_contracting/location_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def requester_status(request, token):
    """The requester's view of their request, reached through the link in their e-mail."""
    admission_request = get_object_or_404(
        AdmissionRequest.objects.select_related("location"), public_token=token
    )
    form = WithdrawForm(request.POST or None) if admission_request.is_open else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            admission_services.admission_request_withdraw(
                admission_request=admission_request, by=None, **form.cleaned_data
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Your request has been withdrawn."))
            return redirect("hap_contracting:requester_status", token=token)
    return render(
        request,
        "hap_contracting/requester_status.html",
        {
            "admission_request": admission_request,
            "form": form,
            "RequestState": RequestState,
        },
    )


@login_required
def procedure_graph(request):
    return render(request, "hap_contracting/procedure_graph.html", {"graph": state_graph()})
