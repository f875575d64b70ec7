"""Make a triage API client and print its token once; or take a client's access away."""

from django.core.management.base import BaseCommand, CommandError

from hap_contracting.core.errors import DomainError
from hap_contracting.triage.services import triage_api_client_create, triage_api_client_deactivate


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
        try:
            if deactivate:
                triage_api_client_deactivate(name=deactivate)
                self.stdout.write(f"Client {deactivate!r} can no longer use the triage API.")
                return
            client, token = triage_api_client_create(name=name)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Client {client.name!r} created. Its token, shown only this once:")
        self.stdout.write(token)
