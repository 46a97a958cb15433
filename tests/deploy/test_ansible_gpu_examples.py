"""infra/ansible/inventories/examples (issue #22): one inventory per example deployment, generated from the
planner, rendered with site.yml into a scratch root the way tests/deploy/test_ansible.py renders the others.

Checked for every example: the files equal what `enclave plan` gives now (no drift); `ansible-playbook
--syntax-check`; a site.yml run with enclave_live false (the GPU driver role the inventory picks, the Ray
roles, the appliance role with the rocm profile and the vLLM --config file); the rendered compose project
validates and keeps its invariants; and every rendered vLLM command line, with its rendered --config file,
is accepted by vLLM's own parser (one subprocess). ansible-lint's production profile covers these
inventories in tests/deploy/test_ansible.py (it lints the whole of infra/ansible).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.deploy.compose import REPO, interpolate, raw_compose, read_env_file
from tests.deploy.harness import ANSIBLE_DIR, Run, make_fake_bundle, run_playbook, tool, write_inventory
from tests.deploy.test_compose import check_invariants, validate

EXAMPLES_DIR = ANSIBLE_DIR / "inventories" / "examples"
VLLM_PY = REPO / ".venv-vllm" / "bin" / "python"
CHECK = REPO / "tests" / "unit" / "vllm_argparse_check.py"
CONTAINER_CONFIG = "/etc/vllm/config.yaml"
LLM_SERVICES = {"llm", "llm-rocm", "ray-head"}


def _load_generator() -> ModuleType:
    path = EXAMPLES_DIR / "generate.py"
    spec = importlib.util.spec_from_file_location("enclave_inventory_examples", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
NAMES = [e.name for e in gen.EXAMPLES]


def test_the_issue_examples_are_all_there() -> None:
    wanted = {
        ("llama-3.1-8b-instruct", "l40s", 1, 1),
        ("llama-3.1-70b-instruct-fp8", "h100-sxm", 1, 1),
        ("llama-3.1-70b-instruct", "h100-sxm", 2, 1),
        ("llama-3.1-405b-instruct-fp8", "h100-sxm", 8, 1),
        ("llama-3.1-405b-instruct-fp8", "mi300x", 8, 1),
        ("llama-3.1-405b-instruct", "h100-sxm", 8, 2),
        ("deepseek-r1", "h200", 8, 1),
        ("deepseek-r1", "mi300x", 8, 1),
        ("deepseek-r1-distill-qwen-32b", "h100-sxm", 1, 1),
    }
    assert {(e.model, e.gpu, e.count, e.nodes) for e in gen.EXAMPLES} == wanted
    assert sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir()) == sorted(NAMES)


def test_examples_are_what_the_planner_says_now() -> None:
    """generate.py --check: a catalogue or planner change that alters an example fails here until regenerated."""
    assert gen.main(["--check"]) == 0


def test_drift_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's own teeth: a hand edit of a generated file is reported."""
    example = gen.EXAMPLES[0]
    for rel, text in gen.render(example).items():
        (tmp_path / example.name / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / example.name / rel).write_text(text.replace("max-num-seqs: ", "max-num-seqs: 9"), encoding="utf-8")
    monkeypatch.setattr(gen, "HERE", tmp_path)
    monkeypatch.setattr(gen, "REPO", tmp_path)
    monkeypatch.setattr(gen, "EXAMPLES", [example])
    assert gen.main(["--check"]) == 1


