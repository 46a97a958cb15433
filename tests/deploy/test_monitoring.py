"""infra/monitoring: the alert rules, the Prometheus configuration and the Grafana dashboard.

No promtool wheel exists on the registries, so the files are checked with maintained libraries:
PyYAML for their shape and ``promql-parser`` (the Rust PromQL parser of GreptimeDB, as a Python
wheel) for every expression. Every ``enclave_*`` series an expression names must be one the gateway
exports, which is read from a real gateway app's ``/metrics``; every ``vllm:*`` one must be named in
the vLLM package's source (when the vLLM virtualenv is there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from fastapi.testclient import TestClient

from enclave_core.keys import KeyStore
from tests.conftest import REPO, make_settings
from tests.deploy.compose import load_compose

MONITORING = REPO / "infra" / "monitoring"
ALERTS = MONITORING / "prometheus" / "alerts.yml"
PROMETHEUS = MONITORING / "prometheus" / "prometheus.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "enclave.json"
DATASOURCES = MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
VLLM_SOURCE = REPO / ".venv-vllm" / "lib" / "python3.11" / "site-packages" / "vllm" / "v1" / "metrics"
# What the issue asks the rules to catch, by the alert that does it.
REQUIRED_ALERTS = {
    "EnclaveLLMDown",
    "EnclaveVectorStoreDown",
    "EnclaveHigh5xxRate",
    "EnclaveLLMQueueSaturated",
    "EnclaveDiskBelowReserve",
    "EnclaveAuditVerificationFailed",
    "EnclaveAuditVerificationStale",
}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def selectors(node: Any) -> Iterator[str]:
    """The metric names an expression's AST selects."""
    if type(node).__name__ == "VectorSelector":
        if node.name:
            yield node.name
        return
    for attr in ("lhs", "rhs", "expr", "args", "param", "vector_selector"):
        child = getattr(node, attr, None)
        for item in child if isinstance(child, list) else [child]:
            if item is not None:
                yield from selectors(item)


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for panel in data["panels"] for t in panel.get("targets", [])]


def all_exprs() -> list[str]:
    return [rule["expr"] for rule in rules()] + dashboard_exprs()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The series names a real gateway app exports (from the # TYPE lines: every family, with or
    without samples yet)."""
    from services.gateway.app import create_app

    settings = make_settings(tmp_path_factory.mktemp("scrape") / "data")
    key = KeyStore(settings.secrets_dir / "api-keys.json").create("prom", [], ["auditor"])[1]
    with TestClient(create_app(settings, warm=False)) as client:
        client.get("/healthz")
        response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    names = set()
    for line in response.text.splitlines():
        match = re.match(r"# TYPE (\S+) (\w+)", line)
        if match:
            family, kind = match.groups()
            base = family.removesuffix("_total") if kind == "counter" else family
            names.update(base + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def test_alert_rules_have_the_shape_prometheus_loads() -> None:
    data = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(data) == {"groups"}
    seen = set()
    for group in data["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, rule
            assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
            assert rule["alert"] not in seen, f"duplicate alert {rule['alert']}"
            seen.add(rule["alert"])
    assert seen >= REQUIRED_ALERTS, REQUIRED_ALERTS - seen


@pytest.mark.parametrize("expr", all_exprs())
def test_every_expression_parses(expr: str) -> None:
    promql_parser.parse(expr)


def test_the_parser_rejects_a_broken_expression() -> None:
    """The check has teeth."""
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(enclave_http_requests_total[5m])")


def test_every_enclave_series_used_is_exported(exported: set[str]) -> None:
    used = {name for expr in all_exprs() for name in selectors(promql_parser.parse(expr))}
    ours = {name for name in used if name.startswith("enclave_")}
    assert ours, "the rules and the dashboard use none of our metrics"
    assert not ours - exported, f"used but not exported: {sorted(ours - exported)}"
    # Every metric family we export appears on the dashboard (nothing exported for nobody).
    shown = {n for expr in dashboard_exprs() for n in selectors(promql_parser.parse(expr))}
    families = {re.sub(r"_(total|bucket|sum|count)$", "", n) for n in exported}
    missing = {f for f in families if not any(re.sub(r"_(total|bucket|sum|count)$", "", s) == f for s in shown)}
    assert not missing, f"exported but on no panel: {sorted(missing)}"


def test_vllm_series_used_are_named_by_vllm() -> None:
    used = {n for expr in all_exprs() for n in selectors(promql_parser.parse(expr)) if n.startswith("vllm:")}
    assert {"vllm:num_requests_running", "vllm:time_to_first_token_seconds_bucket"} <= used
    if not VLLM_SOURCE.is_dir():
        pytest.skip("the vLLM virtualenv (.venv-vllm) is not installed")
    source = "\n".join(p.read_text(encoding="utf-8") for p in VLLM_SOURCE.glob("*.py"))
    for name in used:
        family = re.sub(r"_(total|bucket|sum|count)$", "", name)
        assert f'"{family}' in source, f"vLLM exports no {family}"


def test_prometheus_scrapes_only_the_named_hosts() -> None:
    data = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    assert data["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert not {"remote_write", "remote_read", "alerting"} & set(data), "nothing leaves the host"
    targets = {}
    for job in data["scrape_configs"]:
        assert not [key for key in job if key.endswith("_sd_configs") and key != "static_configs"], job["job_name"]
        targets[job["job_name"]] = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == {
        "enclave-gateway": ["gateway:9464"],
        "vllm": ["llm:8000"],
        "qdrant": ["qdrant:6333"],
        "prometheus": ["127.0.0.1:9090"],
    }


def test_compose_wires_the_stack_to_these_files() -> None:
    services = load_compose()["services"]
    gateway_env = services["gateway"]["environment"]
    assert gateway_env["ENCLAVE_METRICS__PORT"] == "9464"  # the port prometheus.yml scrapes
    mounts = [v for name in ("prometheus", "grafana") for v in services[name]["volumes"] if isinstance(v, str)]
    for mount in mounts:
        source = mount.split(":", 1)[0]
        if source.startswith("./"):
            assert (REPO / source).exists(), f"{mount}: no such file in the repository"
    datasource = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"][0]
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {datasource["uid"]}
    assert datasource["url"] == "http://prometheus:9090"


def test_dashboard_panels_do_not_overlap() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area


def test_repository_paths() -> None:
    for path in (ALERTS, PROMETHEUS, DASHBOARD, DATASOURCES):
        assert Path(path).is_file(), path
