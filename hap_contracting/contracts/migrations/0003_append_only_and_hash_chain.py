"""The contract history becomes append-only by a trigger of its own and a hash chain
(``audit.chain``); django-pgtrigger's trigger goes."""

import pgtrigger.migrations
from django.db import migrations

from hap_contracting.core import chain


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0002_initial"),
        ("audit", "0002_append_only_and_hash_chain"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="contractevent", name="contract_event_append_only"
        ),
        migrations.RunPython(*chain.protect("contracts_contractevent")),
    ]
