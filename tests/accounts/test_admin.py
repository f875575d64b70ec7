"""Users in the Django admin."""

import pytest
from django.urls import reverse

from hap_contracting.core import listing
from hap_contracting.core.roles import Role
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_users_are_deactivated_never_deleted_so_the_history_keeps_their_name(client, make_user):
    from accounts.models import User

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    leaver = make_user(Role.SECRETARIAT)
    client.force_login(administrator)

    response = client.post(reverse("admin:accounts_user_delete", args=[leaver.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=leaver.pk).exists()


def user_form(user, **changes) -> dict:
    """The admin's change form of ``user``, as the page would post it, with ``changes``."""
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "region": user.region_id or "",
        "groups": [group.pk for group in user.groups.all()],
        "is_active": "on" if user.is_active else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value not in ("", None)}


def test_an_administrator_who_is_not_a_superuser_cannot_make_anyone_staff_or_superuser(
    client, make_user
):
    from accounts.models import User

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    client.force_login(administrator)

    response = client.post(
        reverse("admin:accounts_user_change", args=[administrator.pk]),
        user_form(administrator, is_superuser="on", is_staff="on", first_name="Baas"),
    )

    assert response.status_code == 302
    administrator = User.objects.get(pk=administrator.pk)
    assert administrator.first_name == "Baas"
    assert not administrator.is_superuser


def test_an_administrator_cannot_change_a_superuser(client, make_user):
    superuser = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True))

    response = client.post(
        reverse("admin:accounts_user_change", args=[superuser.pk]),
        user_form(superuser, email="aanvaller@example.org"),
    )

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.email != "aanvaller@example.org"


def test_every_change_of_a_users_rights_is_in_the_trail(client, make_user, zwolle):
    from django.contrib.auth.models import Group

    from accounts.models import UserChange

    superuser = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    member = make_user(Role.QUALITY_TEAM, region=zwolle)
    council = Group.objects.get_or_create(name=Role.REGIONAL_COUNCIL)[0]
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        user_form(member, groups=[council.pk], is_staff="on", is_active=""),
    )

    assert response.status_code == 302
    changes = {
        change.field: (change.before, change.after, change.by)
        for change in UserChange.objects.filter(user=member)
    }
    assert changes == {
        "roles": ("quality_team", "regional_council", superuser),
        "is_staff": ("False", "True", superuser),
        "is_active": ("True", "False", superuser),
    }
    trail = client.get(reverse("admin:accounts_userchange_changelist"))
    assert trail.status_code == 200
    assert len(trail.context["cl"].result_list) == 3
    assert not trail.context["has_add_permission"]


def test_a_two_factor_device_set_up_is_in_the_trail(client, make_user, zwolle, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import UserChange

    settings.OTP_REQUIRED = True
    council = make_user(Role.REGIONAL_COUNCIL, region=zwolle)
    client.force_login(council)
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=council)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"

    client.post(reverse("accounts:two_factor_setup"), {"token": code})

    change = UserChange.objects.get(user=council)
    assert (change.field, change.before, change.after, change.by) == (
        "two_factor_device",
        "",
        "Authenticator-app",
        council,
    )


def test_the_users_changelist_shows_as_many_users_a_page_as_the_apps_lists(client, make_user):
    superuser = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    UserFactory.create_batch(listing.PAGE_SIZE + 5)
    client.force_login(superuser)

    response = client.get(reverse("admin:accounts_user_changelist"))

    changelist = response.context["cl"]
    assert changelist.result_count == listing.PAGE_SIZE + 6
    assert len(changelist.result_list) == listing.PAGE_SIZE
