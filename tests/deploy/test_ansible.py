"""infra/ansible: syntax, ansible-lint's production profile, and real playbook runs.

The runs use a local connection into a scratch root (enclave_root) with enclave_live: false, so every
file the roles render is rendered and checked, and nothing on this machine is installed, started or
firewalled. What needs a real server (packages, Docker, the GPU driver, nftables loaded) is gated by
enclave_live in the roles; docs/operations.md covers it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose import REPO, interpolate, raw_compose, read_env_file
from tests.deploy.harness import (
    ANSIBLE_DIR,
    VENV_BIN,
    Run,
    bb,
    make_fake_bundle,
    run_playbook,
    tool,
    write_inventory,
)
from tests.deploy.test_compose import check_invariants, validate

# Test order matters for speed only: the install chain (install, re-run, upgrade) runs in the foreground
# while the background lane runs lint, the tampered bundles and the scale-out render; their tests come last.
PLAYBOOKS = ["site.yml", "backup.yml", "restore.yml", "upgrade.yml"]
ADDRESS = "10.20.0.10"
SITE_VARS: dict[str, Any] = {
    "enclave_live": False,
    "enclave_intranet_cidrs": ["10.0.0.0/8", "192.168.50.0/24"],
    "enclave_admin_cidrs": ["10.20.99.0/24"],
    "enclave_dns_servers": ["10.20.0.2"],
    "enclave_ntp_servers": ["10.20.0.3"],
    "appliance_bind_address": ADDRESS,
}
SINGLE_GROUPS = {"enclave": ["enclave-test"], "enclave_gpu": ["enclave-test"]}


def changed_tasks(output: str) -> set[str]:
    """Names of the tasks and handlers that reported a change."""
    changed: set[str] = set()
    current = ""
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\]", line)
        if header:
            current = header.group(1)
        elif line.startswith("changed:"):
            changed.add(current)
    return changed


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Install:
    tmp: Path
    root: Path
    inventory: Path
    vars: dict[str, Any]
    bundle: Path
    sums_sha: str

    def path(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """site.yml run once on a fresh scratch root with a fake 0.1.0 bundle."""
    tmp = tmp_path_factory.mktemp("ansible-site")
    bundle, sums_sha = make_fake_bundle(tmp / "media")
    inventory = write_inventory(tmp / "hosts.yml", SINGLE_GROUPS, {})
    variables = {
        **SITE_VARS,
        "enclave_root": str(tmp / "root"),
        "enclave_version": "0.1.0",
        "bundle_source_path": str(bundle),
        "bundle_sha256sums_sha256": sums_sha,
    }
    run = run_playbook("site.yml", inventory, variables, tmp)
    run.assert_ok()
    assert run.recap.get("failed") == 0, run.recap
    return Install(tmp, tmp / "root", inventory, variables, bundle, sums_sha)


class Background:
    """Playbook runs that share nothing with the install above run on a second lane, so both of CI's
    two cores work: ansible-playbook keeps about one busy. Started once for the tests selected."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ansible-bg")
        self.jobs: dict[str, Future[Any]] = {}

    def start(self, key: str, fn: Callable[..., Any], *args: Any) -> None:
        self.jobs[key] = self.pool.submit(fn, *args)


