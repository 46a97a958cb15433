"""docker-compose.yml's accelerator profiles (issue #22): NVIDIA (`gpu`), AMD ROCm (`rocm`), CPU (`cpu`).

Each profile's interpolation validates against the Compose specification's schema and keeps the
appliance's invariants; exactly one LLM service answers as http://llm:8000 in each.
"""

from __future__ import annotations

import pytest

from enclave_core.planning import PlanRequest, load_catalog, make_plan
from tests.deploy.compose import active_services, environment, load_compose
from tests.deploy.test_compose import check_invariants, validate

PROFILES = {"gpu": "llm", "rocm": "llm-rocm", "cpu": "llm-cpu"}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_validates_and_keeps_the_invariants(profile: str) -> None:
    data = load_compose({"COMPOSE_PROFILES": profile})
    validate(data)
    check_invariants(data)
    llms = {name for name in active_services(data, {profile}) if name.startswith("llm")}
    assert llms == {PROFILES[profile]}


def test_rocm_service_reaches_the_gpus_without_privileges() -> None:
    svc = load_compose()["services"]["llm-rocm"]
    assert svc["devices"] == ["/dev/kfd:/dev/kfd", "/dev/dri:/dev/dri"]
    assert set(svc["group_add"]) == {"video", "render"}
    assert not svc.get("privileged") and "no-new-privileges:true" in svc["security_opt"]
    assert "llm" in svc["networks"]["internal"]["aliases"]
    env = environment(svc)
    assert env["VLLM_NO_USAGE_STATS"] == "1" and env["HF_HUB_OFFLINE"] == "1"
    assert "reservations" not in svc["deploy"]["resources"], "NVIDIA device reservations do not apply to ROCm"


@pytest.mark.parametrize(
    ("model", "gpu", "count"), [("llama-3.1-405b-instruct-fp8", "mi300x", 8), ("deepseek-r1", "h200", 8)]
)
def test_planner_env_interpolates_into_a_valid_file(model: str, gpu: str, count: int) -> None:
    """What `enclave plan` says to paste into .env gives a valid file serving that model on those GPUs."""
    plan = make_plan(load_catalog(), PlanRequest(model, gpu, count))
    env = plan["compose_env"]
    data = load_compose(env)
    validate(data)
    check_invariants(data)
    svc = data["services"][PROFILES[env["COMPOSE_PROFILES"]]]
    assert f"--served-model-name={model}" in svc["command"]
    assert f"--tensor-parallel-size={count}" in svc["command"]


@pytest.mark.parametrize("profile", ["ray-head", "ray-worker"])
def test_ray_profiles_validate_and_keep_the_invariants(profile: str) -> None:
    """vLLM's multi-node mode: each node runs one Ray service of its own, on the host's network."""
    env = {
        "COMPOSE_PROFILES": profile,
        "ENCLAVE_RAY_HEAD_ADDRESS": "10.20.2.11",
        "ENCLAVE_RAY_NODE_ADDRESS": "10.20.2.12",
    }
    data = load_compose(env)
    validate(data)
    check_invariants(data)
    active = active_services(data, {profile})
    assert {name for name in active if name.startswith(("llm", "ray"))} == {profile}
    svc = data["services"][profile]
    assert svc["network_mode"] == "host" and not svc.get("ports") and not svc.get("privileged")
    assert svc["entrypoint"][-1] == profile.removeprefix("ray-")
    assert "./docker/vllm/ray-node.sh:/usr/local/bin/enclave-ray-node:ro" in svc["volumes"]
    assert environment(svc)["ENCLAVE_RAY_HEAD_ADDRESS"] == "10.20.2.11"


def test_ray_head_serves_vllm_on_the_node_address_with_its_key() -> None:
    data = load_compose({"ENCLAVE_RAY_NODE_ADDRESS": "10.20.2.11"})
    head, worker = data["services"]["ray-head"], data["services"]["ray-worker"]
    assert "--host=10.20.2.11" in head["command"], "not 0.0.0.0 on the host's network"
    assert "llm_api_key" in head["secrets"] and not worker.get("secrets"), "only the API server needs the key"
    assert not any("api-key" in str(arg) for arg in head["command"])
    assert "10.20.2.11:8000/health" in " ".join(head["healthcheck"]["test"])
