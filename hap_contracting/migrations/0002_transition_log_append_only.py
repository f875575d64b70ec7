import django_fsm_log.managers
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    """The history proxy and its append-only trigger, in a migration of their own: django-fsm-log
    depends on the user model of 0001, so 0001 cannot depend on django-fsm-log."""

    dependencies = [
        ('hap_contracting', '0001_initial'),
        ('django_fsm_log', '0004_auto_20190131_0341'),
    ]

    operations = [
        migrations.CreateModel(
            name='TransitionLog',
            fields=[
            ],
            options={
                'verbose_name': 'history entry',
                'verbose_name_plural': 'history',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('django_fsm_log.statelog',),
            managers=[
                ('objects', django_fsm_log.managers.StateLogManager()),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='transitionlog',
            trigger=pgtrigger.compiler.Trigger(name='transition_log_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='ae03433cd9bd3ffe118db53d480b289c849cefda', operation='UPDATE OR DELETE', pgid='pgtrigger_transition_log_append_only_6184e', table='django_fsm_log_statelog', when='BEFORE')),
        ),
    ]
