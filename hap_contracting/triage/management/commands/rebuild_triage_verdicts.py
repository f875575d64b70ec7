"""Recompute the triage verdict of every address from the contracts, locations and filter list."""

from django.core.management.base import BaseCommand

from hap_contracting.triage.services import triage_verdicts_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the stored triage verdict of every address (the services keep it up to date; "
        "run this after rows were written without them, e.g. after restoring a backup in part)."
    )

    def handle(self, *args, **options):
        rows = triage_verdicts_rebuild()
        self.stdout.write(f"{rows} verdict periods stored.")
