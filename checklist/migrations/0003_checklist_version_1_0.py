"""Version 1.0 of "Checklist beoordeling zorgaanbieder" (seed 004, appendix 4), as data.

Knock-out items (must be met for a positive advice) are the requirements the appendix states as
conditions: voorwacht, the four vitals, the TPM principle, the achterwacht, SO/AVG reachability
covering evenings, nights and weekends, 24/7 consultation for special target groups, and record
access. Informative: what the appendix qualifies ("where relevant", "when wanted") and the
tools at the post, which are the post's own arrangements, not the location's.
"""

import datetime

from django.db import migrations

NAME = "Checklist beoordeling zorgaanbieder"
YES_NO, TEXT, PHONE, HOURS, CHOICE = "yes_no", "text", "phone", "hours", "choice"
SPECIAL = "special_target_group"

# (section title, guidance, [(code, kind, knock_out, applies, question, help text, choices)])
SECTIONS = [
    ("Stap 1 – Voorwacht op locatie",
     "Uitvraag door de locatiemanager; verwerking in het advies door het kwaliteitsteam.", [
         ("voorwacht-24h-nursing", YES_NO, True, None,
          "Is er 24 uur per dag verpleegkundige zorg aanwezig op de locatie?", "", []),
         ("voorwacht-nursing-triage", YES_NO, True, None,
          "Vindt vóór elke zorgaanvraag een zorgvuldige verpleegkundige triage op locatie plaats?",
          "", []),
         ("voorwacht-own-physician", YES_NO, True, None,
          "Beoordeelt de arts van de organisatie de situatie vóór een aanvraag?",
          "Meestal een telefonische consultatie door de verpleegkundige.", []),
         ("voorwacht-via-tpm", YES_NO, True, None,
          "Wordt zorg aangevraagd via TPM (bovenliggende beoordeling door de HAP)?", "", []),
     ]),
    ("Triage op locatie",
     "Vóór het bellen zijn de controles gedaan: bloeddruk, polsfrequentie, zuurstofsaturatie en "
     "temperatuur, en waar relevant een urinecontrole.", [
         ("triage-blood-pressure", YES_NO, True, None,
          "Wordt vóór het bellen de bloeddruk gemeten?", "", []),
         ("triage-pulse", YES_NO, True, None,
          "Wordt vóór het bellen de polsfrequentie gemeten?", "", []),
         ("triage-oxygen", YES_NO, True, None,
          "Wordt vóór het bellen de zuurstofsaturatie gemeten?", "", []),
         ("triage-temperature", YES_NO, True, None,
          "Wordt vóór het bellen de temperatuur gemeten?", "", []),
         ("triage-urine", YES_NO, False, None,
          "Wordt waar relevant een urinecontrole gedaan?", "", []),
         ("triage-tpm-principle", YES_NO, True, None,
          "Onderschrijft de locatie dat telefonisch advies of beoordeling op de HAP het "
          "uitgangspunt is, en een visite alleen waar strikt noodzakelijk?",
          "Of een visite nodig is, beoordeelt de regiearts via TPM.", []),
     ]),
    ("Stap 2 – Achterwacht op locatie",
     "Uitvraag door de locatiemanager; verwerking in het advies door het kwaliteitsteam.", [
         ("achterwacht-nurse-receives-gp", YES_NO, True, None,
          "Wordt de huisarts bij een visite op locatie ontvangen door de verpleegkundige die de "
          "aanvraag deed?", "", []),
         ("achterwacht-nurse-assists", YES_NO, True, None,
          "Assisteert de verpleegkundige de huisarts bij de zorgvraag en handelt zij deze af?",
          "", []),
         ("achterwacht-so-avg-reachable", YES_NO, True, None,
          "Is de SO of AVG telefonisch bereikbaar als achterwacht voor de dienstdoende huisarts?",
          "", []),
         ("achterwacht-so-avg-video", YES_NO, False, None,
          "Kan de SO/AVG zo nodig via (beeld)bellen worden geconsulteerd?", "", []),
         ("achterwacht-so-avg-name", TEXT, False, None,
          "Naam van de SO/AVG of de dienst die de achterwacht levert", "", []),
         ("achterwacht-so-avg-phone", PHONE, False, None,
          "Telefoonnummer van de SO/AVG-achterwacht", "Bijvoorbeeld 038 123 45 67.", []),
         ("achterwacht-so-avg-hours", HOURS, True, None,
          "Uren waarop de SO/AVG bereikbaar is",
          "Moeten avond, nacht en weekend (ANW) dekken: doordeweeks van 17:00 tot 08:00 en het "
          "hele weekend.", []),
     ]),
    ("Bijzondere doelgroep",
     "Alleen bij een specialisatie op het gebied van gedrag, medische complexiteit of "
     "communicatie.", [
         ("special-consultation-24-7", YES_NO, True, SPECIAL,
          "Is consultatie op de locatie 24/7 geregeld (psychiater, gedragsdeskundige e.d.)?",
          "", []),
         ("special-consultant", CHOICE, False, SPECIAL,
          "Wie is 24/7 beschikbaar voor consultatie?", "",
          ["Psychiater", "Gedragsdeskundige", "Arts verstandelijk gehandicapten", "Anders"]),
     ]),
    ("Daarnaast geregeld", "", [
        ("record-access", YES_NO, True, None,
         "Is dossierinzage geregeld: relevante medische voorgeschiedenis en actuele medicatie op "
         "locatie?", "", []),
        ("interpreter-phone", YES_NO, False, None,
         "Is vooraanmelding bij de tolkentelefoon geregeld voor consult of visite (wanneer "
         "gewenst)?", "", []),
    ]),
    ("Hulpmiddelen op de HAP", "Voorzieningen van de huisartsenpost zelf.", [
        ("hap-vecozo", YES_NO, False, None,
         "Is op de HAP een Vecozo-koppeling beschikbaar voor inzage in de indicatie van de "
         "zorgaanvrager?", "", []),
        ("hap-central-so-avg-number", YES_NO, False, None,
         "Is op de HAP het centrale telefoonnummer per regio voor consultatie van de SO/AVG "
         "bekend?", "", []),
    ]),
]


def create_version_1_0(apps, schema_editor):
    Template = apps.get_model("checklist", "ChecklistTemplate")
    Section = apps.get_model("checklist", "ChecklistSection")
    Item = apps.get_model("checklist", "ChecklistItem")
    template = Template.objects.create(
        name=NAME,
        version="1.0",
        effective_from=datetime.date(2021, 1, 6),
        revised_on=datetime.date(2021, 1, 6),
        owner="Locatiemanager",
        purpose="Checklist beoordeling t.b.v. advies aan de regioraad "
        "(procedure verkoop zorgverlening ANW-zorg).",
    )
    for section_order, (title, guidance, items) in enumerate(SECTIONS, start=1):
        section = Section.objects.create(
            template=template, order=section_order, title=title, guidance=guidance
        )
        for item_order, (code, kind, knock_out, applies, question, help_text, choices) in (
            enumerate(items, start=1)
        ):
            Item.objects.create(
                section=section, order=item_order, code=code, kind=kind,
                is_knock_out=knock_out, applies=applies or "always", question=question,
                help_text=help_text, choices=choices,
            )


def remove_version_1_0(apps, schema_editor):
    apps.get_model("checklist", "ChecklistTemplate").objects.filter(
        name=NAME, version="1.0"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("checklist", "0002_initial")]

    operations = [migrations.RunPython(create_version_1_0, remove_version_1_0)]
