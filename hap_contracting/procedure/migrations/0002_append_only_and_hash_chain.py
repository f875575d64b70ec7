"""The transition history and the advices become append-only by a trigger of their own and hash
chains (``audit.chain``); django-pgtrigger's triggers go."""

import pgtrigger.migrations
from django.db import migrations

from hap_contracting.core import chain


class Migration(migrations.Migration):
    dependencies = [
        ("procedure", "0001_initial"),
        ("audit", "0002_append_only_and_hash_chain"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name="advice", name="advice_append_only"),
        pgtrigger.migrations.RemoveTrigger(
            model_name="transitionlog", name="transition_log_append_only"
        ),
        migrations.RunPython(*chain.protect("procedure_advice")),
        # django-fsm-log's table: its model does not know the chain's columns, nor needs to.
        migrations.RunPython(*chain.protect("django_fsm_log_statelog")),
    ]
