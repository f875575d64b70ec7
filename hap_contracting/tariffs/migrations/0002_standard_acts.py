"""The post's standard acts (seed 004, 7.2: "verrichtingen"). Finance can add other act codes;
the insurer tariffs themselves are entered by finance (the demo loads example amounts)."""

from django.db import migrations

STANDARD_ACTS = [
    ("CONSULT", "Consult op de huisartsenpost"),
    ("VISITE", "Visite"),
    ("TELEFOON", "Telefonisch consult"),
]


def add_acts(apps, schema_editor):
    Act = apps.get_model("tariffs", "Act")
    for code, name in STANDARD_ACTS:
        Act.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("tariffs", "0001_initial")]

    operations = [migrations.RunPython(add_acts, migrations.RunPython.noop)]
