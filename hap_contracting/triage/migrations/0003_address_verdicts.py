"""The triage verdict per address (``TriageAddressVerdict``), built from the contracts,
locations and filter entries there are: from now on the services keep it. The rule as it was
when this migration was written (seed 004, 7.2), applied once here."""

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Upper

ONE_DAY = datetime.timedelta(days=1)


def _periods(covered, refused_otherwise):
    runs = []
    for first, last in sorted(covered):
        if runs and (runs[-1][1] == datetime.date.max or first <= runs[-1][1] + ONE_DAY):
            runs[-1][1] = max(runs[-1][1], last)
        else:
            runs.append([first, last])
    periods = [(first, last, "contracted") for first, last in runs]
    if refused_otherwise:
        day = datetime.date.min
        for first, last in runs:
            if first > day:
                periods.append((day, first - ONE_DAY, "no_anw_care_without_agreement"))
            day = None if last == datetime.date.max else last + ONE_DAY
            if day is None:
                break
        if day is not None:
            periods.append((day, datetime.date.max, "no_anw_care_without_agreement"))
    return periods


def build_verdicts(apps, schema_editor):
    location_model = apps.get_model("organisations", "CareLocation")
    entry_model = apps.get_model("triage", "TriageFilterEntry")
    contract_model = apps.get_model("contracts", "Contract")
    verdict_model = apps.get_model("triage", "TriageAddressVerdict")
    first_at = {}
    for location in (
        location_model.objects.annotate(
            addition=Upper("house_number_addition"),
            listed=Exists(
                entry_model.objects.filter(location=OuterRef("pk"), delisted_on__isnull=True)
            ),
        )
        .order_by("name", "pk")
        .values("pk", "postcode", "house_number", "addition", "wlz_treatment_admission", "listed")
    ):
        address = (location["postcode"], location["house_number"], location["addition"])
        first_at.setdefault(address, location)
    covered = {}
    rows = [
        *contract_model.objects.values_list(
            "location_id", "start_date", "end_date", "terminated_on"
        ),
        *contract_model.other_locations.through.objects.values_list(
            "carelocation_id",
            "contract__start_date",
            "contract__end_date",
            "contract__terminated_on",
        ),
    ]
    for location_id, start, end, terminated_on in rows:
        last = end if terminated_on is None else min(end, terminated_on - ONE_DAY)
        if start <= last:
            covered.setdefault(location_id, []).append((start, last))
    verdict_model.objects.bulk_create(
        (
            verdict_model(
                postcode=postcode,
                house_number=number,
                addition=addition,
                starts_on=first,
                ends_on=last,
                verdict=verdict,
                location_id=location["pk"],
            )
            for (postcode, number, addition), location in first_at.items()
            for first, last, verdict in _periods(
                covered.get(location["pk"], []),
                location["wlz_treatment_admission"] and location["listed"],
            )
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0006_contract_tariffs_on_start_reminder_step'),
        ('organisations', '0004_wkkgz_classification'),
        ('triage', '0002_list_changes_and_last_sync'),
    ]

    operations = [
        migrations.CreateModel(
            name='TriageAddressVerdict',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('postcode', models.CharField(max_length=7, verbose_name='postcode')),
                ('house_number', models.PositiveIntegerField(verbose_name='house number')),
                ('addition', models.CharField(blank=True, max_length=6, verbose_name='addition')),
                ('starts_on', models.DateField(verbose_name='valid from')),
                ('ends_on', models.DateField(verbose_name='valid until')),
                ('verdict', models.CharField(choices=[('contracted', 'Contracted'), ('no_anw_care_without_agreement', "No ANW care without agreement: refer to the institution's own physician"), ('unknown', 'Unknown')], max_length=32, verbose_name='verdict')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.carelocation', verbose_name='care location')),
            ],
            options={
                'verbose_name': 'triage verdict of an address',
                'verbose_name_plural': 'triage verdicts of addresses',
                'indexes': [models.Index(fields=['postcode', 'house_number', 'addition', 'starts_on'], name='triage_verdict_address')],
                'constraints': [models.CheckConstraint(condition=models.Q(('starts_on__lte', models.F('ends_on'))), name='triage_verdict_period'), models.CheckConstraint(condition=models.Q(('verdict', 'unknown'), _negated=True), name='triage_verdict_is_stored')],
            },
        ),
        migrations.RunPython(build_verdicts, migrations.RunPython.noop),
    ]
