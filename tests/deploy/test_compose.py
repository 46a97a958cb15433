"""docker-compose.yml against the Compose specification's JSON schema, and the appliance's invariants.

No Docker engine runs in CI: the file is loaded, interpolated and validated the way Compose does it
before it talks to an engine (tests/deploy/compose.py), with the defaults, with the laptop profile's
env file (docker/cpu.env), and (tests/deploy/test_ansible.py) with the .env the installer renders.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.compose import (
    COMPOSE_FILE,
    REPO,
    active_services,
    command_flags,
    compose_schema,
    environment,
    interpolate_str,
    load_compose,
    raw_compose,
    read_env_file,
)
from tests.deploy.harness import bb, tool

CPU_ENV = read_env_file(REPO / "docker" / "cpu.env")
ENVS: dict[str, dict[str, str]] = {"defaults": {}, "cpu-profile": CPU_ENV}
# An exact version tag: v1.2.3, 1.2.3, 0.1.0, v0.33.0, optionally with a -suffix (-unprivileged).
# The nodes of a multi-node vLLM instance (docker-compose.yml, ray-head and ray-worker).
HOST_NETWORK_SERVICES = frozenset({"ray-head", "ray-worker"})
# Services that publish a port: the gateway (clients) and Grafana (administrators; loopback by default).
PUBLISHING_SERVICES = frozenset({"gateway", "grafana"})
VERSION_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?([-.][A-Za-z0-9.]+)*$")


def image_problem(ref: str) -> str | None:
    """Why an image reference is not pinned, or None."""
    if not ref or "$" in ref:
        return f"{ref!r}: not a literal image reference"
    name, _, digest = ref.partition("@")
    if digest:
        return None if re.fullmatch(r"sha256:[0-9a-f]{64}", digest) else f"{ref}: malformed digest"
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"{ref}: untagged (means :latest)"
    tag = last.split(":", 1)[1]
    if tag == "latest" or not VERSION_TAG.match(tag):
        return f"{ref}: tag {tag!r} is not an exact version"
    return None


def validate(data: Mapping[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])


def check_invariants(data: Mapping[str, Any]) -> None:
    """What must hold for any interpolation of the file (defaults, laptop, the installer's .env)."""
    services: dict[str, Any] = data["services"]
    networks: dict[str, Any] = data["networks"]
    internal = {name for name, net in networks.items() if net and net.get("internal") is True}
    assert "internal" in internal, "the `internal` network must have internal: true (no route out)"
    for name, svc in services.items():
        if name in HOST_NETWORK_SERVICES:
            # Ray and NCCL reach the other nodes of a multi-node vLLM by the hosts' addresses; the host
            # firewall confines them to those nodes. Nothing else may use the host's network.
            assert svc.get("network_mode") == "host" and not svc.get("networks"), name
            assert not svc.get("ports"), f"{name} publishes ports; only the gateway may"
        else:
            nets = svc.get("networks") or []
            nets = list(nets) if isinstance(nets, list) else list(nets.keys())
            assert "internal" in nets, f"{name} is not on the internal network"
            outside = [n for n in nets if n not in internal]
            if name not in PUBLISHING_SERVICES:
                assert not outside, f"{name} is on a network with a route out: {outside}"
                assert not svc.get("ports"), f"{name} publishes ports; only the gateway may"
            else:
                for port in svc.get("ports") or []:
                    # host:port:container, never all interfaces by omission
                    assert isinstance(port, str) and port.count(":") == 2, f"{name}: port {port!r} has no address"
            assert svc.get("network_mode") is None, f"{name} sets network_mode"
        assert not svc.get("privileged"), f"{name} is privileged"
        assert svc.get("pid") is None and svc.get("ipc") is None, f"{name} shares a host namespace"
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            assert "docker.sock" not in source, f"{name} mounts the Docker socket"
        problem = image_problem(svc.get("image", ""))
        assert problem is None, f"{name}: {problem}"
        assert svc.get("restart") in {"unless-stopped", "always"}, f"{name}: no restart policy"
        hc = svc.get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable"), f"{name}: no health check"
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        assert limits.get("memory") and limits.get("cpus"), f"{name}: no CPU and memory limits"
        assert (svc.get("logging") or {}).get("options", {}).get("max-size"), f"{name}: unbounded logs"
        assert "no-new-privileges:true" in (svc.get("security_opt") or []), f"{name}: no no-new-privileges"
    published = [p for p in services["gateway"].get("ports") or []]
    assert len(published) == 1, published
    # The gateway's only outside network carries nothing but its published port.
    outside_nets = [n for n in services["gateway"]["networks"] if n not in internal]
    assert outside_nets == ["edge"], outside_nets
    # Telemetry and usage statistics off, no model hub.
    grafana = environment(services["grafana"])
    for key in (
        "GF_ANALYTICS_REPORTING_ENABLED",
        "GF_ANALYTICS_CHECK_FOR_UPDATES",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
    ):
        assert grafana.get(key) == "false", f"grafana: telemetry or update checks on ({key})"
    assert grafana.get("GF_SECURITY_DISABLE_GRAVATAR") == "true", "grafana: telemetry: Gravatar images are fetched"
    q = environment(services["qdrant"])
    assert q.get("QDRANT__TELEMETRY_DISABLED") == "true", "qdrant: telemetry is on"
    for name in ("llm", "llm-cpu", *sorted(HOST_NETWORK_SERVICES)):
        env = environment(services[name])
        assert env.get("VLLM_NO_USAGE_STATS") == "1", f"{name}: vLLM usage statistics (telemetry) are on"
        assert env.get("DO_NOT_TRACK") == "1", f"{name}: telemetry: DO_NOT_TRACK unset"
        assert env.get("HF_HUB_OFFLINE") == "1", f"{name}: the model hub is reachable"
    for name in ("gateway", "ingest"):
        env = environment(services[name])
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "VLLM_NO_USAGE_STATS", "DO_NOT_TRACK"):
            assert env.get(key) == "1", f"{name}: {key} unset (telemetry or hub access)"
        assert env.get("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS") == "", f"{name}: tldextract would fetch online"
        assert env.get("ENCLAVE_ENV") == "production", name
        # Keys arrive as files, never as values in the environment (docker inspect shows those).
        for key, value in env.items():
            if re.search(r"(API_KEY|SECRET|PASSWORD|TOKEN)$", key):
                raise AssertionError(f"{name}: {key}={value!r} puts a secret in the environment")
        assert env["QDRANT_API_KEY_FILE"].startswith("/run/secrets/"), name
        assert env["ENCLAVE_LLM_API_KEY_FILE"].startswith("/run/secrets/"), name
    declared = set(data.get("secrets") or {})
    for name, svc in services.items():
        for secret in svc.get("secrets") or []:
            source = secret if isinstance(secret, str) else secret["source"]
            assert source in declared, f"{name} uses undeclared secret {source}"


