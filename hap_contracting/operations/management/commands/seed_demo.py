"""Demo data: regions, posts, a login per role per region, care locations and requests in every
state. Idempotent: a second run changes nothing. Amounts, names and addresses are fictitious."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from checklist.demo import complete_answers
from hap_contracting.billing.models import AdministrativeCost
from hap_contracting.billing.services.claims_import import claim_import_create, claim_import_run
from hap_contracting.billing.services.invoices import invoices_generate
from hap_contracting.contracts.constants import ContractKind
from hap_contracting.contracts.services.contracts import ContractTerms, contracting_complete
from hap_contracting.contracts.services.reminders import reminders_send_pending
from hap_contracting.core.roles import Role
from hap_contracting.operations.services import daily_job
from hap_contracting.organisations.models import CareOrganisation, Region, TargetGroup
from hap_contracting.organisations.selectors import post_for_postcode
from hap_contracting.organisations.services import care_location_register
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.services import admission as admission_services
from hap_contracting.procedure.services.pre_assessment import (
    pre_assessment_start,
    pre_assessment_submit,
)
from hap_contracting.tariffs.models import Act, InsurerTariff

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
# Example insurer tariffs, labelled as such in the data: not the real agreed amounts.
DEMO_TARIFFS = {
    "CONSULT": Decimal("52.40"),
    "VISITE": Decimal("78.60"),
    "TELEFOON": Decimal("26.20"),
}
# How far each location's request goes: the number of positive steps, then an optional ending.
# The steps are taken through the services, so the history is genuine.
SCENARIOS = [
    (0, None),
    (1, None),
    (3, None),
    (4, None),
    (5, None),
    (7, None),
    (3, "quality_negative"),
    (1, "withdraw"),
    (1, "location_manager_negative"),
    (3, "send_back"),
    (2, None),
    (4, None),
    (7, None),
    (4, "council_negative"),
    (6, None),
]


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
        self._insurer_tariffs()
        if AdmissionRequest.objects.exists():
            self.stdout.write("Demo requests exist already; logins refreshed.")
        else:
            self._locations_and_requests(users)
            # What beat would do at 06:00: open renewals, schedule reminders.
            daily_job()
            reminders_send_pending()
            self._billing(users)
        self._print_logins(users)

    def _regions(self) -> dict[str, Region]:
        # The regions, their posts, postcode areas and target groups are reference data that
        # production loads too (`manage.py loaddata regions`).
        call_command("loaddata", "regions", verbosity=0)
        for name, kvk, agb, kind in ORGANISATIONS:
            CareOrganisation.objects.get_or_create(
                kvk_number=kvk,
                defaults={"name": name, "agb_code": agb, "organisation_type": kind},
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
        users[(Role.FINANCE, "all")] = self._user(
            "financien", "Fatima", "El Amrani", password, role=Role.FINANCE
        )
        users[(Role.ADMINISTRATOR, "all")] = self._user(
            "beheerder", "Bart", "Hendriks", password, role=Role.ADMINISTRATOR, superuser=True
        )
        return users

    def _locations_and_requests(self, users) -> None:
        organisations = list(CareOrganisation.objects.order_by("kvk_number"))
        groups = list(TargetGroup.objects.order_by("name"))
        today = timezone.localdate()
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
            location = care_location_register(
                by=users[(Role.SECRETARIAT, slug)],
                organisation=organisations[org],
                name=name,
                street=street,
                house_number=number,
                house_number_addition=addition,
                postcode=postcode,
                city=city,
                wlz_treatment_admission=treatment,
                treatment_delivered=treatment,
                highest_care_profile=vv,
                number_of_residents=residents,
                financed_vpt=not treatment and index % 2 == 0,
                financed_pgb=index % 3 == 0,
                target_groups=[groups[i] for i in group_indexes],
            )
            received_on = today - datetime.timedelta(days=60 - index * 3)
            self._run_scenario(location, *scenario, users=users, received_on=received_on)

    def _run_scenario(self, location, positive_steps, ending, *, users, received_on) -> None:
        slug = location.region.slug
        secretariat = users[(Role.SECRETARIAT, slug)]
        manager = users[(Role.LOCATION_MANAGER, slug)]
        quality = users[(Role.QUALITY_TEAM, slug)]
        council = users[(Role.REGIONAL_COUNCIL, slug)]
        request = admission_services.admission_request_register(
            by=secretariat,
            location=location,
            kind=RequestKind.REGULARISATION
            if location.wlz_treatment_admission
            else RequestKind.NEW_ENTRANT,
            requester_name="M. van den Berg",
            requester_email="aanvrager@demo-zorg.invalid",
            requester_phone="038 123 45 67",
            received_on=received_on,
            notes="Demo-aanvraag.",
        )

        def advise(by, step, outcome, motivation):
            admission_services.admission_request_advise(
                admission_request=request, by=by, step=step, outcome=outcome, motivation=motivation
            )

        def fill_in_checklist():
            assessment = pre_assessment_start(admission_request=request, by=manager)
            pre_assessment_submit(
                assessment=assessment, by=manager, answers=complete_answers(assessment.template)
            )

        positive = [
            lambda: admission_services.admission_request_forward(
                admission_request=request, by=secretariat, location_manager=manager
            ),
            lambda: fill_in_checklist(),
            lambda: advise(
                manager,
                AdviceStep.LOCATION_MANAGER,
                AdviceOutcome.POSITIVE,
                "Voorwacht en achterwacht op orde; SO 24/7 bereikbaar.",
            ),
            lambda: advise(
                quality,
                AdviceStep.QUALITY_TEAM,
                AdviceOutcome.POSITIVE,
                "Checklist volledig; positief advies aan de regioraad.",
            ),
            lambda: advise(
                council, AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.POSITIVE, "Akkoord regioraad."
            ),
            lambda: admission_services.admission_request_record_outcome(
                admission_request=request,
                by=manager,
                notes="Uitkomst besproken met de locatie; afspraken vastgelegd.",
            ),
            lambda: contracting_complete(
                admission_request=request,
                by=secretariat,
                completed_on=timezone.localdate(),
                terms=self._demo_terms(location),
            ),
        ]
        endings = {
            None: lambda: None,
            "location_manager_negative": lambda: advise(
                manager,
                AdviceStep.LOCATION_MANAGER,
                AdviceOutcome.NEGATIVE,
                "Geen 24-uurs verpleegkundige zorg op locatie.",
            ),
            "quality_negative": lambda: advise(
                quality,
                AdviceStep.QUALITY_TEAM,
                AdviceOutcome.NEGATIVE,
                "SO/AVG niet bereikbaar in de nacht; negatief advies.",
            ),
            "send_back": lambda: advise(
                quality,
                AdviceStep.QUALITY_TEAM,
                AdviceOutcome.MORE_INFORMATION,
                "Graag de bereikbaarheid van de AVG in het weekend aanvullen.",
            ),
            "council_negative": lambda: advise(
                council,
                AdviceStep.REGIONAL_COUNCIL,
                AdviceOutcome.NEGATIVE,
                "Regioraad wijst af: doelgroep past niet binnen de ANW-zorg.",
            ),
            "withdraw": lambda: admission_services.admission_request_withdraw(
                admission_request=request,
                by=secretariat,
                reason="De organisatie heeft zelf een huisarts gecontracteerd.",
            ),
        }
        for step in positive[:positive_steps]:
            step()
        endings[ending]()

    def _billing(self, users) -> None:
        """Last month's refused claims: two uncontracted Wlz-with-treatment locations billed,
        one unknown address for the Hardenberg location manager to investigate."""
        finance = users[(Role.FINANCE, "all")]
        AdministrativeCost.objects.get_or_create(
            valid_from=datetime.date(2024, 1, 1),
            defaults={"amount": Decimal("25.00"), "note": "Voorbeeldbedrag (demo)."},
        )
        month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        lines = [
            ("HAP Hardenberg", "VISITE", "7731 CK", 12, ""),
            ("HAP Hardenberg", "CONSULT", "7731 CK", 12, ""),
            ("HAP Zwolle", "VISITE", "8011 PM", 101, ""),
            ("HAP Zwolle", "TELEFOON", "8011 PM", 101, ""),
            ("HAP Hardenberg", "VISITE", "7701 AA", 3, ""),
        ]
        rows = [
            "datum_tijd;huisartsenpost;verrichting;patientreferentie;postcode;huisnummer;"
            "toevoeging;redencode"
        ]
        for number, (post, act, postcode, house, addition) in enumerate(lines, start=1):
            when = month + datetime.timedelta(days=number * 4)
            rows.append(
                f"{when.isoformat()} 23:{number:02d};{post};{act};DEMO-{number:04d};{postcode};"
                f"{house};{addition};WLZ-BEH"
            )
        claim_import = claim_import_create(
            by=finance,
            uploaded_file=SimpleUploadedFile("demo-weigeringen.csv", "\n".join(rows).encode()),
        )
        claim_import_run(claim_import.pk)
        invoices_generate(by=finance, period=month)

    def _insurer_tariffs(self) -> None:
        for code, amount in DEMO_TARIFFS.items():
            InsurerTariff.objects.get_or_create(
                act=Act.objects.get(code=code),
                valid_from=datetime.date(2024, 1, 1),
                defaults={"amount": amount, "note": "Voorbeeldbedrag (demo), geen echt tarief."},
            )

    def _demo_terms(self, location) -> ContractTerms:
        """A contract that started long enough ago to be up for renewal in Zwolle, and one in
        Flevoland that ended last month without a renewal (none was opened: it ended before the
        demo began), so the register, the dashboard and the daily job have something to show."""
        today = timezone.localdate()
        start = {
            "zwolle": today - relativedelta(months=22),
            "flevoland": today - relativedelta(months=25),
        }.get(location.region.slug, today)
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

    def _print_logins(self, users) -> None:
        self.stdout.write("\nDemo logins (one password for all, shown by `make demo` only):")
        for (role, region), user in sorted(users.items(), key=lambda item: item[1].username):
            self.stdout.write(f"  {user.username:<30} {Role(role).label} · {region}")