@pytest.mark.parametrize("name", NAMES)
def test_syntax_check(name: str) -> None:
    proc = subprocess.run(
        [tool("ansible-playbook"), "--syntax-check", "-i", f"inventories/examples/{name}/hosts.yml", "site.yml"],
        cwd=ANSIBLE_DIR,
        env={**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _groups(inventory: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    """The example's groups (children resolved) and host variables."""
    members: dict[str, set[str]] = {}
    children: dict[str, set[str]] = {}
    hostvars: dict[str, dict[str, Any]] = {}

    def walk(name: str, node: dict[str, Any] | None) -> None:
        node = node or {}
        for host, hv in (node.get("hosts") or {}).items():
            members.setdefault(name, set()).add(host)
            hostvars.setdefault(host, {}).update(hv or {})
        for child, sub in (node.get("children") or {}).items():
            children.setdefault(name, set()).add(child)
            walk(child, sub)

    walk("all", inventory["all"])

    def resolve(name: str) -> set[str]:
        return set(members.get(name, set())).union(*(resolve(c) for c in children.get(name, set())))

    groups = {g: sorted(resolve(g)) for g in {*members, *children} if g != "all"}
    return groups, hostvars


@dataclass
class Rendered:
    name: str
    run: Run
    hosts: list[str]
    groups: dict[str, list[str]]
    planned: dict[str, Any]

    def root(self, host: str) -> Path:
        return self.run.tmp / host

    def release(self, host: str) -> Path:
        return self.root(host) / "opt/enclave/releases/0.1.0"


def _render(name: str, tmp: Path) -> Rendered:
    example = next(e for e in gen.EXAMPLES if e.name == name)
    planned = gen.make_plan(gen.load_catalog(), example.request())["ansible_vars"]
    bundle, sums_sha = make_fake_bundle(tmp / "media", model=planned["appliance_model"])
    src = EXAMPLES_DIR / name
    (tmp / "group_vars").mkdir()
    (tmp / "group_vars" / "enclave.yml").write_bytes((src / "group_vars" / "enclave.yml").read_bytes())
    groups, hostvars = _groups(yaml.safe_load((src / "hosts.yml").read_text(encoding="utf-8")))
    for host in hostvars:
        hostvars[host]["enclave_root"] = str(tmp / host)
    inventory = write_inventory(tmp / "hosts.yml", groups, hostvars)
    variables = {"enclave_live": False, "bundle_source_path": str(bundle), "bundle_sha256sums_sha256": sums_sha}
    run = run_playbook("site.yml", inventory, variables, tmp)
    return Rendered(name, run, sorted(hostvars), groups, planned)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """site.yml once per example, two at a time (ansible-playbook keeps about one core busy)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {n: pool.submit(_render, n, tmp_path_factory.mktemp(n)) for n in NAMES}
        return {n: f.result(timeout=900) for n, f in futures.items()}


def _project(r: Rendered, host: str) -> tuple[dict[str, str], dict[str, Any]]:
    release = r.release(host)
    env = read_env_file(release / ".env")
    data = interpolate(raw_compose(release / "docker-compose.yml"), env)
    return env, data


def _llm_service(env: dict[str, str]) -> str:
    return {"gpu": "llm", "rocm": "llm-rocm"}.get(env["COMPOSE_PROFILES"], env["COMPOSE_PROFILES"])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_renders(name: str, rendered: dict[str, Rendered]) -> None:
    r = rendered[name]
    r.run.assert_ok()
    assert r.run.recap.get("failed") == 0, r.run.recap
    vendor = r.planned["enclave_gpu_vendor"]
    for host in r.groups["enclave_gpu"]:
        root = r.root(host)
        nouveau = root / "etc/modprobe.d/blacklist-nouveau.conf"
        amdgpu = root / "etc/modules-load.d/amdgpu.conf"
        assert nouveau.is_file() == (vendor == "nvidia"), host
        assert amdgpu.is_file() == (vendor == "amd"), host
    llm_hosts = [h for h in r.hosts if (r.release(h) / "vllm-config.yaml").is_file() and h in r.groups["enclave_gpu"]]
    assert llm_hosts == r.groups["enclave_gpu"]
    for host in llm_hosts:
        env, data = _project(r, host)
        validate(data)
        check_invariants(data)
        assert env["ENCLAVE_LLM_CONFIG_FILE"] == "/opt/enclave/releases/0.1.0/vllm-config.yaml"
        config = yaml.safe_load((r.release(host) / "vllm-config.yaml").read_text(encoding="utf-8"))
        assert config == r.planned["appliance_llm_args"], "the --config file is the planner's arguments"
        assert env["ENCLAVE_LLM_MODEL"] == r.planned["appliance_model"]
        assert env["ENCLAVE_LLM_TENSOR_PARALLEL_SIZE"] == str(r.planned["appliance_llm_tensor_parallel_size"])
        assert env["ENCLAVE_LLM_MAX_MODEL_LEN"] == str(r.planned["appliance_llm_max_model_len"])
        assert (r.root(host) / "opt/enclave/models" / r.planned["appliance_model"] / "config.json").is_file()
        service = data["services"][_llm_service(env)]
        mounted = f"{env['ENCLAVE_LLM_CONFIG_FILE']}:{CONTAINER_CONFIG}:ro" in service["volumes"]
        assert mounted == (_llm_service(env) in LLM_SERVICES), "vLLM's API server reads it; a Ray worker does not"
        if vendor == "amd":
            assert env["COMPOSE_PROFILES"] == "rocm" and set(service["group_add"]) == {"video", "render"}
            assert "/dev/kfd:/dev/kfd" in service["devices"]
        elif "ray_nodes" not in r.planned:
            assert env["COMPOSE_PROFILES"] == "gpu"
            devices = service["deploy"]["resources"]["reservations"]["devices"]
            assert devices[0]["count"] == str(r.planned["appliance_llm_tensor_parallel_size"])


@pytest.mark.slow
def test_two_nodes_form_one_ray_cluster(rendered: dict[str, Rendered]) -> None:
    """The 405B BF16 example: Ray head + vLLM's API on gpu-1, a Ray worker on gpu-2, the appliance on enclave-1."""
    r = rendered["llama-3.1-405b-2x8xh100"]
    r.run.assert_ok()
    assert r.groups["enclave_ray"] == ["gpu-1", "gpu-2"]
    head_env, head = _project(r, "gpu-1")
    worker_env, worker = _project(r, "gpu-2")
    assert head_env["COMPOSE_PROFILES"] == "ray-head" and worker_env["COMPOSE_PROFILES"] == "ray-worker"
    for env in (head_env, worker_env):
        assert env["ENCLAVE_RAY_HEAD_ADDRESS"] == "10.20.2.11"
        assert env["ENCLAVE_RAY_NODES"] == "2" and env["ENCLAVE_RAY_PORT"] == "6379"
    assert worker_env["ENCLAVE_RAY_NODE_ADDRESS"] == "10.20.2.12"
    config = yaml.safe_load((r.release("gpu-1") / "vllm-config.yaml").read_text(encoding="utf-8"))
    assert config["distributed-executor-backend"] == "ray"
    assert config["pipeline-parallel-size"] == 2 and head_env["ENCLAVE_LLM_TENSOR_PARALLEL_SIZE"] == "8"
    cmd = head["services"]["ray-head"]["command"]
    assert "--host=10.20.2.11" in cmd
    assert worker["services"]["ray-worker"]["entrypoint"][-1] == "worker"
    for host, service in (("gpu-1", "ray-head"), ("gpu-2", "ray-worker")):
        unit = (r.root(host) / "etc/systemd/system/enclave.service").read_text(encoding="utf-8")
        assert f"--no-deps {service}\n" in unit, host
        override = yaml.safe_load((r.release(host) / "docker-compose.override.yml").read_text(encoding="utf-8"))
        assert override == {"services": {}}, "host network: no bridge or published port is added"
        rules = (r.root(host) / "etc/nftables.d/enclave.nft").read_text(encoding="utf-8")
        other = "10.20.2.12" if host == "gpu-1" else "10.20.2.11"
        ray_set = re.search(r"set ray_v4 \{.*?elements = \{ (.*?) \}", rules, re.S)
        assert ray_set and ray_set.group(1) == other, rules
        assert "ip saddr @ray_v4 accept" in rules and "ip daddr @ray_v4 accept" in rules
    # The appliance host: no model, no Ray, the gateway asks vLLM on the head.
    app_env, _ = _project(r, "enclave-1")
    assert app_env["ENCLAVE_LLM_URL"] == "http://10.20.2.11:8000/v1"
    assert "ENCLAVE_RAY_HEAD_ADDRESS" not in app_env
    assert not (r.root("enclave-1") / "opt/enclave/models/llama-3.1-405b-instruct").exists()
    assert "ray_v4" not in (r.root("enclave-1") / "etc/nftables.d/enclave.nft").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not VLLM_PY.exists(), reason="needs .venv-vllm (make install)")
def test_vllm_parser_accepts_every_rendered_command_line(rendered: dict[str, Rendered]) -> None:
    """What the LLM container of every example host would run, with its rendered --config file, parsed by vLLM."""
    cases: list[dict[str, Any]] = []
    for name in NAMES:
        r = rendered[name]
        r.run.assert_ok()
        for host in r.groups["enclave_gpu"]:
            env, data = _project(r, host)
            service = _llm_service(env)
            if service not in LLM_SERVICES:
                continue
            config = str(r.release(host) / "vllm-config.yaml")
            argv = [config if a == CONTAINER_CONFIG else a for a in data["services"][service]["command"]]
            assert config in argv, (name, host)
            cases.append({"name": f"{name} {host} {service}", "argv": argv})
    assert len(cases) == len(NAMES)
    env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [str(VLLM_PY), str(CHECK)], input=json.dumps(cases), capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {x["name"]: x["error"] for x in json.loads(proc.stdout.strip().splitlines()[-1])}
    assert results == {c["name"]: None for c in cases}