@pytest.mark.parametrize("env_name", sorted(ENVS))
def test_valid_against_compose_schema(env_name: str) -> None:
    validate(load_compose(ENVS[env_name]))


def test_schema_is_the_compose_specification() -> None:
    schema = compose_schema()
    assert schema.get("title") == "Compose Specification"
    assert {"services", "networks", "volumes", "secrets"} <= set(schema["properties"])


def test_check_jsonschema_cli_accepts_the_raw_file() -> None:
    """The same schema through check-jsonschema's CLI, as an editor or pre-commit hook would run it."""
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_rejects_a_broken_file() -> None:
    """The validation has teeth: a typo'd key and a wrong type both fail."""
    data = load_compose()
    data["services"]["gateway"]["restart_policy"] = "always"
    with pytest.raises(AssertionError, match="restart_policy"):
        validate(data)
    data = load_compose()
    data["services"]["qdrant"]["ports"] = 6333
    with pytest.raises(AssertionError):
        validate(data)


@pytest.mark.parametrize("env_name", sorted(ENVS))
def test_invariants(env_name: str) -> None:
    check_invariants(load_compose(ENVS[env_name]))


def test_invariant_checks_catch_violations() -> None:
    def broken(mutate: Any) -> Any:
        data = load_compose()
        mutate(data["services"])
        return data

    cases = {
        "publishes ports": lambda s: s["qdrant"].__setitem__("ports", ["6333:6333"]),
        "route out": lambda s: s["ingest"].__setitem__("networks", ["internal", "edge"]),
        "untagged": lambda s: s["qdrant"].__setitem__("image", "qdrant/qdrant"),
        "not an exact version": lambda s: s["llm"].__setitem__("image", "vllm/vllm-openai:latest"),
        "telemetry": lambda s: s["qdrant"]["environment"].__setitem__("QDRANT__TELEMETRY_DISABLED", "false"),
        "no health check": lambda s: s["gateway"].pop("healthcheck"),
        "secret in the environment": lambda s: s["gateway"]["environment"].__setitem__("QDRANT_API_KEY", "x"),
        "sets network_mode": lambda s: s["llm"].__setitem__("network_mode", "host"),
        "ray-worker publishes ports": lambda s: s["ray-worker"].__setitem__("ports", ["6379:6379"]),
        "prometheus publishes ports": lambda s: s["prometheus"].__setitem__("ports", ["9090:9090"]),
        "grafana: telemetry": lambda s: s["grafana"]["environment"].__setitem__(
            "GF_ANALYTICS_REPORTING_ENABLED", "true"
        ),
        "grafana: port": lambda s: s["grafana"].__setitem__("ports", ["3000:3000"]),
        "ray-head: vLLM usage statistics": lambda s: s["ray-head"]["environment"].__setitem__(
            "VLLM_NO_USAGE_STATS", "0"
        ),
    }
    for message, mutate in cases.items():
        with pytest.raises(AssertionError) as info:
            check_invariants(broken(mutate))
        assert message in str(info.value), (message, str(info.value))


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("qdrant/qdrant:v1.20.0-unprivileged", True),
        ("vllm/vllm-openai:v0.33.0", True),
        ("enclave/gateway:0.1.0", True),
        ("registry.local:5000/enclave/gateway:0.1.0", True),
        ("qdrant/qdrant@sha256:" + "a" * 64, True),
        ("qdrant/qdrant", False),
        ("registry.local:5000/qdrant", False),
        ("qdrant/qdrant:latest", False),
        ("vllm/vllm-openai:nightly", False),
        ("qdrant/qdrant:v1", False),
    ],
)
def test_image_pinning_rule(ref: str, ok: bool) -> None:
    assert (image_problem(ref) is None) is ok


