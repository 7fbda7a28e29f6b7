#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh: deploy/restore.sh FILE
# Into the database of DATABASE_URL, which must be empty (create a fresh one: `createdb pipedriven`); stop every
# `pipedriven run` first and point them at it after. One transaction: restored whole or not at all.
# Run `pipedriven db upgrade` afterwards when the backup comes from an older version.
# pg_restore must be as new as the one that dumped: PG_BIN names the folder holding it (default: PATH).
set -euo pipefail
file="${1:?usage: deploy/restore.sh FILE (a dump made by deploy/backup.sh)}"
url="${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
url="${url/#postgresql+psycopg:/postgresql:}"
bin="${PG_BIN:+$PG_BIN/}"
if [[ ! -r "$file" ]]; then
    echo "restore: cannot read $file" >&2
    exit 1
fi
tables=$("${bin}psql" --no-psqlrc --quiet --tuples-only --no-align --dbname="$url" \
    --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [[ "$tables" != "0" ]]; then
    echo "restore: the database already has $tables tables; restore into an empty database (createdb a fresh one)" >&2
    exit 1
fi
"${bin}pg_restore" --exit-on-error --single-transaction --no-owner --no-privileges --dbname="$url" "$file"
echo "Restored $file"
