"""The demo data tells the procedure's story over the past months: requests received,
pre-assessed, advised and decided on their own days through the real services, with the history,
the advices and the dates on the requests, contracts and invoices agreeing."""

import datetime
from collections import Counter, defaultdict

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from checklist.models import Assessment
from hap_contracting.billing import selectors as billing_selectors
from hap_contracting.billing.constants import DeliveryStatus, InvoiceState, PaymentState
from hap_contracting.billing.documents import invoice_ubl_bytes
from hap_contracting.billing.models import (
    AddressInvestigation,
    Claim,
    Invoice,
    InvoiceDelivery,
    Payment,
)
from hap_contracting.billing.tasks import deliver_invoice
from hap_contracting.contracts.constants import ContractEventKind
from hap_contracting.contracts.models import Contract, ContractEvent, renewal_opens_on
from hap_contracting.contracts.selectors import lapsed_unrenewed
from hap_contracting.core import chain
from hap_contracting.core.roles import Role
from hap_contracting.dashboard import selectors as dashboard
from hap_contracting.organisations.constants import WkkgzSituation
from hap_contracting.organisations.models import CareLocation, Region
from hap_contracting.procedure.constants import OPEN_STATES, RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Advice, TransitionLog
from tests.billing.si_ubl import failed

PASSWORD = "demo-wachtwoord-123"
S = RequestState


@pytest.fixture
def demo(db):
    call_command("seed_demo", password=PASSWORD)


def _history() -> dict[int, list[TransitionLog]]:
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    logs = defaultdict(list)
    for log in TransitionLog.objects.filter(content_type=content_type).order_by("pk"):
        logs[log.object_id].append(log)
    return logs


def _days_in_state(request) -> float:
    return (timezone.now() - request.state_entered_at).total_seconds() / 86400


def test_the_demo_has_a_login_per_role_per_region_and_requests_in_every_state(demo):
    states = Counter(AdmissionRequest.objects.values_list("state", flat=True))
    assert set(states) == set(RequestState.values)
    # Fifteen locations' requests, plus the renewal the daily job opened for the Zwolle contract.
    assert sum(states.values()) == 16
    renewal = AdmissionRequest.objects.get(kind=RequestKind.RENEWAL)
    assert renewal.renews_contract.location.region.slug == "zwolle"
    # Three months of refused claims; the second month's file holds an unknown address.
    assert Claim.objects.count() == 13
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
    assert User.objects.get(username="regioraad.zwolle").check_password(PASSWORD)


def test_the_demo_has_two_finance_logins_and_the_one_who_made_the_invoices_did_not_approve(demo):
    finance = User.objects.filter(groups__name=Role.FINANCE)
    assert set(finance.values_list("username", flat=True)) == {"financien", "financien.controle"}
    assert all(user.check_password(PASSWORD) for user in finance)
    approvers = set(
        Invoice.objects.exclude(approved_by=None).values_list("approved_by__username", flat=True)
    )
    uploaders = set(Claim.objects.values_list("claim_import__uploaded_by__username", flat=True))
    assert approvers == {"financien.controle"}
    assert uploaders == {"financien"}
    makers = set(Invoice.objects.values_list("created_by__username", flat=True))
    assert makers == {"financien"}


def test_the_history_lies_in_the_past_in_order_and_agrees_with_the_dates(demo):
    now = timezone.now()
    history = _history()
    advices = defaultdict(list)
    for advice in Advice.objects.order_by("pk"):
        advices[advice.admission_request_id].append(advice)

    for request in AdmissionRequest.objects.all():
        logs = history[request.pk]
        stamps = [log.timestamp for log in logs]
        assert stamps == sorted(stamps), request
        assert all(stamp < now for stamp in stamps), request
        assert request.received_on <= timezone.localdate(request.created_at) < now.date()
        assert all(request.created_at < stamp for stamp in stamps), request
        changes = [log for log in logs if log.source_state != log.state]
        entered = changes[-1].timestamp if changes else request.created_at
        assert request.state_entered_at == entered
        if request.state != S.RECEIVED:
            assert changes[-1].state == request.state
        # Each advice is dated on the day of its step, recorded with it.
        for advice in advices[request.pk]:
            assert advice.decided_on == timezone.localdate(advice.recorded_at)
            assert advice.recorded_at in stamps, advice
        by_transition = {log.transition: log.timestamp for log in logs}
        if request.outcome_recorded_at is not None:
            assert request.outcome_recorded_at == by_transition["record_outcome"]
        if request.completed_on is not None:
            completed_at = by_transition["complete_contracting"]
            assert request.completed_on == timezone.localdate(completed_at)
            contract = Contract.objects.get(admission_request=request)
            assert contract.created_at == completed_at
            assert contract.events.get(kind=ContractEventKind.CREATED).at == completed_at
            assert contract.start_date > request.completed_on
        for assessment in Assessment.objects.filter(admission_request=request):
            forwarded = by_transition["forward_to_location_manager"]
            assert forwarded < assessment.created_at < assessment.submitted_at < now
    # Waiting times are real: the requests did not all happen a moment ago.
    assert min(_days_in_state(r) for r in AdmissionRequest.objects.all()) >= 1