def test_profiles_pick_exactly_one_llm() -> None:
    data = load_compose()
    core = {"qdrant", "gateway", "ingest", "prometheus", "grafana"}  # monitoring runs in every profile
    assert set(active_services(data, set())) == core
    assert set(active_services(data, {"gpu"})) == core | {"llm"}
    assert set(active_services(data, {"cpu"})) == core | {"llm-cpu"}
    aliases = data["services"]["llm-cpu"]["networks"]["internal"]["aliases"]
    assert "llm" in aliases, "the gateway reaches whichever LLM serves as http://llm:8000"


@pytest.mark.parametrize(("env_name", "llm"), [("defaults", "llm"), ("cpu-profile", "llm-cpu")])
def test_gateway_asks_for_the_model_the_llm_serves(env_name: str, llm: str) -> None:
    data = load_compose(ENVS[env_name])
    if env_name == "cpu-profile":
        assert set(CPU_ENV["COMPOSE_PROFILES"].split(",")) == {"cpu"}
    served = command_flags(data["services"][llm])["served-model-name"]
    for name in ("gateway", "ingest"):
        env = environment(data["services"][name])
        assert env["ENCLAVE_LLM_MODEL"] == served
        assert env["ENCLAVE_LLM_URL"] == "http://llm:8000/v1"
        assert env["QDRANT_URL"] == "http://qdrant:6333"


