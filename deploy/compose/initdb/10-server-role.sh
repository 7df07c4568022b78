#!/bin/sh
# The role the server runs as: it logs in and owns nothing. `policybot db upgrade`, run as the
# owner (POSTGRES_USER), grants it what it needs. Runs once, when the database is first created.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v password="$POLICYBOT_DB_PASSWORD" <<'SQL'
CREATE ROLE policybot LOGIN PASSWORD :'password';
SQL
