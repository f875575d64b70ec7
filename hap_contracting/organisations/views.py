from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hap_contracting.core.errors import DomainError

from . import rules as organisation_rules
from .forms import CareLocationForm
from .services import care_location_register


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
