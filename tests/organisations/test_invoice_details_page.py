"""Finance keeps an organisation's invoice details in the app, as administrators do in the admin:
through the same service (``care_organisation_save``), so the postcode is written as 1234 AB, the
address is whole or not at all, a wrong value is named on its field in Dutch and nothing is
saved. The list shows whose details are missing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.organisations.models import CareOrganisation
from tests.lists import assert_sorts_by, listed
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("organisations:organisation_list")

FIELDS = (
    "invoice_address",
    "invoice_postcode",
    "invoice_city",
    "invoice_attention",
    "invoice_reference",
    "invoice_email",
)


def details_url(organisation) -> str:
    return reverse("organisations:organisation_invoice_details", args=[organisation.pk])


def stored(organisation) -> dict:
    organisation = CareOrganisation.objects.get(pk=organisation.pk)
    return {name: getattr(organisation, name) for name in FIELDS}


def form(**overrides) -> dict:
    return {
        "invoice_address": "Postbus 12",
        "invoice_postcode": "7731ck",
        "invoice_city": "Ommen",
        "invoice_attention": "Crediteuren",
        "invoice_reference": "PO 4711",
        "invoice_email": "facturen@vecht.example",
        **overrides,
    }


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def organisation():
    return CareOrganisationFactory(
        name="Zorggroep Vecht",
        invoice_address="Markt 1",
        invoice_postcode="7731 AA",
        invoice_city="Ommen",
        invoice_email="oud@vecht.example",
    )


def test_finance_saves_the_invoice_details_with_the_postcode_written_as_1234_ab(
    client, finance, organisation
):
    client.force_login(finance)

    response = client.post(details_url(organisation), form())

    assert response.status_code == 302
    assert response.url == LIST
    assert stored(organisation) == {
        "invoice_address": "Postbus 12",
        "invoice_postcode": "7731 CK",
        "invoice_city": "Ommen",
        "invoice_attention": "Crediteuren",
        "invoice_reference": "PO 4711",
        "invoice_email": "facturen@vecht.example",
    }
    message = str(list(response.wsgi_request._messages)[0])
    assert message.startswith("De factuurgegevens van Zorggroep Vecht zijn opgeslagen.")


def test_the_form_shows_the_stored_details(client, finance, organisation):
    client.force_login(finance)

    page = client.get(details_url(organisation)).content.decode()

    assert 'value="Markt 1"' in page
    assert 'value="oud@vecht.example"' in page
    assert "(optioneel)" in page


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
        ({"invoice_email": "geen-adres"}, "invoice_email", "Voer een geldig e-mailadres in."),
    ],
)
def test_a_wrong_value_is_named_on_its_field_and_nothing_is_saved(
    client, finance, organisation, overrides, field, message
):
    client.force_login(finance)
    before = stored(organisation)

    response = client.post(details_url(organisation), form(**overrides))

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    page = response.content.decode()
    assert message in page
    # The NL Design System error summary on top links to the field.
    assert f'href="#id_{field}"' in page
    assert stored(organisation) == before


def test_all_three_address_fields_may_be_emptied_together(client, finance, organisation):
    client.force_login(finance)

    client.post(
        details_url(organisation), form(invoice_address="", invoice_postcode="", invoice_city="")
    )

    assert stored(organisation)["invoice_address"] == ""


@pytest.mark.parametrize("role", [Role.LOCATION_MANAGER, Role.SECRETARIAT, Role.QUALITY_TEAM])
def test_other_roles_may_not_keep_invoice_details(client, make_user, zwolle, organisation, role):
    client.force_login(make_user(role, region=zwolle))
    before = stored(organisation)

    assert client.get(LIST).status_code == 403
    assert client.post(details_url(organisation), form()).status_code == 403
    assert stored(organisation) == before


def test_an_administrator_keeps_them_too(client, make_user, organisation):
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True))

    assert client.post(details_url(organisation), form()).status_code == 302
    assert stored(organisation)["invoice_postcode"] == "7731 CK"


def test_after_saving_finance_returns_to_the_invoice_it_came_from(client, finance, organisation):
    client.force_login(finance)

    response = client.post(details_url(organisation) + "?next=/facturen/7/", form())

    assert response.url == "/facturen/7/"


def test_a_next_address_elsewhere_is_not_followed(client, finance, organisation):
    client.force_login(finance)

    response = client.post(details_url(organisation) + "?next=https://evil.example/", form())

    assert response.url == LIST


def test_an_unknown_organisation_is_not_found(client, finance):
    client.force_login(finance)

    unknown = reverse("organisations:organisation_invoice_details", args=[999])

    assert client.get(unknown).status_code == 404


def test_the_list_shows_whose_invoice_details_are_incomplete(client, finance, organisation):
    without_email = CareOrganisationFactory(
        name="Zorggroep Noord",
        invoice_address="Dorp 2",
        invoice_postcode="8011 AB",
        invoice_city="Zwolle",
        invoice_email="",
    )
    without_address = CareOrganisationFactory(
        name="Zorggroep Zuid", invoice_address="", invoice_postcode="", invoice_city=""
    )
    client.force_login(finance)

    incomplete = listed(client, LIST, incomplete="on")

    assert {item.pk for item in incomplete} == {without_email.pk, without_address.pk}
    assert {item.pk for item in listed(client, LIST)} >= {organisation.pk, without_email.pk}
    assert [item.pk for item in listed(client, LIST, q="Noord")] == [without_email.pk]


def test_the_list_sorts_by_its_columns(client, finance):
    for name, city, locations in [("Beta", "Kampen", 2), ("Alfa", "Zwolle", 0), ("Gamma", "", 1)]:
        organisation = CareOrganisationFactory(
            name=name,
            invoice_address="Dorp 1" if city else "",
            invoice_postcode="8011 AB" if city else "",
            invoice_city=city,
        )
        CareLocationFactory.create_batch(locations, organisation=organisation)
    client.force_login(finance)

    assert_sorts_by(client, LIST, "name", lambda item: item.name)
    assert_sorts_by(client, LIST, "city", lambda item: item.invoice_city or None)
    assert_sorts_by(client, LIST, "locations", lambda item: item.location_count)


def test_the_list_runs_the_same_queries_for_few_and_many_organisations(
    client, finance, django_assert_max_num_queries
):
    client.force_login(finance)
    CareOrganisationFactory()
    client.get(LIST)  # the menu's work count cached
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    # Read now: the next request empties the connection's query log.
    few_queries = len(few.captured_queries)
    assert few_queries <= 8
    for organisation in CareOrganisationFactory.create_batch(30):
        CareLocationFactory(organisation=organisation)
    client.get(LIST)
    with django_assert_max_num_queries(few_queries):
        client.get(LIST)


def test_the_invoice_page_links_to_the_organisation_s_invoice_details(client, finance):
    import datetime

    from hap_contracting.billing.models import Invoice

    organisation = CareOrganisationFactory(invoice_email="facturen@vecht.example")
    invoice = Invoice.objects.create(organisation=organisation, period=datetime.date(2026, 2, 1))
    client.force_login(finance)
    invoice_page = reverse("billing:invoice_detail", args=[invoice.pk])

    page = client.get(invoice_page).content.decode()

    assert f'href="{details_url(organisation)}?next={invoice_page}"' in page
    assert "facturen@vecht.example" in page
