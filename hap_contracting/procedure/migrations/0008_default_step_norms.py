"""The national service norms per step (administrators change them, or add a region's own, in
the admin), and the deadline changes made append-only like the history beside them."""

from django.db import migrations

from hap_contracting.core import chain

# Frozen here: a later change of ``constants.DEFAULT_NORMS`` is not a change of this migration.
NORMS = [
    ("received", 2, "weeks"),
    ("pre_assessment", 4, "weeks"),
    ("quality_review", 4, "weeks"),
    ("council_review", 6, "weeks"),
    ("contracting", 6, "months"),  # seed 004, 7.1: six months after the council's decision
]


def add_norms(apps, schema_editor):
    StepNorm = apps.get_model("procedure", "StepNorm")
    for step, amount, unit in NORMS:
        StepNorm.objects.get_or_create(
            region=None, step=step, defaults={"amount": amount, "unit": unit}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("procedure", "0007_step_norms_and_clock_events"),
    ]

    operations = [
        migrations.RunPython(add_norms, migrations.RunPython.noop),
        migrations.RunPython(*chain.protect("procedure_clockevent")),
    ]
