"""The Dockerfiles and the scripts baked into the images, checked without a Docker engine.

Static rules for the Dockerfiles (pinned bases, multi-stage, non-root, health check, models loaded
with the network off at build time, only allow-listed files in the build context), and the two
shell scripts run for real: the secrets wrapper and the ingest worker.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.compose import REPO, raw_compose
from tests.deploy.test_compose import image_problem

DOCKERFILES = {
    "gateway": REPO / "services" / "gateway" / "Dockerfile",
    "ingest": REPO / "ingest" / "Dockerfile",
    "vllm-cpu": REPO / "docker" / "vllm-cpu.Dockerfile",
}


@dataclass
class Instruction:
    keyword: str
    args: str


def parse(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and heredoc bodies dropped."""
    out: list[Instruction] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = line
        while text.endswith("\\") and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue
            text = text[:-1] + " " + nxt.strip()
        heredoc = re.search(r"<<-?'?(\w+)'?", text)
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                i += 1
            i += 1
        keyword, _, args = text.strip().partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    return out


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    return {
        name: value
        for ins in instructions
        if ins.keyword == "ARG" and "=" in ins.args
        for name, value in [ins.args.split("=", 1)]
    }


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_rules(name: str) -> None:
    path = DOCKERFILES[name]
    assert path.read_text(encoding="utf-8").startswith("# syntax=docker/dockerfile:1."), "BuildKit syntax pinned"
    instructions = parse(path)
    defaults = arg_defaults(instructions)
    assert image_problem(defaults["PYTHON_IMAGE"]) is None, defaults["PYTHON_IMAGE"]
    all_stages = stages(instructions)
    froms = [s[0].args for s in all_stages]
    assert len(froms) >= 3, f"multi-stage: wheels, build, runtime ({froms})"
    assert froms[0] == "scratch AS wheels", "the empty wheelhouse stage the bundle build replaces"
    for base in froms[1:]:
        image = base.split()[0]
        assert image == "${PYTHON_IMAGE}", f"every stage starts from the pinned base ({base})"
    runtime = all_stages[-1]
    users = [ins.args for ins in runtime if ins.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}, f"runs as root: {users}"
    assert re.fullmatch(r"\d+:\d+", users[-1]), "numeric user:group (Kubernetes and Compose can check it)"
    assert any(ins.keyword == "HEALTHCHECK" for ins in runtime), "no HEALTHCHECK"
    text = path.read_text(encoding="utf-8")
    assert "latest" not in text
    assert not any(ins.keyword == "ADD" for ins in instructions), "ADD can fetch URLs; COPY only"
    pip_lines = [ins.args for ins in instructions if ins.keyword == "RUN" and "pip install" in ins.args]
    assert any('"torch==${TORCH_VERSION}"' in line for line in pip_lines), "torch pinned and installed first"
    assert re.fullmatch(r"\d+\.\d+\.\d+", defaults["TORCH_VERSION"])
    for line in pip_lines:
        for part in re.split(r"&&", line):
            if "-r requirements/" in part:
                assert " -c requirements/constraints-" in part, f"unconstrained install: {part}"
    # The models load (or the model is converted) with the network switched off.
    assert any(ins.keyword == "RUN" and ins.args.startswith("--network=none") for ins in instructions)
    # No pip in the runtime stage: nothing is installed at start.
    assert not any(ins.keyword == "RUN" and "pip install" in ins.args for ins in runtime)
    for key in ("HF_HUB_OFFLINE=1", "VLLM_NO_USAGE_STATS=1", "DO_NOT_TRACK=1"):
        assert key in text, key


def test_compose_builds_what_the_dockerfiles_are() -> None:
    built = {svc["build"]["dockerfile"] for svc in raw_compose()["services"].values() if "build" in svc}
    assert built == {str(p.relative_to(REPO)) for p in DOCKERFILES.values()}


def test_dockerignore_allows_exactly_what_is_copied() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "deny everything first, then allow-list"
    allowed = [r[1:].rstrip("/") for r in rules if r.startswith("!")]
    for path in DOCKERFILES.values():
        for ins in parse(path):
            if ins.keyword != "COPY" or "--from=" in ins.args:
                continue
            sources = [a for a in ins.args.split() if not a.startswith("--")][:-1]
            for src in sources:
                ok = any(src == a or src.startswith(a + "/") or Path(src).match(a) for a in allowed)
                assert ok, f"{path.name}: COPY {src} is excluded by .dockerignore"
                assert (REPO / src).exists(), f"{path.name}: COPY {src} does not exist"
    for secret in (".venv", "data", ".models", ".git", "test-artifacts"):
        assert not any(a == secret or a.startswith(secret + "/") for a in allowed), secret