def test_a_request_waits_with_the_quality_team_past_four_weeks(demo):
    waiting = AdmissionRequest.objects.filter(state=S.QUALITY_REVIEW)
    assert max(_days_in_state(request) for request in waiting) > 28


def test_a_request_waits_with_the_council_past_six_weeks(demo):
    waiting = AdmissionRequest.objects.filter(state=S.COUNCIL_REVIEW)
    assert max(_days_in_state(request) for request in waiting) > 42


def test_a_contract_lapsed_without_a_renewal(demo):
    today = timezone.localdate()
    lapsed = Contract.objects.filter(
        lapsed_unrenewed(), end_date__lt=today, renewal_request__isnull=True
    ).get()
    assert lapsed.end_date > today - datetime.timedelta(days=90)
    assert lapsed.terminated_on is None


def test_a_contract_is_in_its_last_three_months_with_its_renewal_under_way(demo):
    today = timezone.localdate()
    ending = Contract.objects.get(
        end_date__gte=today,
        end_date__lte=today + relativedelta(months=3),
        terminated_on__isnull=True,
    )
    renewal = ending.renewal_request
    assert renewal.state in OPEN_STATES
    assert renewal.state != S.RECEIVED
    # Opened by the daily job on the day the renewal began, then taken step by step.
    assert renewal.received_on == renewal_opens_on(ending.end_date)
    assert renewal.created_by is None
    assert len(_history()[renewal.pk]) >= 2
    opened = ending.events.get(kind=ContractEventKind.RENEWAL_OPENED)
    assert timezone.localdate(opened.at) == renewal.received_on == renewal.created_at.date()


def test_a_regularisation_is_in_its_grace_period(demo):
    today = timezone.localdate()
    in_grace = AdmissionRequest.objects.filter(
        kind=RequestKind.REGULARISATION, state__in=OPEN_STATES, grace_ends_on__gte=today
    )
    assert in_grace.exists()
    assert all(request.received_on < today - datetime.timedelta(days=14) for request in in_grace)


def test_invoices_are_in_every_state_billing_has(demo):
    states = Counter(Invoice.objects.values_list("state", flat=True))
    assert set(states) == set(InvoiceState.values) == {"draft", "approved", "sent"}
    for invoice in Invoice.objects.exclude(state=InvoiceState.DRAFT):
        if invoice.kind == "credit_note":
            # Made when the correction was found, today, and approved by the other user.
            assert invoice.created_at <= invoice.approved_at
            continue
        # Imported and made early in the month after the one billed, approved and sent later.
        assert invoice.period < invoice.created_at.date() < invoice.approved_at.date()
        assert invoice.number.startswith(str(invoice.approved_at.year))
        if invoice.state == InvoiceState.SENT:
            assert invoice.approved_at < invoice.sent_at < timezone.now()


def test_the_demos_sent_invoices_were_e_mailed_through_the_service(demo):
    """Each sent invoice has its e-mail recorded, at the moment it was sent, to its
    organisation's invoice address; its task (run after the seed commits; here by hand, as the
    test's transaction never commits) e-mails both documents (in the demo to the console)."""
    sent = Invoice.objects.filter(state=InvoiceState.SENT).select_related("organisation")
    assert sent
    for invoice in sent:
        [delivery] = InvoiceDelivery.objects.filter(invoice=invoice)
        assert delivery.to == invoice.organisation.invoice_email
        assert delivery.sent_at == invoice.sent_at
        assert deliver_invoice(delivery.pk) == DeliveryStatus.SENT
    assert len(mail.outbox) == len(sent)
    assert all(len(message.attachments) == 2 for message in mail.outbox)


def test_the_demos_approved_invoices_are_valid_si_ubl_e_invoices(demo, si_ubl_rules):
    """The demo's sender and invoice addresses make e-invoices that pass the official rules,
    dated at approval with the payment term after it."""
    approved = Invoice.objects.exclude(state=InvoiceState.DRAFT).select_related(
        "organisation", "corrects"
    )
    assert approved
    for invoice in approved:
        assert invoice.invoice_date == timezone.localdate(invoice.approved_at)
        if invoice.kind == "invoice":  # a credit note is paid back, not due
            assert invoice.due_date == invoice.invoice_date + datetime.timedelta(days=30)
        report = si_ubl_rules(invoice_ubl_bytes(invoice))
        assert failed(report, "fatal") == [], invoice.number


def test_one_sent_invoice_is_paid_in_full_and_one_in_part(demo):
    """Recorded by hand after sending, through the service (payments are history)."""
    states = Counter(
        billing_selectors.with_payment_state(
            Invoice.objects.filter(state=InvoiceState.SENT), today=timezone.localdate()
        ).values_list("payment_state", flat=True)
    )
    assert states[PaymentState.PAID] == 1
    assert states[PaymentState.PARTLY_PAID] == 1
    for payment in Payment.objects.select_related("invoice"):
        assert payment.invoice.sent_at < payment.recorded_at < timezone.now()
        assert payment.invoice.sent_at.date() <= payment.paid_on


