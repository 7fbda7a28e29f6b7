#!/usr/bin/env bash
# Back up Pipedriven's database: deploy/backup.sh [FILE]
# Dumps the database of DATABASE_URL (postgresql://… or postgres://…) in pg_dump's custom format to FILE
# (default pipedriven-YYYYMMDDTHHMMSSZ.dump). Safe while `pipedriven run` is running: the dump is one snapshot.
# pg_dump must be as new as the server: PG_BIN names the folder holding it (default: the one on PATH).
set -euo pipefail
url="${DATABASE_URL:?set DATABASE_URL to the database to back up}"
url="${url/#postgresql+psycopg:/postgresql:}"
file="${1:-pipedriven-$(date -u +%Y%m%dT%H%M%SZ).dump}"
"${PG_BIN:+$PG_BIN/}pg_dump" --format=custom --compress=6 --file="$file" --dbname="$url"
echo "Backed up to $file"
