#!/usr/bin/env bash
# One database and one role per service, each role owning its database and no other role allowed to connect to it.
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/); safe to run again.
#
#   JINLIN_DATABASES                 space-separated names: "complaints mediation billing_escrow staff_console"
#   JINLIN_DB_PASSWORD_<NAME>        the password of each role (<NAME> upper-cased), e.g. JINLIN_DB_PASSWORD_COMPLAINTS
set -euo pipefail

: "${JINLIN_DATABASES:?set JINLIN_DATABASES to the service databases to create}"

for name in ${JINLIN_DATABASES}; do
    if [[ ! "${name}" =~ ^[a-z][a-z0-9_]*$ ]]; then
        echo "init.sh: ${name@Q} is not a plain lower-case database name" >&2
        exit 1
    fi
    password_variable="JINLIN_DB_PASSWORD_${name^^}"
    password="${!password_variable:-}"
    if [[ -z "${password}" ]]; then
        echo "init.sh: ${password_variable} is not set" >&2
        exit 1
    fi
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
        -v name="${name}" -v password="${password}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT ALL ON DATABASE :"name" TO :"name";
SQL
    echo "init.sh: database and role ${name} ready"
done