def lint_run(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [tool("ansible-lint"), "--offline", "--profile", "production", "--nocolor"],
        cwd=ANSIBLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def tamper_run(attack: str, tmp: Path) -> Run:
    bundle, sums_sha = make_fake_bundle(tmp / "media")
    if attack == "file-changed":
        with (bundle / "images" / "gateway.tar").open("ab") as fh:
            fh.write(b"backdoor")
    else:
        sums_sha = "f" * 64
    inventory = write_inventory(tmp / "hosts.yml", SINGLE_GROUPS, {})
    variables = {
        **SITE_VARS,
        "enclave_root": str(tmp / "root"),
        "bundle_source_path": str(bundle),
        "bundle_sha256sums_sha256": sums_sha,
    }
    return run_playbook("site.yml", inventory, variables, tmp)


SCALE_OUT_HOSTS = {
    "qdrant-1": "10.20.1.11",
    "qdrant-2": "10.20.1.12",
    "qdrant-3": "10.20.1.13",
    "llm-1": "10.20.2.11",
    "gateway-1": "10.20.3.11",
    "gateway-2": "10.20.3.12",
}


def scale_out_run(tmp: Path) -> Run:
    """inventories/scale-out's group_vars, rendered for one Qdrant node that joins and the primary gateway."""
    bundle, sums_sha = make_fake_bundle(tmp / "media")
    shutil.copytree(ANSIBLE_DIR / "inventories" / "scale-out" / "group_vars", tmp / "group_vars")
    hostvars: dict[str, dict[str, Any]] = {
        h: {"ansible_host": ip, "enclave_root": str(tmp / h)} for h, ip in SCALE_OUT_HOSTS.items()
    }
    hostvars["gateway-1"]["appliance_primary"] = True
    groups = {
        "enclave": list(SCALE_OUT_HOSTS),
        "enclave_qdrant": ["qdrant-1", "qdrant-2", "qdrant-3"],
        "enclave_llm": ["llm-1"],
        "enclave_gateway": ["gateway-1", "gateway-2"],
        "enclave_gpu": ["llm-1"],
    }
    inventory = write_inventory(tmp / "hosts.yml", groups, hostvars)
    variables = {"enclave_live": False, "bundle_source_path": str(bundle), "bundle_sha256sums_sha256": sums_sha}
    return run_playbook("site.yml", inventory, variables, tmp, "--limit", "qdrant-2,gateway-1")


# In the order their tests need them.
BACKGROUND_JOBS: dict[str, tuple[str, Callable[..., Any], tuple[Any, ...]]] = {
    "tamper-file-changed": ("test_tampered_bundle_is_refused", tamper_run, ("file-changed",)),
    "tamper-wrong-announced-hash": ("test_tampered_bundle_is_refused", tamper_run, ("wrong-announced-hash",)),
    "scale-out": ("test_scale_out_inventory_renders_a_cluster", scale_out_run, ()),
    "lint": ("test_ansible_lint_production_profile", lint_run, ()),
}


@pytest.fixture(scope="module", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    lane = Background()
    selected = {
        item.originalname
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module
    }
    for key, (test, fn, args) in BACKGROUND_JOBS.items():
        if test in selected:
            lane.start(key, fn, *args, tmp_path_factory.mktemp(key))
    yield lane
    lane.pool.shutdown(wait=True, cancel_futures=True)


def background_result(lane: Background, key: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if key not in lane.jobs:
        _, fn, args = BACKGROUND_JOBS[key]
        lane.start(key, fn, *args, tmp_path_factory.mktemp(key))
    return lane.jobs[key].result(timeout=900)


def test_syntax_check() -> None:
    for inventory in ("inventories/single-host/hosts.yml", "inventories/scale-out/hosts.yml"):
        proc = subprocess.run(
            [tool("ansible-playbook"), "--syntax-check", "-i", inventory, *PLAYBOOKS],
            cwd=ANSIBLE_DIR,
            env={**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_only_builtin_modules() -> None:
    """The air-gapped control node needs ansible-core alone: no collection outside ansible.builtin."""
    modules: set[str] = set()
    for path in ANSIBLE_DIR.rglob("*.yml"):
        if "inventories" in path.parts or "templates" in path.parts:
            continue
        modules.update(re.findall(r"^\s*-?\s*([a-z_]+\.[a-z_]+\.[a-z_]+):", path.read_text(encoding="utf-8"), re.M))
    assert modules, "no module found: the scan is broken"
    assert {m for m in modules if not m.startswith("ansible.builtin.")} == set()


@pytest.mark.slow
def test_firewall_rules(install: Install) -> None:
    rules = install.path("/etc/nftables.d/enclave.nft").read_text(encoding="utf-8")
    for chain in ("input", "forward", "output"):
        assert re.search(rf"chain {chain} {{\n\s+type filter hook {chain} priority filter; policy drop;", rules)
    assert "elements = { 10.0.0.0/8, 192.168.50.0/24 }" in rules
    assert "ip saddr @intranet_v4 tcp dport { 8000 } accept" in rules
    assert "ip saddr @admin_v4 tcp dport 22 accept" in rules
    output_chain = rules.split("chain output", 1)[1]
    accepts = [line.strip() for line in output_chain.splitlines() if line.strip().endswith("accept")]
    assert accepts == [
        'oif "lo" accept',
        "ct state established,related accept",
        "meta l4proto ipv6-icmp accept",
        'oifname { "enclave-int", "enclave-edge" } accept',
        "ip daddr @dns_v4 meta l4proto { tcp, udp } th dport 53 accept",
        "ip daddr @ntp_v4 udp dport 123 accept",
    ], "the host may reach its DNS, its NTP and its own containers, nothing else"
    forward_chain = rules.split("chain forward", 1)[1].split("chain output", 1)[0]
    assert 'oifname "enclave-edge" ip saddr @intranet_v4 tcp dport 8000 accept' in forward_chain
    assert not re.search(r'iifname "enclave-edge" (?!oifname "enclave-edge")[^\n]*accept', forward_chain), (
        "nothing may leave the edge bridge for the outside"
    )
    assert "peers_v4" not in rules, "a single host opens no cluster ports"
    conf = install.path("/etc/nftables.conf").read_text(encoding="utf-8")
    statements = [line for line in conf.splitlines() if line.strip() and not line.startswith("#")]
    assert statements == ['include "/etc/nftables.d/*.nft"'], "a reload must not flush Docker's tables"
    assert 'include "/etc/nftables.d/*.nft"' in conf
    # Every compose bridge the rules name is the one docker-compose.yml pins.
    bridges = {n["driver_opts"]["com.docker.network.bridge.name"] for n in raw_compose()["networks"].values()}
    assert bridges == set(re.findall(r'"(enclave-[a-z]+)"', rules))


@pytest.mark.slow
def test_host_settings(install: Install) -> None:
    sysctl = install.path("/etc/sysctl.d/90-enclave.conf").read_text(encoding="utf-8")
    assert "net.ipv4.ip_forward = 1" in sysctl and "kernel.kptr_restrict = 2" in sysctl
    sshd = install.path("/etc/ssh/sshd_config.d/90-enclave.conf").read_text(encoding="utf-8")
    assert "PasswordAuthentication no" in sshd
    daemon = json.loads(install.path("/etc/docker/daemon.json").read_text(encoding="utf-8"))
    assert daemon["userland-proxy"] is False and daemon["live-restore"] is True
    assert daemon["registry-mirrors"] == [] and daemon["log-driver"] == "local"
    assert daemon["no-new-privileges"] is True
    dropin = install.path("/etc/systemd/system/docker.service.d/10-enclave.conf").read_text(encoding="utf-8")
    assert "After=nftables.service" in dropin
    assert "blacklist nouveau" in install.path("/etc/modprobe.d/blacklist-nouveau.conf").read_text(encoding="utf-8")
    source = install.path("/etc/apt/sources.list.d/enclave-offline.sources").read_text(encoding="utf-8")
    assert "URIs: file:/opt/enclave/bundles/0.1.0/debs" in source


@pytest.mark.slow
def test_bundle_installed_and_verified(install: Install) -> None:
    bundles = install.path("/opt/enclave/bundles")
    assert (bundles / "0.1.0.verified").read_text(encoding="utf-8").strip() == install.sums_sha
    assert bb.verify_bundle(bundles / "0.1.0", install.sums_sha).ok
    assert not (bundles / "0.1.0.partial").exists()
    model = install.path("/opt/enclave/models/llama-3.1-8b-instruct")
    assert (model / "config.json").is_file() and (model / "model-00001-of-00001.safetensors").is_file()


@pytest.mark.slow
def test_secrets_generated_on_the_host(install: Install) -> None:
    secrets = install.path("/etc/enclave/secrets")
    assert mode(secrets) == 0o700
    keys = {}
    for name in ("qdrant_api_key", "llm_api_key"):
        path = secrets / name
        keys[name] = path.read_text(encoding="utf-8")
        assert re.fullmatch(r"[0-9a-f]{64}", keys[name]), name
        assert mode(path) == 0o440 and path.stat().st_uid == 0 and path.stat().st_gid == 10001, name
    assert keys["qdrant_api_key"] != keys["llm_api_key"]
    config_path = secrets / "qdrant-local.yaml"
    assert mode(config_path) == 0o400 and config_path.stat().st_uid == 1000
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert config["service"]["api_key"] == keys["qdrant_api_key"]
    assert config["telemetry_disabled"] is True
    assert "cluster" not in config
    assert not list(secrets.glob(".*")), "no temporary key file left behind"


@pytest.mark.slow
def test_compose_project_with_the_rendered_env(install: Install) -> None:
    current = install.path("/opt/enclave/current")
    assert current.is_symlink() and current.resolve() == install.path("/opt/enclave/releases/0.1.0")
    release = current.resolve()
    assert (release / "docker-compose.yml").read_bytes() == (REPO / "docker-compose.yml").read_bytes()
    assert (release / "docker" / "ingest-worker.sh").is_file()
    env = read_env_file(release / ".env")
    assert mode(release / ".env") == 0o640
    manifest = json.loads((install.bundle / "manifest.json").read_text(encoding="utf-8"))
    for image in manifest["images"].values():
        assert env[image["compose_variable"]] == image["ref"]
    assert env["COMPOSE_PROFILES"] == "gpu"
    assert env["ENCLAVE_BIND_ADDRESS"] == ADDRESS
    assert env["ENCLAVE_SECRETS_DIR"] == "/etc/enclave/secrets"
    assert env["ENCLAVE_LLM_MODEL_DIR"] == "/opt/enclave/models/llama-3.1-8b-instruct"
    # The project as Compose will see it on the server: valid, and every invariant still holds.
    data = interpolate(raw_compose(release / "docker-compose.yml"), env)
    validate(data)
    check_invariants(data)
    assert data["services"]["gateway"]["ports"] == [f"{ADDRESS}:8000:8000"]
    assert data["secrets"]["qdrant_api_key"]["file"] == "/etc/enclave/secrets/qdrant_api_key"
    override = yaml.safe_load((release / "docker-compose.override.yml").read_text(encoding="utf-8"))
    assert override == {"services": {}}
    validate(override)


@pytest.mark.slow
def test_systemd_units_and_scripts(install: Install) -> None:
    unit = install.path("/etc/systemd/system/enclave.service").read_text(encoding="utf-8")
    assert "WorkingDirectory=/opt/enclave/current" in unit
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "up --detach --wait" in start and "--pull never" in start and "--no-build" in start
    assert "--no-deps" not in start, "one host starts every service of its profile"
    assert "Requires=docker.service" in unit
    timer = install.path("/etc/systemd/system/enclave-backup.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer
    bin_dir = install.path("/opt/enclave/bin")
    for script in ("enclave-backup", "enclave-restore"):
        assert mode(bin_dir / script) == 0o750
        subprocess.run(["bash", "-n", str(bin_dir / script)], check=True)
    backup = (bin_dir / "enclave-backup").read_text(encoding="utf-8")
    assert "enclave audit verify" in backup and "snapshot" in backup and "SHA256SUMS" in backup
    assert mode(install.path("/var/backups/enclave")) == 0o700
    cli = install.path("/usr/local/bin/enclave")
    subprocess.run(["sh", "-n", str(cli)], check=True)
    assert "exec $tty gateway enclave" in cli.read_text(encoding="utf-8")


@pytest.mark.slow
def test_monitoring_files_and_audit_timer(install: Install) -> None:
    """Role monitoring: the files the compose project mounts, Grafana's password, the daily verification."""
    release = install.path("/opt/enclave/current").resolve()
    env = read_env_file(release / ".env")
    assert env["ENCLAVE_MONITORING_DIR"] == "/etc/enclave/monitoring"
    assert env["ENCLAVE_GRAFANA_BIND_ADDRESS"] == "127.0.0.1"
    installed = install.path("/etc/enclave/monitoring")
    source = REPO / "infra" / "monitoring"
    for name in (
        "prometheus/alerts.yml",
        "grafana/dashboards/enclave.json",
        "grafana/provisioning/dashboards/enclave.yml",
    ):
        assert (installed / name).read_bytes() == (source / name).read_bytes(), name
    rendered = yaml.safe_load((installed / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    assert rendered == yaml.safe_load((source / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    password = install.path("/etc/enclave/secrets/grafana_admin_password")
    assert mode(password) == 0o440 and re.fullmatch(rb"[0-9a-f]{48}", password.read_bytes())
    data = interpolate(raw_compose(release / "docker-compose.yml"), env)
    mounts = [v.split(":", 1)[0] for n in ("prometheus", "grafana") for v in data["services"][n]["volumes"]]
    for host_path in (m for m in mounts if m.startswith("/")):
        assert install.path(host_path).exists(), f"compose mounts {host_path}, which the roles did not install"
    timer = install.path("/etc/systemd/system/enclave-audit-verify.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 03:30:00" in timer and "Persistent=true" in timer
    service = install.path("/etc/systemd/system/enclave-audit-verify.service").read_text(encoding="utf-8")
    assert "ExecStart=/usr/local/bin/enclave audit verify" in service


@pytest.mark.slow
def test_rerun_changes_nothing_but_a_rotated_key(install: Install) -> None:
    secrets = install.path("/etc/enclave/secrets")
    before = {p.name: p.read_bytes() for p in secrets.iterdir()}
    run = run_playbook(
        "site.yml", install.inventory, {**install.vars, "appliance_rotate_secrets": ["llm_api_key"]}, install.tmp
    )
    run.assert_ok()
    assert changed_tasks(run.output) == {
        "appliance : Generate the API keys Qdrant and vLLM require",
        "appliance : Let the containers read the keys (group of the gateway and ingest user; vLLM runs as root)",
    }
    after = {p.name: p.read_bytes() for p in secrets.iterdir()}
    assert after["llm_api_key"] != before["llm_api_key"]
    assert re.fullmatch(rb"[0-9a-f]{64}", after["llm_api_key"])
    assert after["qdrant_api_key"] == before["qdrant_api_key"]
    assert after["qdrant-local.yaml"] == before["qdrant-local.yaml"]


class HealthServer:
    """A stand-in for the gateway's /healthz: answers 200 while ``healthy()`` says so, else 503."""

    def __init__(self) -> None:
        self.healthy: Callable[[], bool] = lambda: True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if outer.healthy() else 503)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/healthz"


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    health = HealthServer()
    threading.Thread(target=health.server.serve_forever, daemon=True).start()
    try:
        yield health
    finally:
        health.server.shutdown()
        health.server.server_close()


@pytest.mark.slow
def test_upgrade_then_automatic_rollback(install: Install, health_server: HealthServer) -> None:
    """0.1.0 -> a 0.2.0 that never gets healthy: rolled back to 0.1.0, which answers. Then a 0.2.0 that
    answers: kept, with 0.1.0 recorded as the release to go back to."""
    bundle2, sums2 = make_fake_bundle(install.tmp / "media2", version="0.2.0")
    upgrade = {
        **install.vars,
        "enclave_version": "0.2.0",
        "bundle_source_path": str(bundle2),
        "bundle_sha256sums_sha256": sums2,
        "appliance_verify_health": True,
        "appliance_health_url": health_server.url,
        "appliance_health_retries": 1,
        "appliance_health_delay_s": 0,
    }
    current = install.path("/opt/enclave/current")
    previous = install.path("/opt/enclave/previous")
    releases = install.path("/opt/enclave/releases")

    health_server.healthy = lambda: current.resolve() == releases / "0.1.0"
    failed = run_playbook("upgrade.yml", install.inventory, upgrade, install.tmp)
    assert failed.rc != 0
    assert "TASK [Roll back to the previous release]" in failed.output
    assert "Upgrade to 0.2.0 failed" in failed.output and "rolled back to the previous release" in failed.output
    assert current.resolve() == releases / "0.1.0", "back on the release that worked"
    assert (releases / "0.2.0" / ".env").is_file()

    health_server.healthy = lambda: True
    ok = run_playbook("upgrade.yml", install.inventory, upgrade, install.tmp)
    ok.assert_ok()
    assert current.resolve() == releases / "0.2.0"
    assert previous.resolve() == releases / "0.1.0", "the release to roll back to"
    # Secrets survive upgrades: the same keys serve the new release.
    assert install.path("/etc/enclave/secrets/qdrant_api_key").is_file()
    assert (install.path("/opt/enclave/bundles") / "0.2.0.verified").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["file-changed", "wrong-announced-hash"])
def test_tampered_bundle_is_refused(
    attack: str, background: Background, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = background_result(background, f"tamper-{attack}", tmp_path_factory)
    assert run.rc != 0
    assert "Bundle rejected" in run.output
    expected = "images/gateway.tar: FAILED" if attack == "file-changed" else "wrong bundle or tampered with"
    assert expected in run.output
    root = run.tmp / "root"
    assert sorted(p.name for p in (root / "opt/enclave/bundles").iterdir()) == [], "nothing of a rejected bundle stays"
    assert not (root / "opt/enclave/current").exists()


@pytest.mark.slow
def test_scale_out_inventory_renders_a_cluster(
    background: Background, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """inventories/scale-out's group_vars: Qdrant node 2 joins node 1 with replicated shards; the primary
    gateway runs the ingest worker and reaches Qdrant and vLLM through the load balancer."""
    run = background_result(background, "scale-out", tmp_path_factory)
    run.assert_ok()
    tmp_path = run.tmp
    hosts = SCALE_OUT_HOSTS

    q = tmp_path / "qdrant-2"
    config = yaml.safe_load((q / "etc/enclave/secrets/qdrant-local.yaml").read_text(encoding="utf-8"))
    assert config["cluster"] == {"enabled": True, "p2p": {"port": 6335}, "consensus": {"tick_period_ms": 100}}
    assert config["storage"]["collection"]["replication_factor"] == 2
    release = q / "opt/enclave/releases/0.1.0"
    override = yaml.safe_load((release / "docker-compose.override.yml").read_text(encoding="utf-8"))
    validate(override)
    qdrant = override["services"]["qdrant"]
    assert qdrant["command"] == [
        "./qdrant",
        "--uri",
        "http://10.20.1.12:6335",
        "--bootstrap",
        "http://10.20.1.11:6335",
    ]
    assert qdrant["ports"] == ["10.20.1.12:6333:6333", "10.20.1.12:6335:6335"]
    unit = (q / "etc/systemd/system/enclave.service").read_text(encoding="utf-8")
    assert "--no-deps qdrant" in unit
    rules = (q / "etc/nftables.d/enclave.nft").read_text(encoding="utf-8")
    peers = re.search(r"set peers_v4 \{.*?elements = \{ (.*?) \}", rules, re.S)
    assert peers, rules
    assert set(peers.group(1).split(", ")) == {*hosts.values(), "10.20.0.50", "10.20.0.51"}
    assert "ip saddr @peers_v4 tcp dport { 6333, 6335, 8000 } accept" in rules
    assert "@intranet_v4 tcp dport" not in rules, "a Qdrant node opens nothing to the whole intranet"
    assert not (q / "opt/enclave/bin/enclave-backup").exists(), "backups run where the gateway's data is"
    assert not (q / "opt/enclave/models/llama-3.1-8b-instruct").exists(), "no model where no vLLM runs"

    g = tmp_path / "gateway-1"
    release = g / "opt/enclave/releases/0.1.0"
    env = read_env_file(release / ".env")
    assert env["ENCLAVE_QDRANT_URL"] == "http://qdrant.enclave.intranet:6333"
    assert env["ENCLAVE_LLM_URL"] == "http://llm.enclave.intranet:8000/v1"
    assert env["ENCLAVE_BIND_ADDRESS"] == "10.20.3.11"
    data = interpolate(raw_compose(release / "docker-compose.yml"), env)
    validate(data)
    assert data["services"]["gateway"]["environment"]["QDRANT_URL"] == "http://qdrant.enclave.intranet:6333"
    override = yaml.safe_load((release / "docker-compose.override.yml").read_text(encoding="utf-8"))
    validate(override)
    assert override["services"] == {"ingest": {"networks": ["internal", "edge"]}}
    unit = (g / "etc/systemd/system/enclave.service").read_text(encoding="utf-8")
    assert "--no-deps gateway ingest" in unit
    assert (g / "opt/enclave/bin/enclave-backup").is_file(), "the primary gateway host takes the backups"
    assert "ip saddr @intranet_v4 tcp dport { 8000 } accept" in (g / "etc/nftables.d/enclave.nft").read_text(
        encoding="utf-8"
    )
    assert not (g / "opt/enclave/models/llama-3.1-8b-instruct").exists(), "no model where no vLLM runs"


@pytest.mark.slow
def test_ansible_lint_production_profile(background: Background, tmp_path_factory: pytest.TempPathFactory) -> None:
    """ansible-lint's strictest profile, offline (no collection install, schema refresh or version check)."""
    proc = background_result(background, "lint", tmp_path_factory)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    assert "Profile 'production' was required, and it passed" in output, output[-3000:]
    assert "0 failure(s), 0 warning(s)" in output, output[-3000:]