@pytest.fixture
def wrapper(tmp_path: Path) -> Path:
    """docker/enclave-wrapper.sh with its final exec pointed at `env`, to see what enclave would get."""
    text = (REPO / "docker" / "enclave-wrapper.sh").read_text(encoding="utf-8")
    assert 'exec /opt/venv/bin/enclave "$@"' in text
    path = tmp_path / "enclave"
    path.write_text(text.replace('exec /opt/venv/bin/enclave "$@"', 'exec env "$@"'), encoding="utf-8")
    path.chmod(0o755)
    return path


def test_wrapper_turns_secret_files_into_settings(wrapper: Path, tmp_path: Path) -> None:
    (tmp_path / "qkey").write_text("q" * 64 + "\n", encoding="utf-8")
    (tmp_path / "lkey").write_text("l" * 64, encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "QDRANT_API_KEY_FILE": str(tmp_path / "qkey"),
        "ENCLAVE_LLM_API_KEY_FILE": str(tmp_path / "lkey"),
        "ENCLAVE_AUTH__OIDC_JWKS_FILE": "/etc/enclave/oidc-jwks.json",
    }
    out = subprocess.run([str(wrapper)], env=env, capture_output=True, text=True, check=True).stdout
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert seen["QDRANT_API_KEY"] == "q" * 64
    assert seen["ENCLAVE_LLM_API_KEY"] == "l" * 64
    assert "QDRANT_API_KEY_FILE" not in seen and "ENCLAVE_LLM_API_KEY_FILE" not in seen
    # A setting that happens to end in _FILE is left alone.
    assert seen["ENCLAVE_AUTH__OIDC_JWKS_FILE"] == "/etc/enclave/oidc-jwks.json"
    assert "ENCLAVE_AUTH__OIDC_JWKS" not in seen


def test_wrapper_refuses_an_unreadable_secret(wrapper: Path, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "QDRANT_API_KEY_FILE": str(tmp_path / "missing")}
    proc = subprocess.run([str(wrapper)], env=env, capture_output=True, text=True)
    assert proc.returncode == 78
    assert "QDRANT_API_KEY_FILE" in proc.stderr


def test_ingest_worker_ingests_each_collection_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "hr" / "policies").mkdir(parents=True)
    (inbox / "hr" / ".enclave-groups").write_text("hr, managers\n", encoding="utf-8")
    (inbox / "public").mkdir()
    (inbox / "stray-file.txt").write_text("not a collection\n", encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    fake = bin_dir / "enclave"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$4" != "public" ]\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    heartbeat = tmp_path / "heartbeat"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ENCLAVE_INBOX": str(inbox),
        "ENCLAVE_INGEST_INTERVAL_S": "60",
        "ENCLAVE_INGEST_HEARTBEAT": str(heartbeat),
    }
    proc = subprocess.Popen(
        ["sh", str(REPO / "docker" / "ingest-worker.sh")], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (log.exists() and len(log.read_text().splitlines()) >= 2):
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, "a stop signal ends the worker cleanly, even mid-sleep"
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls == [
        f"ingest {inbox}/hr/ --collection hr --groups hr,managers --quiet",
        f"ingest {inbox}/public/ --collection public --groups  --quiet",
    ]
    assert "'public' reported failures" in stderr, "a failing pass is reported and the worker goes on"
    assert heartbeat.exists()


@pytest.mark.parametrize("script", ["enclave-wrapper.sh", "ingest-worker.sh", "init-secrets.sh"])
def test_shell_scripts_parse(script: str) -> None:
    subprocess.run(["sh", "-n", str(REPO / "docker" / script)], check=True)


def test_init_secrets_for_a_laptop(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "ENCLAVE_SECRETS_DIR": str(tmp_path / "s")}
    for _ in range(2):  # the second run keeps the keys
        subprocess.run(["sh", str(REPO / "docker" / "init-secrets.sh")], env=env, check=True, capture_output=True)
    key = (tmp_path / "s" / "qdrant_api_key").read_text(encoding="utf-8")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert re.fullmatch(r"[0-9a-f]{64}", (tmp_path / "s" / "llm_api_key").read_text(encoding="utf-8"))
    assert (tmp_path / "s" / "qdrant-local.yaml").read_text(encoding="utf-8") == f'service:\n  api_key: "{key}"\n'
