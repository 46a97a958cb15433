"""scripts/bundle/build_bundle.py: the bundle's plan, its checksums and their verification.

The build itself needs Docker and the internet (it runs on the connected machine); here its plan
is checked (--dry-run) and everything the air-gapped side relies on is run for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose import REPO
from tests.deploy.harness import bb, make_fake_bundle

SCRIPT = REPO / "scripts" / "bundle" / "build_bundle.py"


def test_spec_pins_every_image() -> None:
    spec = bb.load_spec()
    assert {i.name for i in spec.images} >= {"qdrant", "vllm", "gateway", "ingest"}
    for image in spec.images:
        bb.check_pinned(image.ref)
    assert spec.version == "0.1.0"
    assert "llama-3.1-8b-instruct" in {m.name for m in spec.models}


@pytest.mark.parametrize("ref", ["qdrant/qdrant", "qdrant/qdrant:latest", "vllm/vllm-openai:nightly"])
def test_spec_refuses_moving_references(ref: str) -> None:
    with pytest.raises(ValueError):
        bb.check_pinned(ref)


def test_dry_run_plan(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "build", "--out", str(tmp_path), "--dry-run"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = bb.load_spec()
    for image in spec.images:
        if image.optional:
            assert image.ref not in out
            continue
        assert f"docker image save --output {tmp_path}/enclave-bundle-0.1.0/images/{image.name}.tar {image.ref}" in out
    # Images built here come from the bundle's own wheelhouse, with no index: an air-gapped rebuild is the same.
    assert out.count("--build-arg PIP_NO_INDEX=1") == 2
    assert "download.pytorch.org/whl/cpu torch==2.13.0" in out
    assert "-c requirements/constraints-app.txt" in out
    assert "--download-only" in out and "dpkg-scanpackages" in out and "apt-ftparchive release" in out
    for package in spec.debs["packages"]:
        assert package in out
    assert ":latest" not in out


def test_dry_run_with_cpu_image(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "build", "--out", str(tmp_path), "--dry-run", "--with-cpu-image", "--skip-debs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "docker/vllm-cpu.Dockerfile" in out and "requirements/vllm.txt" in out
    assert "dpkg-scanpackages" not in out


def test_checksums_verify_and_match_sha256sum(tmp_path: Path) -> None:
    bundle, sums_sha = make_fake_bundle(tmp_path)
    result = bb.verify_bundle(bundle, sums_sha)
    assert result.ok, result.problems
    # The file is sha256sum(1)'s format: the host checks it with coreutils alone.
    subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "SHA256SUMS"], cwd=bundle, check=True)
    assert (bundle / "appliance" / "docker-compose.yml").read_bytes() == (REPO / "docker-compose.yml").read_bytes()
    assert (bundle / "appliance" / "infra" / "ansible" / "site.yml").is_file()


def test_verification_catches_tampering(tmp_path: Path) -> None:
    bundle, sums_sha = make_fake_bundle(tmp_path)
    with (bundle / "images" / "qdrant.tar").open("ab") as fh:
        fh.write(b"!")
    result = bb.verify_bundle(bundle, sums_sha)
    assert not result.ok and result.problems == ["images/qdrant.tar: SHA-256 mismatch"]


def test_verification_catches_extra_missing_and_linked_files(tmp_path: Path) -> None:
    bundle, sums_sha = make_fake_bundle(tmp_path)
    (bundle / "images" / "extra.tar").write_bytes(b"smuggled")
    (bundle / "wheels" / "README").unlink()
    problems = bb.verify_bundle(bundle, sums_sha).problems
    assert "images/extra.tar: not listed in SHA256SUMS" in problems
    assert "wheels/README: missing" in problems
    (bundle / "images" / "extra.tar").unlink()
    os.symlink("/etc/passwd", bundle / "wheels" / "README")
    assert any("symbolic links" in p for p in bb.verify_bundle(bundle, sums_sha).problems)


def test_verification_needs_the_announced_hash(tmp_path: Path) -> None:
    bundle, _ = make_fake_bundle(tmp_path)
    # Whoever rewrites a file and SHA256SUMS with it still cannot match the hash sent out of band.
    (bundle / "manifest.json").write_text("{}", encoding="utf-8")
    forged = bb.write_checksums(bundle)
    assert bb.verify_bundle(bundle).ok
    result = bb.verify_bundle(bundle, "0" * 64)
    assert not result.ok and "expected" in result.problems[0]
    assert forged != "0" * 64


def test_verify_cli(tmp_path: Path) -> None:
    bundle, sums_sha = make_fake_bundle(tmp_path)
    ok = subprocess.run([sys.executable, str(SCRIPT), "verify", str(bundle), "--expect", sums_sha], capture_output=True)
    assert ok.returncode == 0
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "verify", str(bundle), "--expect", "f" * 64], capture_output=True
    )
    assert bad.returncode == 1 and b"REJECTED" in bad.stdout


def test_model_copy_leaves_out_the_duplicate_checkpoint(tmp_path: Path) -> None:
    src = tmp_path / "hf"
    (src / "original").mkdir(parents=True)
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        (src / name).write_text("{}", encoding="utf-8")
    (src / "model-00001-of-00002.safetensors").write_bytes(b"w")
    (src / "original" / "consolidated.00.pth").write_bytes(b"duplicate")
    (src / ".gitattributes").write_text("", encoding="utf-8")
    model = next(m for m in bb.load_spec().models if m.name == "llama-3.1-8b-instruct")
    info = bb.copy_model(model, src, tmp_path / "bundle")
    copied = sorted(p.name for p in (tmp_path / "bundle" / "models" / model.name).rglob("*"))
    assert "consolidated.00.pth" not in copied and ".gitattributes" not in copied
    assert info == {"dir": "models/llama-3.1-8b-instruct", "served_name": model.name, "files": 5}
    (src / "tokenizer.json").unlink()
    with pytest.raises(SystemExit, match=r"tokenizer\.json"):
        bb.copy_model(model, src, tmp_path / "again")