def test_gpu_llm_service() -> None:
    llm = load_compose()["services"]["llm"]
    assert llm["image"].startswith("vllm/vllm-openai:")
    devices = llm["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "1", "capabilities": ["gpu"]}]
    flags = command_flags(llm)
    assert flags["model"] == "/models/llm"
    assert flags["served-model-name"] == "llama-3.1-8b-instruct"
    mounts = [v for v in llm["volumes"] if isinstance(v, str) and v.endswith(":/models/llm:ro")]
    assert len(mounts) == 1, "weights come read-only from a host directory"
    # vLLM's key is read from the secret file, never put in the command line.
    assert "llm_api_key" in llm["secrets"]
    assert "/run/secrets/llm_api_key" in " ".join(llm["entrypoint"])
    assert not any("api-key" in str(arg) for arg in llm["command"]), "a key on the command line shows in ps"


@pytest.mark.parametrize("service", ["llm", "llm-cpu"])
def test_vllm_entrypoint_reads_its_key_or_refuses_to_start(service: str, tmp_path: Path) -> None:
    """The shell line in front of vLLM, run for real with `env` standing in for vLLM."""
    entrypoint = load_compose()["services"][service]["entrypoint"]
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    script = entrypoint[2]
    assert "python3 -m vllm.entrypoints.openai.api_server" in script
    key = tmp_path / "llm_api_key"
    stub = tmp_path / "vllm"
    stub.write_text('#!/bin/sh\nprintf "key=%s\\n" "$VLLM_API_KEY"\nprintf "arg=%s\\n" "$@"\n', encoding="utf-8")
    stub.chmod(0o755)
    script = script.replace("/run/secrets/llm_api_key", str(key)).replace(
        "python3 -m vllm.entrypoints.openai.api_server", str(stub)
    )
    argv = ["sh", "-c", script, *entrypoint[3:], "--port=8000", "--model=/models/llm"]
    key.write_text("s" * 64 + "\n", encoding="utf-8")
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert out.splitlines() == ["key=" + "s" * 64, "arg=--port=8000", "arg=--model=/models/llm"]
    key.write_text("", encoding="utf-8")
    assert subprocess.run(argv, capture_output=True, env={"PATH": "/usr/bin:/bin"}).returncode != 0
    key.unlink()
    assert subprocess.run(argv, capture_output=True, env={"PATH": "/usr/bin:/bin"}).returncode != 0


def test_gateway_listens_inside_and_publishes_on_loopback_by_default() -> None:
    gw = load_compose()["services"]["gateway"]
    env = environment(gw)
    assert env["ENCLAVE_GATEWAY__HOST"] == "0.0.0.0"
    (port,) = gw["ports"]
    host_ip, host_port, container_port = port.split(":")
    assert host_port == "8000"
    assert host_ip == "127.0.0.1", "without an installer-chosen address the gateway stays on loopback"
    assert container_port == env["ENCLAVE_GATEWAY__PORT"] == "8000"
    assert gw["healthcheck"]["test"][-1].endswith("/healthz', timeout=3)")
    assert gw["user"] == "10001:10001" and gw["read_only"] is True


def test_qdrant_storage_snapshots_and_key() -> None:
    q = load_compose()["services"]["qdrant"]
    targets = {v.split(":")[1] for v in q["volumes"]}
    assert targets == {"/qdrant/storage", "/qdrant/snapshots"}
    assert {"source": "qdrant_config", "target": "/qdrant/config/local.yaml"} in q["secrets"]
    assert q["image"].endswith("-unprivileged")


def test_build_contexts_exist() -> None:
    for name, svc in raw_compose()["services"].items():
        if "build" in svc:
            assert (REPO / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file(), name


def test_default_images_match_the_bundle() -> None:
    """One list of images: what the bundle ships is what Compose runs by default."""
    raw = raw_compose()
    spec = bb.load_spec()
    defaults = {}
    for svc in raw["services"].values():
        match = re.fullmatch(r"\$\{(\w+):-([^}]+)\}", svc["image"])
        assert match, f"image {svc['image']!r} should be ${{VAR:-default}} so the installer can set it"
        defaults[match.group(1)] = match.group(2)
    assert defaults == {image.compose_variable: image.ref for image in spec.images}


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate_str("${SET:-d}|${EMPTY:-d}|${UNSET:-d}", env) == "x|d|d"
    assert interpolate_str("${SET-d}|${EMPTY-d}|${UNSET-d}", env) == "x||d"
    assert interpolate_str("${SET:+a}|${EMPTY:+a}|${EMPTY+a}", env) == "a||a"
    assert interpolate_str("$$HOME $SET ${SET}", env) == "$HOME x x"
    with pytest.raises(ValueError, match="UNSET"):
        interpolate_str("${UNSET:?needed}", env)
