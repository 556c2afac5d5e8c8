#!/bin/sh
# `mongod` (the official image's command) starts FerretDB on 0.0.0.0:27017 with data in /data/db.
# With MONGO_INITDB_ROOT_USERNAME and _PASSWORD set, clients must authenticate (SCRAM-SHA-256) and
# that user is created in the admin database on first start, as the official image does.
set -e
if [ "$1" = mongod ]; then
  shift
  set -- ferretdb --handler=sqlite --sqlite-url=file:/data/db/ --state-dir=/data/state \
    --listen-addr=0.0.0.0:27017 --telemetry=disable --debug-addr=- "$@"
  if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then
    [ -n "${MONGO_INITDB_ROOT_PASSWORD:-}" ] || { echo "MONGO_INITDB_ROOT_PASSWORD is required with MONGO_INITDB_ROOT_USERNAME" >&2; exit 1; }
    set -- "$@" --test-enable-new-auth --setup-database=admin \
      --setup-username="$MONGO_INITDB_ROOT_USERNAME" --setup-password="$MONGO_INITDB_ROOT_PASSWORD"
  fi
fi
exec "$@"
