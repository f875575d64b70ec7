"""Two-factor authentication (TOTP) for the roles NEN 7510 asks it of.

Who must use a second factor is a setting (``OTP_REQUIRED``, ``OTP_REQUIRED_ROLES``); superusers
always must when it is on. A user enrols once, on first login: whoever knows the password then
may add the authenticator, so enrolment is only possible while the user has no confirmed device.
An administrator who deletes a lost device (admin, *TOTP devices*) lets the user enrol again.
"""

import base64
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from hap_contracting.core.errors import DomainError

from .models import UserChange
from .selectors import user_rights

DEVICE_NAME = "Authenticator-app"


def two_factor_required(user) -> bool:
    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user.role_names & set(settings.OTP_REQUIRED_ROLES))


def two_factor_enrolled(user) -> bool:
    return user_has_device(user, confirmed=True)


@transaction.atomic
def totp_device_start_enrolment(*, user) -> TOTPDevice:
    """The user's unconfirmed device; created once, so reloading the page keeps the secret."""
    if two_factor_enrolled(user):
        raise DomainError(_("Two-factor authentication is already set up for this account."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _throttled_message(device: TOTPDevice) -> str | None:
    """django-otp's throttling: after a wrong code the next try waits 1, 2, 4, 8 … seconds. The
    Dutch message says how long, or None when a code may be tried now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    wait = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Wait %(seconds)s second and try again.",
        "Too many wrong codes. Wait %(seconds)s seconds and try again.",
        wait,
    ) % {"seconds": wait}


def _verify(devices, token: str) -> tuple[TOTPDevice | None, str | None]:
    """The device of ``devices`` that accepts ``token``, or None and why not. The devices are
    locked while checking (two tabs can't use one code twice), and the transaction commits
    before anything is refused, so django-otp's count of wrong codes is kept. While every device
    waits after wrong codes, the code is not even tried."""
    with transaction.atomic():
        locked = list(devices.select_for_update().order_by("pk"))
        waiting = [message for device in locked if (message := _throttled_message(device))]
        if locked and len(waiting) == len(locked):
            return None, waiting[0]
        for device in locked:
            if _throttled_message(device) is None and device.verify_token(token):
                return device, None
    return None, _("The code is not correct. Check the time on your phone.")


def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> None:
    """Confirm the device with a first code from the app and count this session as verified."""
    if two_factor_enrolled(request.user):
        raise DomainError(_("Two-factor authentication is already set up for this account."))
    unconfirmed = TOTPDevice.objects.filter(pk=device.pk, user=request.user, confirmed=False)
    verified, refusal = _verify(unconfirmed, token)
    if verified is None:
        raise DomainError(refusal, field="token")
    before = user_rights(request.user.pk)
    # Of two confirmations at once, only the first confirms the device.
    if not unconfirmed.update(confirmed=True):
        raise DomainError(_("Two-factor authentication is already set up for this account."))
    verified.confirmed = True
    user_rights_record(user=request.user, by=request.user, before=before)
    otp_login(request, verified)


def two_factor_verify(*, request, token: str) -> None:
    """Check a code against the user's confirmed devices."""
    device, refusal = _verify(TOTPDevice.objects.filter(user=request.user, confirmed=True), token)
    if device is None:
        raise DomainError(refusal, field="token")
    otp_login(request, device)


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app without a camera."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def user_rights_record(*, user, by, before: dict[str, str]) -> list:
    """Write what changed of ``user``'s rights since ``before`` (``selectors.user_rights``) to
    the append-only trail: who, when, before and after."""
    after = user_rights(user.pk)
    changes = [
        UserChange(
            user=user,
            by=by if getattr(by, "pk", None) else None,
            field=field,
            before=before.get(field, "")[:500],
            after=value[:500],
        )
        for field, value in after.items()
        if before.get(field, "") != value
    ]
    return UserChange.objects.bulk_create(changes)
