"""Give the application's PostgreSQL role what it needs and no more; idempotent, run by the
tables' owner after every ``migrate``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from hap_contracting.core.chain import protected_tables


class Command(BaseCommand):
    help = (
        "Grant the application's role (which owns nothing) SELECT, INSERT, UPDATE and DELETE on "
        "the tables, but only SELECT and INSERT on the history and the access log. Run as the "
        "role that owns the tables (the one that migrates), after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("app_role", help="The role the web processes and workers log in as.")

    def handle(self, *args, app_role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only.")
        role = sql.Identifier(app_role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
            if cursor.fetchone() is None:
                raise CommandError(f"There is no role {app_role!r}; create it first (LOGIN).")
            cursor.execute("SELECT current_database(), current_user")
            database, owner = cursor.fetchone()
            if owner == app_role:
                raise CommandError("Run this as the tables' owner, not as the application role.")
            statements = [
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(database), role
                ),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
                sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role),
                sql.SQL(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
                ).format(role),
                sql.SQL(
                    "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}"
                ).format(role),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
            ]
            tables = protected_tables()
            for table in tables:
                statements.append(
                    sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(
                        sql.Identifier(table), role
                    )
                )
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Role {app_role!r}: read and write on the tables of {database}; only read and add "
            f"on {', '.join(tables) or 'no append-only table (migrate first)'}."
        )
