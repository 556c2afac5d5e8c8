#!/bin/sh
# As the official image: a server started with options gets protected mode off unless it says otherwise.
set -e
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
