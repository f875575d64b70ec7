"""The app's own pages: scoped to the region, thin over the services, constant queries."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.organisations.models import CareLocation
from hap_contracting.procedure.constants import RequestState

S = RequestState
pytestmark = pytest.mark.django_db


def test_a_location_is_registered_in_the_region_of_its_postcode(client, staff, zwolle):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("organisations:location_create"),
        {
            "name": "De Nieuwe Hof",
            "street": "Hofweg",
            "house_number": 3,
            "house_number_addition": "a",
            "postcode": "8012ab",
            "city": "Zwolle",
            "number_of_residents": 12,
            "wlz_treatment_admission": "on",
        },
    )

    location = CareLocation.objects.get()
    assert response.status_code == 302
    assert (location.postcode, location.house_number_addition) == ("8012 AB", "A")
    assert location.region == zwolle
    assert location.hap_post == zwolle.posts.get()


@pytest.mark.parametrize(
    ("postcode", "message"),
    [
        ("12345", "postcode"),
        ("0123 AB", "postcode"),
        ("8012 SS", "postcode"),
        ("9999 ZZ", "buiten"),
    ],
)
def test_a_bad_postcode_is_refused_on_the_postcode_field(client, staff, postcode, message):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("organisations:location_create"),
        {
            "name": "De Nieuwe Hof",
            "street": "Hofweg",
            "house_number": 3,
            "postcode": postcode,
            "city": "Zwolle",
            "number_of_residents": 12,
        },
    )

    assert response.status_code == 200
    assert message in str(response.context["form"].errors["postcode"]).lower()
    assert not CareLocation.objects.exists()