def test_an_address_investigation_is_open(demo):
    investigation = AddressInvestigation.objects.get(resolved_at__isnull=True)
    assert investigation.postcode == "7701 AA"
    assert investigation.opened_on < timezone.localdate()


def test_the_dashboard_medians_are_real_numbers(demo):
    finance = User.objects.get(username="financien")
    rows = dashboard.requests_per_step(finance, None, now=timezone.now())
    assert all(row.median_days and row.median_days > 0 for row in rows), rows
    for region in Region.objects.all():
        rows = dashboard.requests_per_step(finance, region, now=timezone.now())
        assert sum(row.measured for row in rows) >= 3, region


def test_every_region_has_several_requests_with_several_steps(demo):
    history = _history()
    for region in Region.objects.all():
        requests = AdmissionRequest.objects.filter(location__region=region)
        stepped = [r for r in requests if len(history[r.pk]) >= 2]
        assert len(stepped) >= 3, region


def test_seeding_again_changes_nothing_but_the_logins(demo):
    """The second run finds the requests and only refreshes the logins (a new password)."""
    models = (AdmissionRequest, TransitionLog, Advice, Contract, ContractEvent, Invoice, Claim)
    before = {model: model.objects.count() for model in models}
    entered = dict(AdmissionRequest.objects.values_list("pk", "state_entered_at"))

    call_command("seed_demo", password="een-ander-wachtwoord")

    assert {model: model.objects.count() for model in models} == before
    assert dict(AdmissionRequest.objects.values_list("pk", "state_entered_at")) == entered
    assert User.objects.get(username="financien.controle").check_password("een-ander-wachtwoord")


@pytest.mark.postgres
def test_the_demo_seeds_on_postgresql_with_the_history_append_only_and_chained(demo):
    """The history tables refuse UPDATE there, so the demo dates their rows as it writes them;
    the hash chains over those rows hold."""
    assert "django_fsm_log_statelog" in chain.protected_tables()
    _heads, breaks = chain.verify_all()
    assert breaks == []
    assert TransitionLog.objects.filter(timestamp__lt=timezone.now() - relativedelta(months=3))
    assert Invoice.objects.filter(state=InvoiceState.SENT).exists()


def test_every_demo_login_can_open_its_pages(client, demo):
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


def test_the_demo_has_a_location_in_every_wkkgz_situation(demo):
    situations = set(CareLocation.objects.values_list("wkkgz_situation", flat=True))

    assert situations == set(WkkgzSituation.values)
    recorded_later = CareLocation.objects.get(name="Kleinschalig Wonen Dalfsen")
    change = recorded_later.classification_changes.latest("pk")
    assert (change.old_situation, change.new_situation) == (
        WkkgzSituation.UNKNOWN,
        WkkgzSituation.HOUSING_WITH_CARE,
    )


def test_requests_are_over_their_steps_norm_and_one_deadline_was_extended(demo):
    from hap_contracting.procedure.constants import ClockEventKind
    from hap_contracting.procedure.models import ClockEvent

    administrator = User.objects.filter(groups__name=Role.ADMINISTRATOR).first()
    over = dashboard.requests_over_norm(administrator, None, today=timezone.localdate())

    assert {S.QUALITY_REVIEW, S.COUNCIL_REVIEW} <= {row.state for row in over}
    assert ClockEvent.objects.filter(kind=ClockEventKind.EXTENDED).count() == 1
    # The send-back stopped the quality team's clock; the history says so.
    assert ClockEvent.objects.filter(kind=ClockEventKind.SUSPENDED).exists()


def test_the_demos_triage_system_has_synchronised_the_list(demo):
    from hap_contracting.triage.models import TriageApiClient
    from hap_contracting.triage.selectors import triage_list_head

    client = TriageApiClient.objects.get()

    assert client.last_synced_at is not None
    assert client.last_synced_version == triage_list_head()["version"] > 0


def test_the_demo_holds_an_invoice_in_every_state(demo):
    from hap_contracting.billing.constants import InvoiceKind
    from hap_contracting.billing.models import PaymentReminder

    invoices = list(
        billing_selectors.with_payment_state(Invoice.objects.all(), today=timezone.localdate())
    )

    assert {invoice.state for invoice in invoices} == set(InvoiceState.values)
    payment_states = {invoice.payment_state for invoice in invoices}
    assert {PaymentState.OPEN, PaymentState.PAID, PaymentState.PARTLY_PAID} <= payment_states
    assert PaymentState.CREDITED in payment_states
    assert any(invoice.is_overdue for invoice in invoices)
    assert any(
        invoice.kind == InvoiceKind.CREDIT_NOTE and invoice.state == InvoiceState.APPROVED
        for invoice in invoices
    )
    assert PaymentReminder.objects.filter(kind="first", sent_at__isnull=False).exists()
