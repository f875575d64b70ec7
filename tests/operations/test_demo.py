from collections import Counter

import pytest
from django.core.management import call_command

from accounts.models import User
from hap_contracting.billing.constants import InvoiceState
from hap_contracting.billing.models import AddressInvestigation, Claim, Invoice
from hap_contracting.core.roles import Role
from hap_contracting.organisations.models import Region
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest


@pytest.mark.django_db
def test_the_demo_has_a_login_per_role_per_region_and_requests_in_every_state():
    call_command("seed_demo", password="demo-wachtwoord-123")
    call_command("seed_demo", password="demo-wachtwoord-123")  # a second run changes nothing

    states = Counter(AdmissionRequest.objects.values_list("state", flat=True))
    assert set(states) == set(RequestState.values)
    # Fifteen locations' requests, plus the renewal the daily job opened for the Zwolle contract.
    assert sum(states.values()) == 16
    renewal = AdmissionRequest.objects.get(kind=RequestKind.RENEWAL)
    assert renewal.renews_contract.location.region.slug == "zwolle"
    assert Claim.objects.count() == 5
    assert Invoice.objects.filter(state=InvoiceState.DRAFT).count() == 2
    assert AddressInvestigation.objects.get().postcode == "7701 AA"
    assert set(Region.objects.values_list("name", flat=True)) == {
        "Hardenberg",
        "Zwolle",
        "Flevoland",
    }
    for region in Region.objects.all():
        for role in (
            Role.SECRETARIAT,
            Role.LOCATION_MANAGER,
            Role.PROGRAMME_MANAGER,
            Role.QUALITY_TEAM,
            Role.REGIONAL_COUNCIL,
        ):
            assert User.objects.filter(region=region, groups__name=role).count() == 1
    assert User.objects.get(username="regioraad.zwolle").check_password("demo-wachtwoord-123")


@pytest.mark.django_db
def test_every_demo_login_can_open_its_pages(client):
    call_command("seed_demo", password="demo-wachtwoord-123")
    requests = list(AdmissionRequest.objects.all())

    for user in User.objects.all():
        client.force_login(user)
        assert client.get("/").status_code == 200, user
        assert client.get("/aanvragen/").status_code == 200, user
        for request in requests:
            expected = (
                200
                if user.sees_all_regions or user.region_id == request.location.region_id
                else 404
            )
            assert client.get(f"/aanvragen/{request.pk}/").status_code == expected, (user, request)
        if user.is_staff:
            assert client.get("/admin/procedure/admissionrequest/").status_code == 200, user
            visible = [
                r
                for r in requests
                if user.sees_all_regions
                or user.is_superuser
                or user.region_id == r.location.region_id
            ]
            for request in visible:
                url = f"/admin/procedure/admissionrequest/{request.pk}/change/"
                assert client.get(url).status_code == 200, (user, request)
        for request in requests:
            token_page = client.get(f"/status/{request.public_token}/")
            assert token_page.status_code == 200
