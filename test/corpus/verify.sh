#!/usr/bin/env bash
# Loads every corpus case (or the ones named) into a fresh database and runs its
# workload, both with ON_ERROR_STOP: proves that schema.sql and workload.sql run clean.
#
#   PGHOST=/tmp/corpus-pg PGPORT=55999 PGUSER=postgres test/corpus/verify.sh [case ...]
#
# Options (environment):
#   FIX=1   run the case's fix.sql (if any) between schema.sql and workload.sql
#   PUB=1   create a publication FOR ALL TABLES before the workload, as a migration's
#           change capture would: UPDATE/DELETE on a published table without a usable
#           replica identity then fail on the source itself
#   KEEP=1  keep the databases (corpus_<name>) instead of dropping them
#
# Needs a PostgreSQL 15 (or later) superuser connection and psql/createdb/dropdb on PATH.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for d in */; do [ -f "$d/schema.sql" ] && cases+=("${d%/}"); done
fi
pass=0; fail=0
for c in "${cases[@]}"; do
  db="corpus_${c//-/_}"
  dropdb --if-exists "$db" >/dev/null 2>&1
  if ! createdb "$db"; then echo "FAIL $c: createdb"; fail=$((fail+1)); continue; fi
  log="$(mktemp)"
  ok=1
  (cd "$c" && psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f schema.sql) >"$log" 2>&1 || ok=0
  if [ $ok = 1 ] && [ "${FIX:-0}" = 1 ] && [ -f "$c/fix.sql" ]; then
    (cd "$c" && psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f fix.sql) >>"$log" 2>&1 || ok=0
  fi
  if [ $ok = 1 ] && [ "${PUB:-0}" = 1 ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE PUBLICATION corpus_verify FOR ALL TABLES' >>"$log" 2>&1 || ok=0
  fi
  if [ $ok = 1 ]; then
    (cd "$c" && psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f workload.sql) >>"$log" 2>&1 || ok=0
  fi
  if [ $ok = 1 ]; then
    echo "ok   $c"; pass=$((pass+1))
  else
    echo "FAIL $c"; grep -E 'ERROR|FATAL' "$log" | head -3; fail=$((fail+1))
  fi
  rm -f "$log"
  [ "${KEEP:-0}" = 1 ] || dropdb --if-exists "$db" >/dev/null 2>&1
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
