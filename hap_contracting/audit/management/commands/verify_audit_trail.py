"""Recompute the hash chains of the history and the access log; name the first row that breaks
each. Exits with an error when one does."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from hap_contracting.audit.selectors import audit_trail_check


class Command(BaseCommand):
    help = (
        "Check the integrity of the history and the access log (NEN 7513): recompute each "
        "table's hash chain and name the first row that breaks it."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("The hash chains are kept on PostgreSQL only; nothing to check here.")
            return
        heads, breaks = audit_trail_check()
        for head in heads:
            self.stdout.write(f"{head.table}: {head.rows} rows, last hash {head.last_hash or '–'}")
        if breaks:
            for chain_break in breaks:
                self.stderr.write(f"BROKEN {chain_break}")
            raise CommandError(f"{len(breaks)} audit trail(s) broken; see above.")
        self.stdout.write("Every chain is intact.")
