#!/bin/sh
# Run once by the postgres image's entrypoint when the primary's data directory is initialised
# (/docker-entrypoint-initdb.d): the role the replicas stream WAL with, and its pg_hba line
# ("all" in pg_hba does not cover replication connections).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set=password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
