#!/bin/sh
# Laptop / demo only: create the secrets docker-compose.yml expects, in ./data/compose/secrets (git-ignored; or
# $ENCLAVE_SECRETS_DIR). On a server the Ansible role `appliance` generates them instead, with
# tighter ownership. Existing files are kept, so running this twice changes nothing.
set -eu

dir=${ENCLAVE_SECRETS_DIR:-./data/compose/secrets}
umask 077
mkdir -p "$dir"

new_key() {
    # 32 random bytes as hex: no shell, YAML or URL quoting issues anywhere the key travels.
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

for name in qdrant_api_key llm_api_key; do
    [ -s "$dir/$name" ] || new_key >"$dir/$name"
done
# Grafana's admin password (user admin), for the monitoring stack.
[ -s "$dir/grafana_admin_password" ] || new_key >"$dir/grafana_admin_password"
if [ ! -s "$dir/qdrant-local.yaml" ]; then
    printf 'service:\n  api_key: "%s"\n' "$(cat "$dir/qdrant_api_key")" >"$dir/qdrant-local.yaml"
fi
# The containers run as other users (qdrant uid 1000, enclave uid 10001) and read these files
# through bind mounts; the directory itself stays private to you.
chmod 0644 "$dir"/qdrant_api_key "$dir"/llm_api_key "$dir"/qdrant-local.yaml "$dir"/grafana_admin_password
echo "secrets ready in $dir"
