"""The access log records the outcome and the source of each access, becomes append-only by a
trigger of its own (no session setting switches it off) and its entries a hash chain
(``core.chain``); django-pgtrigger's trigger goes."""

import pgtrigger.migrations
from django.db import migrations, models

from hap_contracting.core import chain


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="accesslogentry", name="access_log_append_only"
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="accesslogreference", name="access_log_reference_append_only"
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="references_digest",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='client_address',
            field=models.GenericIPAddressField(blank=True, null=True, verbose_name='client address'),
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='outcome',
            field=models.CharField(choices=[('shown', 'Shown'), ('refused', 'Refused'), ('not_found', 'Not found')], default='shown', max_length=10, verbose_name='outcome'),
        ),
        migrations.AddField(
            model_name='accesslogentry',
            name='user_agent',
            field=models.CharField(blank=True, max_length=300, verbose_name='browser'),
        ),
        migrations.RunPython(chain.install_functions, chain.drop_functions),
        migrations.RunPython(*chain.protect("audit_accesslogentry")),
        # One export can name a million patients: the references are not chained one by one;
        # their entry's ``references_digest`` covers them.
        migrations.RunPython(*chain.protect("audit_accesslogreference", chained=False)),
    ]
