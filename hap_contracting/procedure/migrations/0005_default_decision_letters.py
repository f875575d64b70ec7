"""The national default decision letters (version 1), one per outcome, in Dutch. Administrators
change them, or add a region's own, in the admin; each save is a new version."""

from django.db import migrations

POSITIVE_SUBJECT = "Besluit over uw aanvraag {{ referentie }}: toegelaten tot de ANW-zorg"
POSITIVE_BODY = """Geachte {{ aanvrager }},

Op {{ ontvangstdatum }} hebben wij uw aanvraag ontvangen om {{ locatie }} van {{ organisatie }} \
({{ adres }}) toe te laten tot de huisartsenzorg in de avond, de nacht en het weekend (ANW) van \
{{ hap }}. Uw aanvraag is beoordeeld door de locatiemanager en het kwaliteitsteam ANW.

De regioraad {{ regio }} heeft op {{ besluitdatum }} positief besloten over uw aanvraag. De \
regioraad motiveert dit besluit als volgt:

{{ motivering }}

Wat gebeurt er nu?
Het regiosecretariaat {{ regio }} neemt contact met u op om de ANW-overeenkomst op te stellen. \
De afspraken gelden vanaf de ingangsdatum in de getekende overeenkomst.

Heeft u vragen over dit besluit? Neem dan contact op met het regiosecretariaat {{ regio }} en \
noem daarbij het kenmerk {{ referentie }}.

Met vriendelijke groet,

namens de regioraad {{ regio }},

{{ ondertekenaar }}"""

NEGATIVE_SUBJECT = "Besluit over uw aanvraag {{ referentie }}: afgewezen"
NEGATIVE_BODY = """Geachte {{ aanvrager }},

Op {{ ontvangstdatum }} hebben wij uw aanvraag ontvangen om {{ locatie }} van {{ organisatie }} \
({{ adres }}) toe te laten tot de huisartsenzorg in de avond, de nacht en het weekend (ANW) van \
{{ hap }}. Uw aanvraag is beoordeeld door de locatiemanager en het kwaliteitsteam ANW.

De regioraad {{ regio }} heeft op {{ besluitdatum }} besloten uw aanvraag af te wijzen. De \
regioraad motiveert dit besluit als volgt:

{{ motivering }}

Wat betekent dit?
Er komt geen ANW-overeenkomst voor deze locatie. Zonder overeenkomst levert de huisartsenpost \
geen ANW-zorg aan bewoners met een Wlz-indicatie met behandeling; die zorg blijft de \
verantwoordelijkheid van uw organisatie.

Heeft u vragen over dit besluit? Neem dan contact op met het regiosecretariaat {{ regio }} en \
noem daarbij het kenmerk {{ referentie }}.

Met vriendelijke groet,

namens de regioraad {{ regio }},

{{ ondertekenaar }}"""


def add_defaults(apps, schema_editor):
    Template = apps.get_model("procedure", "DecisionLetterTemplate")
    for outcome, subject, body in (
        ("positive", POSITIVE_SUBJECT, POSITIVE_BODY),
        ("negative", NEGATIVE_SUBJECT, NEGATIVE_BODY),
    ):
        Template.objects.get_or_create(
            region=None, outcome=outcome, version=1, defaults={"subject": subject, "body": body}
        )


def remove_unused_defaults(apps, schema_editor):
    Template = apps.get_model("procedure", "DecisionLetterTemplate")
    Template.objects.filter(region=None, version=1, created_by=None, letters__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("procedure", "0004_decision_letters")]

    operations = [migrations.RunPython(add_defaults, remove_unused_defaults)]
