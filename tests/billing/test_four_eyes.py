"""Four eyes on invoices: the finance user who made a month's invoices (or a credit note) does
not approve them; another finance user does, one at a time or several at once from the list,
after a confirmation that lists them with their totals, all or none."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from hap_contracting.billing.constants import InvoiceKind, InvoiceState
from hap_contracting.billing.models import AdministrativeCost, Invoice, InvoiceNumberSequence
from hap_contracting.billing.services import invoices as billing
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.triage.models import TriageFilterEntry
from tests.billing.factories import ClaimFactory, ClaimImportFactory
from tests.organisations.factories import CareLocationFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_sender")]

FOUR_EYES = "U hebt deze factuur gemaakt"


@pytest.fixture
def last_month():
    today = timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@pytest.fixture
def maker(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def checker(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def drafts(zwolle, maker, last_month):
    """Four organisations' drafts of last month, made by ``maker``."""
    today = timezone.localdate()
    AdministrativeCost.objects.create(
        amount=Decimal("25.00"), valid_from=today - relativedelta(years=2)
    )
    insurer_tariffs(valid_from=today - relativedelta(years=2))
    claim_import = ClaimImportFactory()
    for number in range(4):
        location = CareLocationFactory(
            hap_post=zwolle.posts.get(),
            postcode="8011 AB",
            house_number=200 + number,
            wlz_treatment_admission=True,
        )
        ClaimFactory(location=location, claim_import=claim_import)
    billing.invoices_generate(by=maker, period=last_month)
    return list(Invoice.objects.order_by("pk"))


def unchanged(invoices) -> bool:
    return (
        all(
            (invoice.state, invoice.number, invoice.approved_by_id)
            == (InvoiceState.DRAFT, "", None)
            for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices])
        )
        and not InvoiceNumberSequence.objects.filter(last_number__gt=0).exists()
        and not TriageFilterEntry.objects.exists()
        and not StateLog.objects.filter(transition="approve").exists()
    )


# --- The rule, in the service ---------------------------------------------------------------


def test_who_made_the_invoices_is_recorded(drafts, maker):
    assert {invoice.created_by for invoice in drafts} == {maker}


def test_who_made_an_invoice_cannot_approve_it_and_nothing_changes(drafts, maker):
    with pytest.raises(DomainError) as refused:
        billing.invoice_approve(invoice=drafts[0], by=maker)

    assert FOUR_EYES in refused.value.message
    assert "vier ogen" in refused.value.message
    assert unchanged(drafts)


def test_another_finance_user_approves_and_the_step_is_in_the_history(drafts, checker):
    approved = billing.invoice_approve(invoice=drafts[0], by=checker)

    assert (approved.state, approved.approved_by) == (InvoiceState.APPROVED, checker)
    log = StateLog.objects.get(transition="approve")
    assert (log.object_id, log.by, log.source_state, log.state) == (
        approved.pk,
        checker,
        InvoiceState.DRAFT,
        InvoiceState.APPROVED,
    )


def test_who_makes_the_month_again_made_its_drafts(drafts, maker, checker, last_month):
    billing.invoices_generate(by=checker, period=last_month)

    with pytest.raises(DomainError):
        billing.invoice_approve(invoice=drafts[0], by=checker)
    assert billing.invoice_approve(invoice=drafts[0], by=maker).state == InvoiceState.APPROVED


def test_who_made_a_credit_note_cannot_approve_it(drafts, maker, checker):
    invoice = billing.invoice_send(
        invoice=billing.invoice_approve(invoice=drafts[0], by=checker), by=checker
    )
    credit = billing.invoice_credit(invoice=invoice, by=checker, reason="Verkeerd tarief")

    with pytest.raises(DomainError) as refused:
        billing.invoice_approve(invoice=credit, by=checker)

    assert FOUR_EYES in refused.value.message
    assert Invoice.objects.get(pk=credit.pk).state == InvoiceState.DRAFT
    assert billing.invoice_approve(invoice=credit, by=maker).kind == InvoiceKind.CREDIT_NOTE


def test_several_are_approved_at_once_with_consecutive_numbers(drafts, checker):
    approved = billing.invoices_approve(invoice_ids=[i.pk for i in drafts], by=checker)

    year = timezone.localdate().year
    assert [invoice.number for invoice in approved] == [f"{year}-0000{n}" for n in (1, 2, 3, 4)]
    assert TriageFilterEntry.objects.count() == 4
    assert StateLog.objects.filter(transition="approve", by=checker).count() == 4


def test_approving_several_is_all_or_none(drafts, maker, checker, last_month):
    mine = drafts[1]
    Invoice.objects.filter(pk=mine.pk).update(created_by=checker)

    with pytest.raises(DomainError) as refused:
        billing.invoices_approve(invoice_ids=[i.pk for i in drafts], by=checker)

    assert "Er is niets goedgekeurd" in refused.value.message
    assert mine.organisation.name in refused.value.message
    assert unchanged(drafts)


