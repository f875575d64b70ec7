"""Two-factor authentication (TOTP) for the roles NEN 7510 asks it of.

Who must use a second factor is a setting (``OTP_REQUIRED``, ``OTP_REQUIRED_ROLES``); superusers
always must when it is on. A user enrols once, on first login: whoever knows the password then
may add the authenticator, so enrolment is only possible while the user has no confirmed device.
An administrator who deletes a lost device (admin, *TOTP devices*) lets the user enrol again.
"""

import base64

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from hap_contracting.core.errors import DomainError

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


@transaction.atomic
def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> None:
    """Confirm the device with a first code from the app and count this session as verified.

    The row lock keeps two tabs from confirming with the same code (TOTP codes are single-use).
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
    if device.confirmed or two_factor_enrolled(request.user):
        raise DomainError(_("Two-factor authentication is already set up for this account."))
    if not device.verify_token(token):
        raise DomainError(
            _("The code is not correct. Check the time on your phone."), field="token"
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)


@transaction.atomic
def two_factor_verify(*, request, token: str) -> None:
    """Check a code against the user's confirmed devices (locked while checking)."""
    device = match_token(request.user, token)
    if device is None:
        raise DomainError(
            _("The code is not correct. Check the time on your phone."), field="token"
        )
    otp_login(request, device)


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app without a camera."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
