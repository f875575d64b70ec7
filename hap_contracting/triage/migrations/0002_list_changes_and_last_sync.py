"""The list's changes (its versions, for the feed) and each API client's last sync.

The change table is append-only and hash-chained on PostgreSQL (``core.chain.protect``), like
the other history. The changes of the entries already there are built from their dates: per
entry its addition (``listed_on``) and, once it was taken off, its removal (``delisted_on``),
in the order of those days, so the versions follow the list's history."""

import django.db.models.deletion
from django.core.exceptions import ValidationError
from django.db import migrations, models

from hap_contracting.core import chain
from hap_contracting.core.validators import normalise_house_number_addition, normalise_postcode

BATCH = 2000


def _normalised(normalise, value, length):
    try:
        return normalise(value)
    except ValidationError:
        return value.strip().upper()[:length]


def build_changes(apps, schema_editor):
    entry_model = apps.get_model("triage", "TriageFilterEntry")
    change_model = apps.get_model("triage", "TriageListChange")
    rows = entry_model.objects.values_list(
        "pk",
        "reason",
        "listed_on",
        "delisted_on",
        "delisted_because",
        "location__postcode",
        "location__house_number",
        "location__house_number_addition",
    )
    events = []
    for pk, reason, listed_on, delisted_on, because, postcode, number, addition in rows.iterator():
        address = {
            "postcode": _normalised(normalise_postcode, postcode, 7),
            "house_number": number,
            "addition": _normalised(normalise_house_number_addition, addition, 6),
        }
        events.append((listed_on, 0, pk, "added", reason, "", address))
        if delisted_on is not None:
            events.append((delisted_on, 1, pk, "removed", reason, because, address))
    events.sort(key=lambda event: event[:3])
    change_model.objects.bulk_create(
        (
            change_model(
                entry_id=pk, kind=kind, on=on, reason=reason, removed_because=because, **address
            )
            for on, _order, pk, kind, reason, because, address in events
        ),
        batch_size=BATCH,
    )


def drop_changes(apps, schema_editor):
    """Backwards: the table goes with the migration; nothing to undo row by row."""


class Migration(migrations.Migration):

    dependencies = [
        ('triage', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='triageapiclient',
            name='last_synced_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last synchronised at'),
        ),
        migrations.AddField(
            model_name='triageapiclient',
            name='last_synced_version',
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name='last synchronised version'),
        ),
        migrations.CreateModel(
            name='TriageListChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('added', 'Added to the list'), ('removed', 'Taken off the list')], max_length=8, verbose_name='change')),
                ('on', models.DateField(verbose_name='on')),
                ('reason', models.CharField(choices=[('grace_period_ended', 'Grace period ended without a contract'), ('billed_without_contract', 'Billed for care without a contract (Wlz with treatment)')], max_length=24, verbose_name='reason')),
                ('removed_because', models.CharField(blank=True, max_length=200, verbose_name='taken off because')),
                ('postcode', models.CharField(max_length=7, verbose_name='postcode')),
                ('house_number', models.PositiveIntegerField(verbose_name='house number')),
                ('addition', models.CharField(blank=True, max_length=6, verbose_name='addition')),
                ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded at')),
                ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='triage.triagefilterentry', verbose_name='triage filter entry')),
            ],
            options={
                'verbose_name': 'triage list change',
                'verbose_name_plural': 'triage list changes',
                'ordering': ['pk'],
                'indexes': [models.Index(fields=['kind', 'on'], name='triage_change_kind_on')],
                'constraints': [models.UniqueConstraint(fields=('entry', 'kind'), name='triage_change_once_per_kind')],
            },
        ),
        # Protected first, so the changes built below are in the hash chain from the start.
        migrations.RunPython(*chain.protect("triage_triagelistchange")),
        migrations.RunPython(build_changes, drop_changes),
    ]
