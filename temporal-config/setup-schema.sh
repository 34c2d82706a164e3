#!/bin/sh
# Creates Temporal's two PostgreSQL databases (history and visibility) and brings their schemas
# to the server's version with temporal-sql-tool. Safe to run again: an existing database is
# kept, and update-schema applies only the versions not yet applied. Run by the cluster test
# (the tool built by `scripts/ensure-tools.ts --cluster`) and by docker-compose's schema job
# (the temporalio/admin-tools image, which has the tool and the schemas).
#   TEMPORAL_DB_HOST, TEMPORAL_DB_PORT, TEMPORAL_DB_USER, TEMPORAL_DB_PASSWORD
#   TEMPORAL_DB_NAME (temporal), TEMPORAL_VISIBILITY_DB_NAME (temporal_visibility)
#   TEMPORAL_SQL_TOOL (temporal-sql-tool), TEMPORAL_SCHEMA_DIR (/etc/temporal/schema/postgresql/v12)
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema_dir="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
: "${TEMPORAL_DB_HOST:?TEMPORAL_DB_HOST is not set}"
# The tool reads the password from SQL_PASSWORD, so it never shows in a process list.
export SQL_PASSWORD="${TEMPORAL_DB_PASSWORD:-}"

setup() {
  database="$1"
  dir="$2"
  set -- "$tool" --plugin postgres12 --endpoint "$TEMPORAL_DB_HOST" --port "${TEMPORAL_DB_PORT:-5432}" \
    --user "${TEMPORAL_DB_USER:-temporal}" --database "$database"
  "$@" create-database
  "$@" setup-schema --version 0.0
  "$@" update-schema --schema-dir "$schema_dir/$dir/versioned"
  echo "setup-schema: $database is at the schema of $schema_dir/$dir"
}

setup "${TEMPORAL_DB_NAME:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" visibility
