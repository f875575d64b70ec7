#!/bin/sh
# Runs once, when the postgres container makes a new data directory. Two roles:
#   - the owner (HAP_OWNER_ROLE) owns the database and its tables and runs the migrations;
#   - the application (HAP_APP_ROLE) owns nothing: web, worker and beat log in as it, and
#     `manage.py grant_database_roles` (run by the migrate service after every migrate) gives it
#     SELECT/INSERT/UPDATE/DELETE on the tables but only SELECT/INSERT on the history and the
#     access log, so it can neither change, delete nor truncate them, nor switch their triggers off.
# POSTGRES_USER stays the cluster's superuser, for the database administrator only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner="$HAP_OWNER_ROLE" -v owner_password="$HAP_OWNER_PASSWORD" \
  -v app="$HAP_APP_ROLE" -v app_password="$HAP_APP_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'owner_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'owner') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'app') \gexec
SQL