def test_approving_many_takes_the_same_number_of_queries_as_approving_one(
    drafts, checker, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    billing.invoices_approve(invoice_ids=[drafts[0].pk], by=checker)  # the year's sequence made
    with CaptureQueriesContext(connection) as one:
        billing.invoices_approve(invoice_ids=[drafts[1].pk], by=checker)
    with django_assert_num_queries(len(one.captured_queries)):
        billing.invoices_approve(invoice_ids=[drafts[2].pk, drafts[3].pk], by=checker)


def test_the_count_of_drafts_to_approve_follows_the_same_rule(drafts, maker, checker):
    from hap_contracting.billing.selectors import may_approve, not_made_by

    Invoice.objects.filter(pk=drafts[0].pk).update(created_by=checker)
    Invoice.objects.filter(pk=drafts[1].pk).update(created_by=None)
    for user in (maker, checker):
        counted = set(Invoice.objects.filter(not_made_by(user)).values_list("pk", flat=True))
        offered = {invoice.pk for invoice in Invoice.objects.all() if may_approve(invoice, user)}
        assert counted == offered


# --- The pages ------------------------------------------------------------------------------


def test_the_invoice_page_offers_approval_to_the_other_finance_user_only(
    client, drafts, maker, checker
):
    url = reverse("billing:invoice_detail", args=[drafts[0].pk])
    client.force_login(maker)
    own = client.get(url)
    refused = client.post(url, {"form": "approve", "confirmed": "1"})
    client.force_login(checker)
    other = client.get(url)

    assert "approve" not in own.context["forms"]
    assert 'data-testid="made-by"' in own.content.decode()
    assert refused.status_code == 200
    assert FOUR_EYES in refused.content.decode()
    assert unchanged(drafts)
    assert "approve" in other.context["forms"]


def test_the_list_offers_only_drafts_the_user_may_approve(client, drafts, maker, checker):
    client.force_login(maker)
    own = client.get(reverse("billing:invoice_list")).content.decode()
    client.force_login(checker)
    other = client.get(reverse("billing:invoice_list")).content.decode()

    assert 'form="approve-many"' not in own and 'data-testid="approve-many"' not in own
    assert other.count('form="approve-many"') == 4


def test_approving_several_from_the_list_is_confirmed_with_their_totals(
    client, drafts, checker, django_assert_max_num_queries
):
    client.force_login(checker)
    url = reverse("billing:invoice_approve_many")
    chosen = {"invoices": [drafts[0].pk, drafts[2].pk]}

    with django_assert_max_num_queries(8):
        asked = client.post(url, chosen)
    nothing_yet = unchanged(drafts)
    back = client.post(url, {**chosen, "back": "1"})
    confirmed = client.post(url, {**chosen, "confirmed": "1"}, follow=True)

    page = asked.content.decode()
    assert asked.status_code == 200
    assert drafts[0].organisation.name in page and drafts[2].organisation.name in page
    assert drafts[1].organisation.name not in page
    assert "€ 182,20" in page and "€ 364,40" in page  # each, and together
    assert nothing_yet
    assert back.status_code == 302 and back["Location"] == reverse("billing:invoice_list")
    states = dict(Invoice.objects.values_list("pk", "state"))
    assert states == {
        drafts[0].pk: InvoiceState.APPROVED,
        drafts[1].pk: InvoiceState.DRAFT,
        drafts[2].pk: InvoiceState.APPROVED,
        drafts[3].pk: InvoiceState.DRAFT,
    }
    said = " ".join(str(message) for message in confirmed.context["messages"])
    assert "2 facturen goedgekeurd" in said


def test_the_confirmation_page_takes_a_constant_number_of_queries(
    client, drafts, checker, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(checker)
    url = reverse("billing:invoice_approve_many")
    client.get(reverse("billing:invoice_list"))  # the session warmed up
    with CaptureQueriesContext(connection) as one:
        client.post(url, {"invoices": [drafts[0].pk]})
    with django_assert_num_queries(len(one.captured_queries)):
        client.post(url, {"invoices": [invoice.pk for invoice in drafts]})


def test_a_refused_bulk_approval_says_why_and_approves_nothing(client, drafts, maker):
    client.force_login(maker)

    response = client.post(
        reverse("billing:invoice_approve_many"),
        {"invoices": [drafts[0].pk, drafts[1].pk], "confirmed": "1"},
        follow=True,
    )

    said = " ".join(str(message) for message in response.context["messages"])
    assert "Er is niets goedgekeurd" in said and FOUR_EYES in said
    assert unchanged(drafts)


def test_a_draft_approved_meanwhile_stops_the_bulk_approval(client, drafts, checker):
    billing.invoice_approve(invoice=drafts[0], by=checker)
    client.force_login(checker)

    response = client.post(
        reverse("billing:invoice_approve_many"),
        {"invoices": [drafts[0].pk, drafts[1].pk], "confirmed": "1"},
        follow=True,
    )

    said = " ".join(str(message) for message in response.context["messages"])
    assert "niet meer in concept" in said
    assert Invoice.objects.get(pk=drafts[1].pk).state == InvoiceState.DRAFT


def test_nothing_chosen_approves_nothing_and_says_so(client, drafts, checker):
    client.force_login(checker)

    response = client.post(reverse("billing:invoice_approve_many"), {}, follow=True)

    said = " ".join(str(message) for message in response.context["messages"])
    assert "Kies de conceptfacturen" in said
    assert unchanged(drafts)
