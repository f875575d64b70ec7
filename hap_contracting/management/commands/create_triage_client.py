"""Make a triage API client and print its token once; or take a client's access away."""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hap_contracting.api import token_hash
from hap_contracting.models import TriageApiClient

TOKEN_BYTES = 32


class Command(BaseCommand):
    help = (
        "Create a client of the triage API (e.g. TPM) and print its token. The token is shown "
        "only now: only its SHA-256 is stored. --deactivate NAME withdraws a client's access."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="Name of the new client, e.g. 'TPM Zwolle'.")
        parser.add_argument(
            "--deactivate", metavar="NAME", help="Withdraw the access of this client."
        )

    def handle(self, *args, name=None, deactivate=None, **options):
        if bool(name) == bool(deactivate):
            raise CommandError("Give either the name of a new client or --deactivate NAME.")
        if deactivate:
            updated = TriageApiClient.objects.filter(name=deactivate).update(is_active=False)
            if not updated:
                raise CommandError(f"No triage API client is called {deactivate!r}.")
            self.stdout.write(f"Client {deactivate!r} can no longer use the triage API.")
            return
        name = name.strip()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with transaction.atomic():
            if TriageApiClient.objects.select_for_update().filter(name=name).exists():
                raise CommandError(f"A triage API client called {name!r} exists already.")
            TriageApiClient.objects.create(name=name, token_hash=token_hash(token))
        self.stdout.write(f"Client {name!r} created. Its token, shown only this once:")
        self.stdout.write(token)
