"""Demo data: regions, posts, a login per role per region, care locations and requests in every
state. Idempotent: a second run changes nothing. Amounts, names and addresses are fictitious."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Case, DateTimeField, Value, When
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from checklist.demo import complete_answers
from checklist.models import Assessment
from hap_contracting.billing.constants import InvoiceState
from hap_contracting.billing.models import (
    AddressInvestigation,
    AdministrativeCost,
    ClaimImport,
    Invoice,
)
from hap_contracting.billing.services.claims_import import claim_import_create, claim_import_run
from hap_contracting.billing.services.invoices import (
    invoice_approve,
    invoice_credit,
    invoice_send,
    invoices_generate,
)
from hap_contracting.billing.services.payment_reminders import (
    payment_reminders_schedule,
    payment_reminders_send_pending,
)
from hap_contracting.billing.services.payments import payment_record
from hap_contracting.billing.services.sender import invoice_sender_save
from hap_contracting.contracts.constants import ContractKind
from hap_contracting.contracts.models import Contract, renewal_opens_on
from hap_contracting.contracts.services.contracts import ContractTerms, contracting_complete
from hap_contracting.contracts.services.reminders import reminders_send_pending
from hap_contracting.contracts.services.renewals import renewals_open_due
from hap_contracting.core.money import money
from hap_contracting.core.roles import Role
from hap_contracting.operations.services import daily_job
from hap_contracting.organisations.models import CareOrganisation, Region, TargetGroup
from hap_contracting.organisations.selectors import post_for_postcode
from hap_contracting.organisations.services import (
    care_location_change,
    care_location_register,
    care_organisation_save,
)
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.services import admission as admission_services
from hap_contracting.procedure.services.deadlines import admission_request_extend_deadline
from hap_contracting.procedure.services.pre_assessment import (
    pre_assessment_start,
    pre_assessment_submit,
)
from hap_contracting.tariffs.models import Act, InsurerTariff
from hap_contracting.triage.selectors import triage_list_head
from hap_contracting.triage.services import (
    triage_api_client_create,
    triage_api_client_record_sync,
)

ROLE_USERNAMES = {
    Role.SECRETARIAT: ("secretariaat", "Sanne", "de Vries"),
    Role.LOCATION_MANAGER: ("locatiemanager", "Lotte", "Jansen"),
    Role.PROGRAMME_MANAGER: ("programmamanager", "Peter", "Bakker"),
    Role.QUALITY_TEAM: ("kwaliteitsteam", "Karin", "Visser"),
    Role.REGIONAL_COUNCIL: ("regioraad", "Ruud", "Smit"),
}
ORGANISATIONS = [
    ("Zorggroep De Vechtstreek (demo)", "71234567", "73730001", "wlz_institution"),
    ("Woonzorg IJsseldelta (demo)", "72345678", "73730002", "housing_with_care"),
    ("Stichting Kleinschalig Wonen Flevo (demo)", "73456789", "73730003", "housing_with_care"),
    ("Thuiszorg Salland (demo)", "74567890", "73730004", "housing_separate"),
    ("Ouderhuis PGB-initiatief Almere (demo)", "75678901", "", "pgb_initiative"),
]
# Where each organisation's invoices go (by KvK number): address, postcode, city, attention,
# their reference or order number.
INVOICE_ADDRESSES = {
    "71234567": ("Postbus 120", "7730 AC", "Ommen", "Crediteurenadministratie", "INK-2026-0417"),
    "72345678": ("Buitenkant 101", "8011 PM", "Zwolle", "", "Inkoop ANW-zorg"),
    "73456789": ("Postbus 3050", "1300 EB", "Almere", "Financiën", ""),
    "74567890": ("Molenweg 8", "7711 BT", "Nieuwleusen", "", "PO 88213"),
    "75678901": ("Stadhuisplein 1", "1315 HR", "Almere", "", ""),
}
# The cooperative as sender of its invoices, as an administrator enters it in the admin.
DEMO_INVOICE_SENDER = {
    "legal_name": "Huisartsenposten Medrie (demo)",
    "visiting_address": "Dokter Stolteweg 2",
    "visiting_postcode": "8025 AV",
    "visiting_city": "Zwolle",
    "postal_address": "Postbus 50",
    "postal_postcode": "8000 AB",
    "postal_city": "Zwolle",
    "kvk_number": "05012345",
    "vat_number": "NL123456782B01",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "contact_name": "Financiële administratie",
    "contact_email": "facturatie@demo.medrie.invalid",
    "contact_phone": "038 456 78 90",
}
# name, organisation index, street, number, addition, postcode, city, treatment admission,
# highest VV, residents, target group indexes
LOCATIONS = [
    ("De Ommer Hof", 0, "Hofstraat", 12, "", "7731 CK", "Ommen", True, 8, 48, [0, 1]),
    ("Het Vechthuis", 0, "Kanaalweg", 3, "A", "7772 AB", "Hardenberg", True, 7, 36, [0]),
    ("Woongroep De Esch", 1, "Eschweg", 45, "", "7701 GH", "Dedemsvaart", False, 5, 12, [0]),
    ("Villa Molenkamp", 3, "Molenweg", 8, "", "7711 BT", "Nieuwleusen", False, 4, 9, [1]),
    ("De IJsselhoeve", 1, "Buitenkant", 101, "", "8011 PM", "Zwolle", True, 9, 64, [0, 3]),
    ("Het Kampereiland", 1, "Oudestraat", 22, "B", "8261 CH", "Kampen", False, 6, 18, [0]),
    ("Zorgvilla Stadshagen", 3, "Rieteweg", 60, "", "8041 AL", "Zwolle", False, 5, 14, [0]),
    ("De Weerdhof", 0, "Weerdsingel", 2, "", "8021 DB", "Zwolle", True, 10, 80, [1, 4]),
    (
        "Kleinschalig Wonen Dalfsen",
        1,
        "Ruitenborghstraat",
        5,
        "",
        "8131 AG",
        "Wijhe",
        False,
        5,
        16,
        [2],
    ),
    ("Het Lelyhuis", 2, "Zuiderwagenplein", 7, "", "8224 AD", "Lelystad", True, 8, 40, [0, 3]),
    ("Woonzorg De Kogge", 2, "Koggeplein", 14, "", "8253 CP", "Dronten", False, 6, 20, [0]),
    ("Almeerderhout Zorgvilla", 4, "Stadhuisplein", 30, "", "1315 HT", "Almere", False, 7, 12, [0]),
    ("De Noordoosthoek", 2, "Lange Nering", 88, "", "8302 EG", "Emmeloord", True, 9, 52, [1]),
    ("Zeewolder Hofje", 2, "Baanbreker", 4, "", "3891 AB", "Zeewolde", False, 5, 10, [2]),
    ("Het Poortgebouw Almere", 2, "Grote Markt", 11, "2", "1315 JD", "Almere", True, 8, 44, [0, 4]),
]
# The facts of the Wkkgz question beside the treatment admission, per organisation type, so that
# the demo has a location in every Wkkgz situation (``organisations.classification``).
WKKGZ_FACTS = {
    "wlz_institution": {},
    "housing_with_care": {
        "housing_and_care": "combined_care_dominant",
        "pgb_without_zorgkantoor_contract": "no",
    },
    "housing_separate": {"housing_and_care": "separate", "pgb_without_zorgkantoor_contract": "no"},
    "pgb_initiative": {"pgb_without_zorgkantoor_contract": "yes"},
}
# Registered before its facts were known: still "not enough facts yet".
WKKGZ_FACTS_UNKNOWN = "Zeewolder Hofje"
# Registered with its facts unknown, recorded afterwards: its classification history shows it.
WKKGZ_FACTS_RECORDED_LATER = "Kleinschalig Wonen Dalfsen"
# Example insurer tariffs, labelled as such in the data: not the real agreed amounts.
DEMO_TARIFFS = {
    "CONSULT": Decimal("52.40"),
    "VISITE": Decimal("78.60"),
    "TELEFOON": Decimal("26.20"),
}
# Each location's request as it went, in days before today: received, then each step taken on
# the day given (in this order). The steps go through the services with their moment, so every
# rule holds and the history (django-fsm-log), the advices and the dates on the request agree.
# ``("contract", n)``: the step after which the request's contract ends n days from today
# (negative: ended), the days before it counted back from the contract's start (see
# ``_contract_timeline``).
SCENARIOS = [
    # Hardenberg. A regularisation in its grace period, sent back by the quality team.
    (40, [("forward", 38), ("checklist", 31), ("lm_positive", 30), ("send_back", 10)]),
    # Contracted a month ago: a running contract.
    (
        120,
        [
            ("forward", 117),
            ("checklist", 105),
            ("lm_positive", 104),
            ("qt_positive", 80),
            ("council_approve", 55),
            ("outcome", 48),
            ("complete", 30),
        ],
    ),
    # With the quality team for over eight weeks: past the four-week norm.
    (75, [("forward", 73), ("checklist", 61), ("lm_positive", 60)]),
    # Received last week, not yet forwarded.
    (6, []),
    # Zwolle. Approved, the location manager recorded the outcome: waiting for contracting.
    (
        150,
        [
            ("forward", 147),
            ("checklist", 134),
            ("lm_positive", 133),
            ("qt_positive", 110),
            ("council_approve", 85),
            ("outcome", 70),
        ],
    ),
    (62, [("forward", 60), ("checklist", 49), ("lm_positive", 48), ("qt_negative", 30)]),
    # The contract in its last three months, its renewal under way (``_renewal``).
    ("contract", 50),
    # With the council for ten weeks: past the six-week norm.
    (
        100,
        [("forward", 98), ("checklist", 86), ("lm_positive", 85), ("qt_positive", 70)],
    ),
    # With the quality team for five weeks, its deadline extended by two weeks: near.
    (45, [("forward", 43), ("checklist", 36), ("lm_positive", 35), ("extend", 30)]),
    # Flevoland.
    (58, [("forward", 57), ("lm_negative", 49)]),
    # The contract that ended without a renewal.
    ("contract", -50),
    (35, [("forward", 34), ("withdraw", 20)]),
    (
        200,
        [
            ("forward", 197),
            ("checklist", 181),
            ("lm_positive", 180),
            ("qt_positive", 150),
            ("council_negative", 120),
        ],
    ),
    (
        130,
        [
            ("forward", 128),
            ("checklist", 111),
            ("lm_positive", 110),
            ("qt_positive", 90),
            ("council_approve", 60),
            ("outcome", 50),
            ("complete", 40),
        ],
    ),
    # A regularisation in its grace period, just advised positively to the council.
    (25, [("forward", 23), ("checklist", 13), ("lm_positive", 12), ("qt_positive", 4)]),
]
# A contracted request's steps, in days before the contract starts.
CONTRACT_STEPS = [
    ("forward", 100),
    ("checklist", 86),
    ("lm_positive", 85),
    ("qt_positive", 60),
    ("council_approve", 32),
    ("outcome", 20),
    ("complete", 3),
]
CONTRACT_RECEIVED = 103
# The renewal after the daily job opened it, in days after that.
RENEWAL_STEPS = [("forward", 2), ("checklist", 13), ("lm_positive", 14)]
# The hour of day of each step, so that steps on one day keep their order.
STEP_HOURS = {
    "register": 9,
    "forward": 10,
    "checklist": 11,
    "lm_positive": 14,
    "lm_negative": 14,
    "qt_positive": 15,
    "qt_negative": 15,
    "send_back": 15,
    "council_approve": 16,
    "council_negative": 16,
    "outcome": 11,
    "complete": 13,
    "withdraw": 12,
    "extend": 12,
}


class Command(BaseCommand):
    help = "Load the demo: regions, posts, logins per role per region, locations and requests."

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True, help="Password of every demo login.")

    # The demo's story is told through the real services; the e-mails they send (after commit)
    # would only flood the console, so they go nowhere during seeding.
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    @transaction.atomic
    def handle(self, *args, password: str, **options):
        regions = self._regions()
        users = self._users(regions, password)
        # Before any invoice is approved: each keeps the sender's details of its approval.
        invoice_sender_save(by=users[(Role.ADMINISTRATOR, "all")], **DEMO_INVOICE_SENDER)
        self._insurer_tariffs()
        if AdmissionRequest.objects.exists():
            self.stdout.write("Demo requests exist already; logins refreshed.")
        else:
            self.today = timezone.localdate()
            self._locations_and_requests(users)
            self._renewal(users)
            self._billing(users)
            # What beat does at 06:00, today: open renewals, schedule reminders, list the
            # locations whose grace period ended without a contract.
            daily_job()
            reminders_send_pending()
            payment_reminders_send_pending(self.today)
            self._triage_client()
        self._print_logins(users)

    def _at(self, days_ago: int, step: str) -> datetime.datetime:
        """The moment of ``step`` taken ``days_ago`` days before today (at least one: always in
        the past), at its hour of the day."""
        day = self.today - datetime.timedelta(days=max(days_ago, 1))
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(STEP_HOURS[step])))

    def _regions(self) -> dict[str, Region]:
        # The regions, their posts, postcode areas and target groups are reference data that
        # production loads too (`manage.py loaddata regions`).
        call_command("loaddata", "regions", verbosity=0)
        for name, kvk, agb, kind in ORGANISATIONS:
            organisation, _ = CareOrganisation.objects.get_or_create(
                kvk_number=kvk,
                defaults={"name": name, "agb_code": agb, "organisation_type": kind},
            )
            address, postcode, city, attention, reference = INVOICE_ADDRESSES[kvk]
            care_organisation_save(
                organisation=organisation,
                invoice_address=address,
                invoice_postcode=postcode,
                invoice_city=city,
                invoice_attention=attention,
                invoice_reference=reference,
                invoice_email=f"facturen.{kvk}@demo.medrie.invalid",
            )
        return {region.slug: region for region in Region.objects.all()}

    def _user(
        self, username, first, last, password, *, role, region=None, staff=False, superuser=False
    ) -> User:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.medrie.invalid"
        user.region = region
        user.is_staff = staff or superuser
        user.is_superuser = superuser
        user.set_password(password)
        user.save()
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        return user

    def _users(self, regions, password) -> dict[tuple[str, str], User]:
        users = {}
        for slug, region in regions.items():
            for role, (prefix, first, last) in ROLE_USERNAMES.items():
                users[(role, slug)] = self._user(
                    f"{prefix}.{slug}",
                    first,
                    f"{last} ({region.name})",
                    password,
                    role=role,
                    region=region,
                    staff=role in (Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL),
                )
        # Two at finance: one makes the invoices, the other approves and sends them.
        users[(Role.FINANCE, "all")] = self._user(
            "financien", "Fatima", "El Amrani", password, role=Role.FINANCE
        )
        users[(Role.FINANCE, "all, approves invoices")] = self._user(
            "financien.controle", "Jeroen", "Mulder", password, role=Role.FINANCE
        )
        users[(Role.ADMINISTRATOR, "all")] = self._user(
            "beheerder", "Bart", "Hendriks", password, role=Role.ADMINISTRATOR, superuser=True
        )
        return users

    def _locations_and_requests(self, users) -> None:
        organisations = list(CareOrganisation.objects.order_by("kvk_number"))
        groups = list(TargetGroup.objects.order_by("name"))
        self.contracts = {}
        self.submitted = {}  # assessment pk → when it was submitted
        for index, (row, scenario) in enumerate(zip(LOCATIONS, SCENARIOS, strict=True)):
            (
                name,
                org,
                street,
                number,
                addition,
                postcode,
                city,
                treatment,
                vv,
                residents,
                group_indexes,
            ) = row
            slug = post_for_postcode(postcode).region.slug
            fields = {
                "organisation": organisations[org],
                "name": name,
                "street": street,
                "house_number": number,
                "house_number_addition": addition,
                "postcode": postcode,
                "city": city,
                "wlz_treatment_admission": treatment,
                "treatment_delivered": treatment,
                "highest_care_profile": vv,
                "number_of_residents": residents,
                "financed_vpt": not treatment and index % 2 == 0,
                "financed_pgb": index % 3 == 0,
            }
            facts = WKKGZ_FACTS[organisations[org].organisation_type]
            secretariat = users[(Role.SECRETARIAT, slug)]
            known_now = name not in (WKKGZ_FACTS_UNKNOWN, WKKGZ_FACTS_RECORDED_LATER)
            location = care_location_register(
                by=secretariat,
                target_groups=[groups[i] for i in group_indexes],
                **fields,
                **(facts if known_now else {}),
            )
            if name == WKKGZ_FACTS_RECORDED_LATER:
                location = care_location_change(
                    location=location, by=secretariat, target_groups=None, **fields, **facts
                )
            received, steps, start = self._timeline(*scenario)
            request = self._register(location, received, users=users)
            self._run_steps(request, steps, users=users, contract_start=start)
        self._backdate_checklists()

    def _timeline(self, received, steps):
        """(days ago received, [(step, days ago)], the contract's start or None). A contract that
        ends ``steps`` days from today runs the default term, so it started about two years ago;
        its procedure is counted back from that start (``CONTRACT_STEPS``)."""
        if received != "contract":
            return received, steps, None
        end = self.today + datetime.timedelta(days=steps)
        start = (
            end
            + datetime.timedelta(days=1)
            - relativedelta(months=settings.CONTRACT_DEFAULT_TERM_MONTHS)
        )
        before = (self.today - start).days
        return (
            before + CONTRACT_RECEIVED,
            [(step, before + days) for step, days in CONTRACT_STEPS],
            start,
        )

    def _register(self, location, received_days_ago, *, users) -> AdmissionRequest:
        return admission_services.admission_request_register(
            by=users[(Role.SECRETARIAT, location.region.slug)],
            location=location,
            kind=RequestKind.REGULARISATION
            if location.wlz_treatment_admission
            else RequestKind.NEW_ENTRANT,
            requester_name="M. van den Berg",
            requester_email="aanvrager@demo-zorg.invalid",
            requester_phone="038 123 45 67",
            received_on=self.today - datetime.timedelta(days=received_days_ago),
            notes="Demo-aanvraag.",
            at=self._at(received_days_ago, "register"),
        )

    def _run_steps(self, request, steps, *, users, contract_start=None) -> None:
        location = request.location
        slug = location.region.slug
        secretariat = users[(Role.SECRETARIAT, slug)]
        manager = users[(Role.LOCATION_MANAGER, slug)]
        quality = users[(Role.QUALITY_TEAM, slug)]
        council = users[(Role.REGIONAL_COUNCIL, slug)]
        advices = {
            "lm_positive": (manager, AdviceStep.LOCATION_MANAGER, AdviceOutcome.POSITIVE),
            "lm_negative": (manager, AdviceStep.LOCATION_MANAGER, AdviceOutcome.NEGATIVE),
            "qt_positive": (quality, AdviceStep.QUALITY_TEAM, AdviceOutcome.POSITIVE),
            "qt_negative": (quality, AdviceStep.QUALITY_TEAM, AdviceOutcome.NEGATIVE),
            "send_back": (quality, AdviceStep.QUALITY_TEAM, AdviceOutcome.MORE_INFORMATION),
            "council_approve": (council, AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.POSITIVE),
            "council_negative": (council, AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.NEGATIVE),
        }
        for step, days_ago in steps:
            at = self._at(days_ago, step)
            if step == "forward":
                admission_services.admission_request_forward(
                    admission_request=request, by=secretariat, location_manager=manager, at=at
                )
            elif step == "checklist":
                self._fill_in_checklist(request, manager, at)
            elif step in advices:
                by, advice_step, outcome = advices[step]
                admission_services.admission_request_advise(
                    admission_request=request,
                    by=by,
                    step=advice_step,
                    outcome=outcome,
                    motivation=MOTIVATIONS[step],
                    at=at,
                )
            elif step == "outcome":
                admission_services.admission_request_record_outcome(
                    admission_request=request,
                    by=manager,
                    notes="Uitkomst besproken met de locatie; afspraken vastgelegd.",
                    at=at,
                )
            elif step == "complete":
                contracting_complete(
                    admission_request=request,
                    by=secretariat,
                    completed_on=timezone.localdate(at),
                    terms=self._demo_terms(
                        location,
                        contract_start or self.today - datetime.timedelta(days=days_ago - 3),
                    ),
                    at=at,
                )
                self.contracts[request.pk] = at
            elif step == "extend":
                admission_request_extend_deadline(
                    admission_request=request,
                    by=secretariat,
                    days=14,
                    reason="Het kwaliteitsteam wacht op het verslag van een werkbezoek.",
                    at=at,
                )
            elif step == "withdraw":
                admission_services.admission_request_withdraw(
                    admission_request=request,
                    by=secretariat,
                    reason="De organisatie heeft zelf een huisarts gecontracteerd.",
                    at=at,
                )
            else:  # pragma: no cover (a typo in the table)
                raise ValueError(step)

    def _fill_in_checklist(self, request, manager, at) -> None:
        assessment = pre_assessment_start(admission_request=request, by=manager)
        answers = complete_answers(assessment.template)
        for answer in answers.values():
            answer["confirmed"] = True  # a renewal's answers, copied from the last checklist
        assessment = pre_assessment_submit(assessment=assessment, by=manager, answers=answers)
        self.submitted[assessment.pk] = at

    def _backdate_checklists(self) -> None:
        """The checklist's revisions are no history table: dated after the fact, in one UPDATE.
        Started an hour before they were submitted."""
        if not self.submitted:
            return
        submitted = _case(self.submitted)
        Assessment.objects.filter(pk__in=self.submitted).update(
            created_at=submitted - datetime.timedelta(hours=1),
            updated_at=submitted,
            submitted_at=submitted,
        )
        Contract.objects.filter(admission_request_id__in=self.contracts).update(
            created_at=_case(self.contracts, key="admission_request_id")
        )

    def _renewal(self, users) -> None:
        """The daily job opened the renewal of the contract in its last three months on the day
        its renewal began; since then it was forwarded and pre-assessed, and it lies with the
        quality team. (The job did not run on the days before: the contract that ended earlier
        got no renewal, which is how the demo holds one that lapsed without.)"""
        contract = Contract.objects.filter(end_date__gt=self.today).order_by("end_date").first()
        opened_on = renewal_opens_on(contract.end_date)
        days_ago = (self.today - opened_on).days
        renewals_open_due(
            opened_on,
            at=timezone.make_aware(datetime.datetime.combine(opened_on, datetime.time(6))),
        )
        renewal = AdmissionRequest.objects.get(renews_contract=contract)
        self.submitted = {}
        self._run_steps(
            renewal,
            [(step, days_ago - days) for step, days in RENEWAL_STEPS],
            users=users,
        )
        self._backdate_checklists()

    def _billing(self, users) -> None:
        """Three months of refused claims of the two uncontracted Wlz-with-treatment locations,
        each imported early the next month: the first month's invoices approved and sent, the
        second's approved, last month's drafts (imported today). The second file holds an
        unknown address, for the Hardenberg location manager to investigate."""
        maker = users[(Role.FINANCE, "all")]
        approver = users[(Role.FINANCE, "all, approves invoices")]
        AdministrativeCost.objects.get_or_create(
            valid_from=datetime.date(2024, 1, 1),
            defaults={"amount": Decimal("25.00"), "note": "Voorbeeldbedrag (demo)."},
        )
        this_month = self.today.replace(day=1)
        for months_back in (3, 2, 1):
            month = this_month - relativedelta(months=months_back)
            imported = None
            if months_back > 1:
                imported = timezone.make_aware(
                    datetime.datetime.combine(
                        month + relativedelta(months=1, days=4), datetime.time(9)
                    )
                )
            invoices = self._bill_month(maker, month, imported, unknown=months_back == 2)
            if imported is None:
                continue
            for invoice in invoices:
                invoice_approve(
                    invoice=invoice, by=approver, at=imported + datetime.timedelta(days=2, hours=2)
                )
                if months_back == 3:
                    invoice_send(
                        invoice=invoice, by=approver, at=imported + datetime.timedelta(days=3)
                    )
            if months_back == 3:
                self._payments(invoices, approver, imported + datetime.timedelta(days=20))
                self._first_payment_reminders(invoices)
            if months_back == 2 and invoices:
                self._credited(invoices[0], maker, approver, imported + datetime.timedelta(days=9))

    def _first_payment_reminders(self, invoices) -> None:
        """The first reminders of the invoices left unpaid, sent by the daily job on the day
        they fell due: today's run alone would send the second instead, on some days of the
        month (the due date is then more than ``PAYMENT_REMINDER_SECOND_DAYS`` ago)."""
        due_dates = Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices])
        latest_due = max(due_dates.values_list("due_date", flat=True))
        first_reminder_on = latest_due + datetime.timedelta(
            days=settings.PAYMENT_REMINDER_FIRST_DAYS
        )
        if first_reminder_on <= self.today:
            payment_reminders_schedule(first_reminder_on)
            payment_reminders_send_pending(first_reminder_on)

    def _credited(self, invoice, maker, approver, at) -> None:
        """One invoice sent, then credited in full (the organisation had a contract after all):
        an approved credit note, and the invoice settled by it."""
        invoice_send(invoice=invoice, by=approver, at=at)
        credit = invoice_credit(
            invoice=invoice, by=maker, reason="Organisatie bleek toch een contract te hebben."
        )
        invoice_approve(invoice=credit, by=approver)

    def _payments(self, invoices, finance, at) -> None:
        """The first sent invoice paid in full, the second in part (a first instalment), both
        recorded by hand three weeks after sending."""
        amounts = [invoices[0].total]
        if len(invoices) > 1:
            amounts.append(money(invoices[1].total / 2))
        for invoice, amount in zip(invoices, amounts, strict=False):
            payment_record(
                invoice=invoice,
                by=finance,
                amount=amount,
                paid_on=timezone.localdate(at) - datetime.timedelta(days=1),
                reference=f"Factuur {invoice.number}",
                note="" if amount == invoice.total else "Eerste termijn (demo).",
                at=at,
            )

    def _bill_month(self, maker, month, imported, *, unknown: bool) -> list[Invoice]:
        lines = [
            ("HAP Hardenberg", "VISITE", "7731 CK", 12, ""),
            ("HAP Hardenberg", "CONSULT", "7731 CK", 12, ""),
            ("HAP Zwolle", "VISITE", "8011 PM", 101, ""),
            ("HAP Zwolle", "TELEFOON", "8011 PM", 101, ""),
        ]
        if unknown:
            lines.append(("HAP Hardenberg", "VISITE", "7701 AA", 3, ""))
        rows = [
            "datum_tijd;huisartsenpost;verrichting;patientreferentie;postcode;huisnummer;"
            "toevoeging;redencode"
        ]
        for number, (post, act, postcode, house, addition) in enumerate(lines, start=1):
            when = month + datetime.timedelta(days=number * 4)
            rows.append(
                f"{when.isoformat()} 23:{number:02d};{post};{act};DEMO-{month:%m}{number:02d};"
                f"{postcode};{house};{addition};WLZ-BEH"
            )
        claim_import = claim_import_create(
            by=maker,
            uploaded_file=SimpleUploadedFile(
                f"demo-weigeringen-{month:%Y-%m}.csv", "\n".join(rows).encode()
            ),
        )
        claim_import_run(claim_import.pk)
        invoices_generate(by=maker, period=month)
        invoices = Invoice.objects.filter(period=month, state=InvoiceState.DRAFT)
        if imported is not None:
            # Not history tables, and not sent yet (a sent invoice is final): dated in place.
            ClaimImport.objects.filter(pk=claim_import.pk).update(
                uploaded_at=imported, finished_at=imported + datetime.timedelta(minutes=2)
            )
            AddressInvestigation.objects.filter(
                resolved_at__isnull=True, opened_on=self.today
            ).update(opened_on=timezone.localdate(imported))
            invoices.update(created_at=imported + datetime.timedelta(minutes=10))
        return list(invoices.order_by("pk"))

    def _insurer_tariffs(self) -> None:
        for code, amount in DEMO_TARIFFS.items():
            InsurerTariff.objects.get_or_create(
                act=Act.objects.get(code=code),
                valid_from=datetime.date(2024, 1, 1),
                defaults={"amount": amount, "note": "Voorbeeldbedrag (demo), geen echt tarief."},
            )

    def _demo_terms(self, location, start: datetime.date) -> ContractTerms:
        treatment = location.wlz_treatment_admission
        return ContractTerms(
            kind=ContractKind.WLZ_WITH_TREATMENT
            if treatment
            else ContractKind.WLZ_WITHOUT_TREATMENT,
            start_date=start,
            rates={
                code: (amount * Decimal("2.5")).quantize(Decimal("0.01"))
                for code, amount in DEMO_TARIFFS.items()
            }
            if treatment
            else {},
        )

    def _triage_client(self) -> None:
        """The triage system's client, which has read today's list (the admin shows when)."""
        client, token = triage_api_client_create(name=DEMO_TRIAGE_CLIENT)
        head = triage_list_head()
        triage_api_client_record_sync(
            {"pk": client.pk, "last_used_at": None}, version=head["version"]
        )
        self.stdout.write(
            f"Triage API token of '{DEMO_TRIAGE_CLIENT}' (shown once): {token}\n"
            "  curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/api/v1/triage/addresses"
        )

    def _print_logins(self, users) -> None:
        self.stdout.write("\nDemo logins (one password for all, shown by `make demo` only):")
        for (role, region), user in sorted(users.items(), key=lambda item: item[1].username):
            self.stdout.write(f"  {user.username:<30} {Role(role).label} · {region}")


DEMO_TRIAGE_CLIENT = "Triagesysteem (demo)"

MOTIVATIONS = {
    "lm_positive": "Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
    "lm_negative": "Geen 24-uurs verpleegkundige zorg op locatie.",
    "qt_positive": "Checklist volledig; positief advies aan de regioraad.",
    "qt_negative": "SO/AVG niet bereikbaar in de nacht; negatief advies.",
    "send_back": "Graag de bereikbaarheid van de AVG in het weekend aanvullen.",
    "council_approve": "Akkoord regioraad.",
    "council_negative": "Regioraad wijst af: doelgroep past niet binnen de ANW-zorg.",
}


def _case(moments: dict[int, datetime.datetime], *, key: str = "pk") -> Case:
    """One value per row in one UPDATE: ``CASE key WHEN ... THEN moment``."""
    return Case(
        *(When(**{key: pk}, then=Value(moment)) for pk, moment in moments.items()),
        output_field=DateTimeField(),
    )
