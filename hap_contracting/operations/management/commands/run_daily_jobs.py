import datetime

from django.core.management.base import BaseCommand, CommandError

from hap_contracting.billing.services.payment_reminders import payment_reminders_send_pending
from hap_contracting.contracts.services.reminders import reminders_send_pending
from hap_contracting.operations.services import daily_job


class Command(BaseCommand):
    help = (
        "Run the daily job by hand: open renewals, schedule reminders, update the triage "
        "filter list, then send the reminders. Safe to run more than once a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as if today were this date (YYYY-MM-DD).")
        parser.add_argument(
            "--no-send", action="store_true", help="Schedule reminders without sending them."
        )

    def handle(self, *args, date=None, no_send=False, **options):
        today = None
        if date:
            try:
                today = datetime.date.fromisoformat(date)
            except ValueError as error:
                raise CommandError(f"--date: {date!r} is not a date like 2026-11-23") from error
        report = daily_job(today)
        for key, value in report.as_dict().items():
            self.stdout.write(f"{key}: {value}")
        if not no_send:
            self.stdout.write(f"reminders_sent: {reminders_send_pending()}")
            sent = payment_reminders_send_pending(today)
            self.stdout.write(f"payment_reminders_sent: {sent}")
