"""Two-factor authentication (django-otp TOTP) is required for the council, finance,
administrators and superusers (NEN 7510); other roles log in with their password alone.

The test settings switch it off for the rest of the suite; every test here switches it on."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import totp_device_start_enrolment
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db

MY_WORK = "/"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.OTP_REQUIRED = True


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="telefoon", confirmed=True)


@pytest.fixture
def council(zwolle, make_user):
    return make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_staff=True)


def test_a_council_member_without_a_device_is_sent_to_set_one_up(client, council):
    client.force_login(council)

    response = client.get(reverse("procedure:request_list"))

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("accounts:two_factor_setup") + "?next=" + reverse("procedure:request_list")
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"roles": [Role.FINANCE]},
        {"roles": [Role.ADMINISTRATOR], "is_staff": True},
        {"roles": [], "is_staff": True, "is_superuser": True},
    ],
    ids=["finance", "administrator", "superuser"],
)
def test_finance_administrators_and_superusers_need_a_second_factor(client, make_user, kwargs):
    client.force_login(make_user(*kwargs.pop("roles"), region=None, **kwargs))

    response = client.get(MY_WORK)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_the_admin_is_guarded_too(client, council):
    client.force_login(council)

    response = client.get(reverse("admin:index"))

    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


@pytest.mark.parametrize("role", [Role.LOCATION_MANAGER, Role.QUALITY_TEAM, Role.SECRETARIAT])
def test_other_roles_log_in_with_their_password_alone(client, zwolle, make_user, role):
    client.force_login(make_user(role, region=zwolle))

    assert client.get(MY_WORK).status_code == 200


def test_the_setting_switches_it_off(client, council, settings):
    settings.OTP_REQUIRED = False
    client.force_login(council)

    assert client.get(MY_WORK).status_code == 200


def test_setting_up_the_app_lets_the_council_member_in(client, council):
    client.force_login(council)
    setup = reverse("accounts:two_factor_setup") + "?next=" + reverse("admin:index")

    page = client.get(setup)

    assert page.status_code == 200
    content = page.content.decode()
    assert "Tweestapsverificatie instellen" in content
    assert 'src="data:image/svg+xml' in content  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=council, confirmed=False)
    assert page.context["secret"].replace(" ", "") in _base32(device)

    wrong = client.post(setup, {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "De code klopt niet" in wrong.content.decode()

    # After a wrong code django-otp lets the next try wait a second.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2), tick=False):
        right = client.post(setup, {"token": code_for(device), "next": reverse("admin:index")})
        assert right.status_code == 302
        assert right["Location"] == reverse("admin:index")
        device.refresh_from_db()
        assert device.confirmed
        assert client.get(reverse("admin:index")).status_code == 200


def test_reloading_the_setup_page_keeps_the_same_secret(client, council):
    client.force_login(council)

    first = client.get(reverse("accounts:two_factor_setup")).context["secret"]
    second = client.get(reverse("accounts:two_factor_setup")).context["secret"]

    assert first == second
    assert TOTPDevice.objects.filter(user=council).count() == 1


def test_after_the_next_login_a_code_is_asked_and_lets_the_member_in(client, council, location):
    device = confirmed_device(council)
    request = AdmissionRequestFactory(at_council=True, location=location)
    change_page = reverse("admin:procedure_admissionrequest_change", args=[request.pk])
    client.force_login(council)

    asked = client.get(change_page)
    assert asked["Location"] == reverse("accounts:two_factor_verify") + "?next=" + change_page

    wrong = client.post(asked["Location"], {"token": "12345x"})
    assert "zes cijfers" in wrong.content.decode()
    verified = client.post(asked["Location"], {"token": code_for(device), "next": change_page})

    assert verified["Location"] == change_page
    assert client.get(change_page).status_code == 200


def test_the_full_login_with_password_then_code(client, council):
    """The real login form (django-axes' backend in front) followed by the second factor."""
    device = confirmed_device(council)

    login = client.post(
        reverse("login"), {"username": council.username, "password": "geheim-wachtwoord"}
    )
    assert login["Location"] == reverse("dashboard:my_work")
    assert client.get(MY_WORK)["Location"].startswith(reverse("accounts:two_factor_verify"))

    client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})

    assert client.get(MY_WORK).status_code == 200


def test_a_used_code_cannot_be_used_again(client, council):
    device = confirmed_device(council)
    code = code_for(device)
    client.force_login(council)
    client.post(reverse("accounts:two_factor_verify"), {"token": code})
    client.logout()
    client.force_login(council)

    again = client.post(reverse("accounts:two_factor_verify"), {"token": code})

    assert again.status_code == 200
    assert client.get(MY_WORK).status_code == 302


def test_with_a_device_the_setup_page_cannot_add_another(client, council):
    """Regression: whoever knows only the password must not be able to add their own app."""
    confirmed_device(council)
    client.force_login(council)

    response = client.get(reverse("accounts:two_factor_setup"))

    assert response["Location"].startswith(reverse("accounts:two_factor_verify"))
    with pytest.raises(DomainError):
        totp_device_start_enrolment(user=council)
    assert TOTPDevice.objects.filter(user=council).count() == 1


def test_next_cannot_lead_to_another_site(client, council):
    device = confirmed_device(council)
    client.force_login(council)

    response = client.post(
        reverse("accounts:two_factor_verify"),
        {"token": code_for(device), "next": "https://evil.example.org/"},
    )

    assert response["Location"] == reverse("dashboard:my_work")


def test_logout_and_the_language_switch_work_before_the_second_factor(client, council):
    client.force_login(council)

    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.post(reverse("logout"))["Location"] == reverse("login")


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode()


def wrong_code_for(device: TOTPDevice) -> str:
    return "000000" if code_for(device) != "000000" else "111111"


def test_six_wrong_codes_make_even_the_right_one_wait(client, council):
    device = confirmed_device(council)
    client.force_login(council)
    verify = reverse("accounts:two_factor_verify")
    start = timezone.now()

    for attempt in range(6):
        # Each wrong code is tried once its wait (1, 2, 4, 8, 16 s) is over.
        with time_machine.travel(start + datetime.timedelta(seconds=2**attempt), tick=False):
            client.post(verify, {"token": wrong_code_for(device)})
    device.refresh_from_db()
    assert device.throttling_failure_count == 6

    with time_machine.travel(start + datetime.timedelta(seconds=33), tick=False):
        refused = client.post(verify, {"token": code_for(device)})
    assert refused.status_code == 200
    assert "Wacht" in refused.content.decode() and "seconden" in refused.content.decode()
    assert client.get(MY_WORK).status_code == 302  # still not verified

    # The sixth wrong code (at 32 s) asks for 32 seconds.
    with time_machine.travel(start + datetime.timedelta(seconds=65), tick=False):
        accepted = client.post(verify, {"token": code_for(device)})
        assert accepted.status_code == 302
        assert client.get(MY_WORK).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_enrolment_waits_after_wrong_codes_too(client, council):
    client.force_login(council)
    setup = reverse("accounts:two_factor_setup")
    client.get(setup)
    device = TOTPDevice.objects.get(user=council, confirmed=False)
    start = timezone.now()

    for attempt in range(6):
        with time_machine.travel(start + datetime.timedelta(seconds=2**attempt), tick=False):
            client.post(setup, {"token": wrong_code_for(device)})
    with time_machine.travel(start + datetime.timedelta(seconds=33), tick=False):
        refused = client.post(setup, {"token": code_for(device)})

    assert "Wacht" in refused.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 6
