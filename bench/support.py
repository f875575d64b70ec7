"""What every benchmark needs of its PostgreSQL database: a database of its own, created (or
dropped and created) on the server of ``--database-url``, migrated, and never one that holds
somebody else's users. Each benchmark sets up Django first (its own environment), then calls
these."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def server_connection():
    """An autocommit connection to the ``postgres`` maintenance database of the server."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"The benchmark needs PostgreSQL; --database-url gave {db['ENGINE']}.")
    params = {
        key: value
        for key, value in {
            "user": db.get("USER"),
            "password": db.get("PASSWORD"),
            "host": db.get("HOST"),
            "port": db.get("PORT"),
        }.items()
        if value
    }
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def ensure_database(*, drop: bool = False) -> None:
    """CREATE DATABASE when it does not exist yet; DROP it first with ``drop``."""
    from django.db import connection, connections
    from psycopg import sql

    name = connection.settings_dict["NAME"]
    connections.close_all()
    with server_connection() as conn:
        if drop:
            print(f"Dropping database {name} …")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"Creating database {name} …")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def refuse_foreign_database(
    own_users: dict | Callable[[], dict] | None, *, what: str = "migrate or empty it"
) -> None:
    """Stop before touching a database that is not the benchmark's own: one with tables but no
    project users table, or with users the lookups ``own_users`` (e.g. ``{"username": …}``, or a
    function returning them, called once the tables are known to exist) do not match;
    ``own_users=None`` allows no users at all."""
    from django.db import connection

    from accounts.models import User

    name = connection.settings_dict["NAME"]
    tables = connection.introspection.table_names()
    if not tables:
        return
    if User._meta.db_table not in tables:
        sys.exit(
            f"Database {name} holds tables but not the project's users; refusing to {what}. "
            "Give the benchmark a database of its own (--database-url)."
        )
    if callable(own_users):
        own_users = own_users()
    foreign = User.objects.all() if own_users is None else User.objects.exclude(**own_users)
    usernames = list(foreign.values_list("username", flat=True)[:3])
    if usernames:
        sys.exit(
            f"Database {name} holds users the benchmark did not create ({', '.join(usernames)}, "
            f"…); refusing to {what}. Give the benchmark a database of its own (--database-url)."
        )
