#!/bin/sh
# One node of a multi-node vLLM instance, in vLLM's own multi-node mode (a Ray cluster; vLLM's docs,
# "Distributed inference and serving", and its examples/online_serving/run_cluster.sh).
#   ray-node.sh head [vLLM arguments]: start the Ray head, wait until ENCLAVE_RAY_NODES nodes have joined,
#                                      then run vLLM's OpenAI server on this node with those arguments
#                                      (--distributed-executor-backend ray comes from the --config file).
#   ray-node.sh worker:                join the head's Ray cluster and stay in the foreground.
# The containers use the host's network: Ray and NCCL must reach the other nodes by the hosts' addresses.
set -eu
role=${1:?head or worker}
shift
node=${ENCLAVE_RAY_NODE_ADDRESS:?the address of this node}
port=${ENCLAVE_RAY_PORT:-6379}
# vLLM and NCCL bind to this node's address, not to whatever interface comes first.
export VLLM_HOST_IP="$node"
export RAY_USAGE_STATS_ENABLED=0
case "$role" in
  worker)
    head=${ENCLAVE_RAY_HEAD_ADDRESS:?the head node address}
    exec ray start --block --address="$head:$port" --node-ip-address="$node" --disable-usage-stats
    ;;
  head)
    VLLM_API_KEY=$(cat /run/secrets/llm_api_key)
    [ -n "$VLLM_API_KEY" ]
    export VLLM_API_KEY
    nodes=${ENCLAVE_RAY_NODES:?how many nodes the instance spans}
    ray start --head --port="$port" --node-ip-address="$node" --include-dashboard=false --disable-usage-stats
    # vLLM places its pipeline stages when it starts: every node must have joined by then.
    python3 - "$nodes" <<'PY'
import sys
import time

import ray

want = int(sys.argv[1])
ray.init(address="auto", logging_level="ERROR")
deadline = time.monotonic() + 1800
while sum(1 for n in ray.nodes() if n["Alive"]) < want:
    if time.monotonic() > deadline:
        sys.exit(f"only {sum(1 for n in ray.nodes() if n['Alive'])} of {want} Ray nodes joined")
    time.sleep(5)
ray.shutdown()
PY
    exec python3 -m vllm.entrypoints.openai.api_server "$@"
    ;;
  *)
    echo "usage: ray-node.sh head|worker" >&2
    exit 2
    ;;
esac
