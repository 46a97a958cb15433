#!/bin/sh
# Installed as /usr/local/bin/enclave in the gateway and ingest images, ahead of the virtualenv's
# `enclave` on PATH, so the main process and every `docker compose exec ... enclave ...` alike
# see their secrets.
#
# Compose secrets are files under /run/secrets; Enclave's settings read the keys from the
# environment. Only the names listed here are read from <NAME>_FILE: a rule for every *_FILE
# variable would misread settings that are paths (ENCLAVE_AUTH__OIDC_JWKS_FILE).
set -eu

for name in QDRANT_API_KEY ENCLAVE_LLM_API_KEY; do
    eval "file=\${${name}_FILE:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "enclave: ${name}_FILE=$file is missing or not readable by uid $(id -u)" >&2
            exit 78  # EX_CONFIG
        fi
        value=$(cat "$file")  # $(...) drops the trailing newline
        export "$name=$value"
        unset "${name}_FILE"
    fi
done

exec /opt/venv/bin/enclave "$@"
