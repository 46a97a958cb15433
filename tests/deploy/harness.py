"""Build fake offline bundles and run the Ansible playbooks locally into a scratch root.

The bundle is real in every way the installer checks (layout, manifest.json, SHA256SUMS, the
appliance files copied from this repository) and fake only in content the installer never
opens without a Docker engine: image archives, model weights, packages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "infra" / "ansible"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A command-line tool from this virtualenv; a missing one fails the test (CI installs dev requirements)."""
    path = VENV_BIN / name
    if not path.exists():
        raise AssertionError(f"{name} is not installed in {VENV_BIN}: pip install -r requirements/dev.txt")
    return str(path)


def load_bundle_script() -> ModuleType:
    path = REPO / "scripts" / "bundle" / "build_bundle.py"
    spec = importlib.util.spec_from_file_location("build_bundle", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_bundle", module)
    spec.loader.exec_module(module)
    return module


bb = load_bundle_script()


def fake_image_id(ref: str) -> str:
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


def make_fake_bundle(parent: Path, version: str = "0.1.0", model: str = "llama-3.1-8b-instruct") -> tuple[Path, str]:
    """A bundle folder like build_bundle.py makes; returns (folder, SHA-256 of SHA256SUMS)."""
    spec = bb.load_spec()
    bundle = parent / f"enclave-bundle-{version}"
    for sub in ("images", "wheels", "debs", f"models/{model}"):
        (bundle / sub).mkdir(parents=True)
    images: dict[str, Any] = {}
    for image in spec.images:
        if image.optional:
            continue
        (bundle / "images" / f"{image.name}.tar").write_bytes(b"not a real image: " + image.ref.encode())
        images[image.name] = {
            "ref": image.ref,
            "compose_variable": image.compose_variable,
            "file": f"images/{image.name}.tar",
            "id": fake_image_id(image.ref),
            "repo_digest": "",
        }
    model_dir = bundle / "models" / model
    (model_dir / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}\n', encoding="utf-8")
    (model_dir / "tokenizer.json").write_text("{}\n", encoding="utf-8")
    (model_dir / "model-00001-of-00001.safetensors").write_bytes(b"\0" * 64)
    (bundle / "debs" / "Packages").write_text("", encoding="utf-8")
    (bundle / "debs" / "Release").write_text("Origin: enclave-bundle\n", encoding="utf-8")
    (bundle / "wheels" / "README").write_text("wheels would be here\n", encoding="utf-8")
    bb.copy_appliance(bundle)
    bb.write_manifest(
        bundle,
        {
            "format": bb.FORMAT,
            "version": version,
            "created": "2026-11-28T00:00:00+00:00",
            "source_commit": "test",
            "base_image": {"ref": spec.base_image, "id": fake_image_id(spec.base_image), "repo_digest": ""},
            "images": images,
            "models": {model: {"dir": f"models/{model}", "served_name": model, "files": 3}},
            "debs": {"dir": "debs", "target_image": "ubuntu:24.04", "packages": []},
            "wheels": {"dir": "wheels", "python": "cp311", "torch": spec.torch_version},
        },
    )
    return bundle, bb.write_checksums(bundle)


@dataclass
class Run:
    rc: int
    output: str
    recap: dict[str, int]
    tmp: Path

    def assert_ok(self) -> None:
        assert self.rc == 0, self.output[-6000:]


_RECAP = re.compile(r"^(\S+)\s+:\s+(.*)$", re.MULTILINE)


def _recap(output: str) -> dict[str, int]:
    tail = output.rsplit("PLAY RECAP", 1)[-1]
    match = _RECAP.search(tail)
    if not match:
        return {}
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}


def write_inventory(path: Path, groups: Mapping[str, Sequence[str]], hostvars: Mapping[str, Mapping[str, Any]]) -> Path:
    """A local-connection inventory: every host runs on this machine, without privilege escalation."""
    hosts = {h for members in groups.values() for h in members}
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}
    inventory: dict[str, Any] = {"all": {"children": {}}}
    for group, members in groups.items():
        inventory["all"]["children"][group] = {
            "hosts": {h: ({**local, **hostvars.get(h, {})} if h in hosts else {}) for h in members}
        }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def run_playbook(
    playbook: str,
    inventory: Path,
    extra_vars: Mapping[str, Any],
    tmp: Path,
    *args: str,
    timeout: float = 300,
) -> Run:
    vars_file = tmp / f"vars-{playbook.replace('/', '_')}-{len(list(tmp.glob('vars-*')))}.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    proc = subprocess.run(
        [tool("ansible-playbook"), "-i", str(inventory), "-e", f"@{vars_file}", *args, playbook],
        cwd=ANSIBLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    return Run(proc.returncode, output, _recap(output), tmp)


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)
