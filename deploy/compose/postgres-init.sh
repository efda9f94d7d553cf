#!/bin/sh
# First start of the compose PostgreSQL (docker-entrypoint-initdb.d runs it once, on an empty
# data directory): the two roles every service uses and one database per service.
#   taquilla      owns the tables and runs the migrations (the `<svc>-migrate` one-shots)
#   taquilla_app  the services' role: DML only (granted by each migration), subject to
#                 row-level security because it owns nothing
# Passwords come from the container's environment; docker-compose.yml gives development-only
# defaults.
set -eu

: "${TAQUILLA_DB_OWNER_PASSWORD:?set TAQUILLA_DB_OWNER_PASSWORD}"
: "${TAQUILLA_DB_APP_PASSWORD:?set TAQUILLA_DB_APP_PASSWORD}"

SERVICES="gateway catalog inventory orders payments fiscal tickets notifications"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
     -v owner_password="${TAQUILLA_DB_OWNER_PASSWORD}" \
     -v app_password="${TAQUILLA_DB_APP_PASSWORD}" <<'SQL'
CREATE ROLE taquilla LOGIN PASSWORD :'owner_password';
CREATE ROLE taquilla_app LOGIN PASSWORD :'app_password';
SQL

for service in ${SERVICES}; do
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
         -v database="taquilla_${service}" <<'SQL'
CREATE DATABASE :"database" OWNER taquilla;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO taquilla_app;
SQL
done
