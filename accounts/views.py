"""The two-factor pages: set up an authenticator app once, then give a code after each login."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from hap_contracting.core.errors import DomainError

from . import services
from .forms import TokenForm


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _redirect_keeping_next(request, view_name: str):
    url = reverse(view_name)
    if request.GET:
        url += "?" + request.GET.urlencode()
    return redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    if services.two_factor_enrolled(request.user):
        return _redirect_keeping_next(request, "accounts:two_factor_verify")
    device = services.totp_device_start_enrolment(user=request.user)
    form = TokenForm(request.POST or None)
    if form.is_valid():
        try:
            services.totp_device_confirm(
                request=request, device=device, token=form.cleaned_data["token"]
            )
        except DomainError as error:
            form.add_error("token", error.message)
        else:
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect(_next_url(request))
    # segno draws the QR code as an SVG data: URI on the server; nothing is loaded from elsewhere.
    qr_code = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_code": qr_code,
            "secret": services.totp_secret_for_display(device),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if not services.two_factor_enrolled(request.user):
        return _redirect_keeping_next(request, "accounts:two_factor_setup")
    form = TokenForm(request.POST or None)
    if form.is_valid():
        try:
            services.two_factor_verify(request=request, token=form.cleaned_data["token"])
        except DomainError as error:
            form.add_error("token", error.message)
        else:
            return redirect(_next_url(request))
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


# --- Passwords ------------------------------------------------------------------------------
# Django's own views, with the app's templates; a reset is rate-limited per address and per
# e-mail address, and never says whether an account exists (Django's view answers the same).

PASSWORD_RESETS_PER_ADDRESS = "5/h"
PASSWORD_RESETS_PER_EMAIL = "3/h"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        limited = [
            is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
            for group, key, rate in (
                ("password-reset-address", "ip", PASSWORD_RESETS_PER_ADDRESS),
                ("password-reset-email", "post:email", PASSWORD_RESETS_PER_EMAIL),
            )
        ]
        if any(limited):
            return render(request, "registration/password_reset_limited.html", status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:password_change_done")


@login_required
@require_POST
def session_keepalive(request):
    """The idle-logout warning's "stay logged in": any request counts as activity."""
    return HttpResponse(status=204)
