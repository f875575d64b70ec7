"""An organisation's invoice address, attention line and own reference, kept in the admin: the
postcode written as 1234 AB, the address whole or not at all; a wrong value is named on its
field in Dutch and nothing is saved."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.organisations.models import CareOrganisation
from tests.organisations.factories import CareOrganisationFactory

ADD = "admin:organisations_careorganisation_add"
CHANGE = "admin:organisations_careorganisation_change"


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True)


def form(**overrides) -> dict:
    return {
        "name": "Zorggroep Vecht",
        "kvk_number": "12345678",
        "agb_code": "",
        "organisation_type": "wlz_institution",
        "contact_email": "",
        "contact_phone": "",
        "invoice_address": "Postbus 12",
        "invoice_postcode": "7731ck",
        "invoice_city": "Ommen",
        "invoice_attention": "Crediteuren",
        "invoice_reference": "PO 4711",
        "invoice_email": "facturen@vecht.example",
        **overrides,
    }


def test_the_invoice_address_is_saved_with_the_postcode_written_as_1234_ab(client, administrator):
    client.force_login(administrator)

    response = client.post(reverse(ADD), form())

    assert response.status_code == 302
    organisation = CareOrganisation.objects.get()
    assert (organisation.invoice_postcode, organisation.invoice_reference) == ("7731 CK", "PO 4711")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"invoice_postcode": "0731 CK"},
            "invoice_postcode",
            "Vul een Nederlandse postcode in, zoals 8011 AB.",
        ),
        (
            {"invoice_city": ""},
            "invoice_city",
            "Vul het hele factuuradres in: adres, postcode en plaats.",
        ),
        ({"kvk_number": "1234567"}, "kvk_number", "Een KvK-nummer bestaat uit precies 8 cijfers."),
    ],
)
def test_a_wrong_invoice_address_is_named_on_its_field_and_nothing_is_saved(
    client, administrator, overrides, field, message
):
    organisation = CareOrganisationFactory(kvk_number="87654321", invoice_address="")
    client.force_login(administrator)

    response = client.post(
        reverse(CHANGE, args=[organisation.pk]), form(**{"kvk_number": "87654321", **overrides})
    )

    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    organisation.refresh_from_db()
    assert (organisation.name, organisation.invoice_address) != ("Zorggroep Vecht", "Postbus 12")
