#!/bin/sh
# The ingest worker (CMD of the ingest image): ingests every folder of the inbox into the
# collection of the same name, then sleeps, forever.
#
#   /srv/inbox/<collection>/...              documents (sub-folders are fine)
#   /srv/inbox/<collection>/.enclave-groups  optional: comma-separated groups allowed to read them
#
# Unchanged files are skipped by the ingest manifest, so a pass over an unchanged inbox is
# cheap; each pass is a fresh `enclave ingest` process, so a crash in one pass cannot wedge the
# worker. The heartbeat file feeds the container's health check.
set -u

inbox=${ENCLAVE_INBOX:-/srv/inbox}
interval=${ENCLAVE_INGEST_INTERVAL_S:-300}
heartbeat=${ENCLAVE_INGEST_HEARTBEAT:-/tmp/enclave-ingest.heartbeat}

# `sleep & wait` (below) lets a stop signal end the wait at once instead of after the sleep.
sleeper=""
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM INT

touch "$heartbeat"
while :; do
    for dir in "$inbox"/*/; do
        [ -d "$dir" ] || continue
        collection=$(basename "$dir")
        groups=""
        if [ -f "$dir/.enclave-groups" ]; then
            groups=$(tr -d ' \t\r\n' <"$dir/.enclave-groups")
        fi
        if ! enclave ingest "$dir" --collection "$collection" --groups "$groups" --quiet; then
            echo "ingest-worker: pass over '$collection' reported failures (see above)" >&2
        fi
        touch "$heartbeat"
    done
    touch "$heartbeat"
    sleep "$interval" &
    sleeper=$!
    wait "$sleeper"
    sleeper=""
done
