"""The sizing planner (issue #22): catalogues, memory arithmetic against published facts, suggestions,
cost, the CLI and the admin route."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from enclave_core.errors import AccessDenied, InputError, PolicyError
from enclave_core.identity import Principal
from enclave_core.planning import PlanRequest, load_catalog, make_plan
from enclave_core.planning.catalog import GIB, catalog_dir
from enclave_core.planning.cost import CostInputs, cost_per_mtok
from enclave_core.planning.memory import kv_bytes_per_token, kv_bytes_per_token_per_gpu, weight_bytes
from enclave_core.planning.plan import fits

CAT = load_catalog()

# (model, gpu, GPUs per node, nodes, context, users, expected "starts", source of the published fact)
PUBLISHED_FACTS: list[tuple[str, str, int, int, int, int, bool, str]] = [
    # Llama 3.1 405B in BF16 is ~810 GB of weights: more than one 8x80GB node holds; the vLLM blog
    # served it on two 8xH100 nodes with pipeline parallelism over Ray.
    (
        "llama-3.1-405b-instruct",
        "h100-sxm",
        8,
        1,
        8192,
        1,
        False,
        "vLLM blog 2024-07-23, 'Announcing Llama 3.1 support'",
    ),
    ("llama-3.1-405b-instruct", "h100-sxm", 8, 2, 8192, 1, True, "vLLM blog 2024-07-23 (TP 8 x PP 2 over two nodes)"),
    # The FP8 checkpoint halves the weights and runs on one 8xH100 node (Meta's and NVIDIA's model cards).
    (
        "llama-3.1-405b-instruct-fp8",
        "h100-sxm",
        8,
        1,
        8192,
        1,
        True,
        "huggingface.co/nvidia/Llama-3.1-405B-Instruct-FP8",
    ),
    # DeepSeek-R1's FP8 checkpoint (~671B params, 1 byte each) exceeds 8x80GB; 8xH200 and 8xMI300X serve it
    # at its full 163,840-token context (vLLM and SGLang deployment guides; AMD's R1 blog for MI300X).
    ("deepseek-r1", "h100-sxm", 8, 1, 163840, 1, False, "DeepSeek-R1 model card: 671B params, FP8 weights"),
    ("deepseek-r1", "h200", 8, 1, 163840, 1, True, "vLLM recipes: DeepSeek-R1 on 8xH200"),
    ("deepseek-r1", "mi300x", 8, 1, 163840, 1, True, "AMD ROCm blog: DeepSeek-R1 on 8x MI300X with vLLM/SGLang"),
    # Llama 3.1 70B BF16 (~141 GB) does not fit one 80 GB GPU; two hold it with room for a KV cache.
    ("llama-3.1-70b-instruct", "h100-sxm", 1, 1, 8192, 1, False, "Llama 3.1 70B model card: 70.6B params x 2 bytes"),
    ("llama-3.1-70b-instruct", "h100-sxm", 2, 1, 8192, 1, True, "vLLM docs, distributed serving: TP=2 for 70B"),
    # Llama 3.1 8B BF16 (~16 GB) on one 48 GB L40S with its full 128k context (NVIDIA NIM support matrix).
    ("llama-3.1-8b-instruct", "l40s", 1, 1, 131072, 1, True, "NVIDIA NIM for LLMs support matrix: 8B on 1x L40S"),
]


@pytest.mark.parametrize(("model", "gpu", "count", "nodes", "context", "users", "starts", "source"), PUBLISHED_FACTS)
def test_memory_arithmetic_reproduces_published_facts(
    model: str, gpu: str, count: int, nodes: int, context: int, users: int, starts: bool, source: str
) -> None:
    ok, _, b = fits(CAT, PlanRequest(model, gpu, count, nodes, users, context))
    assert ok is starts, (source, b)


def test_seventy_b_bf16_needs_at_least_two_h100() -> None:
    counts = [c for c in (1, 2, 4, 8) if fits(CAT, PlanRequest("llama-3.1-70b-instruct", "h100-sxm", c))[0]]
    assert min(counts) == 2


def test_kv_cache_per_token_from_config_figures() -> None:
    m = CAT.models
    # 2 (K,V) x layers x KV heads x head dim x 2 bytes
    assert kv_bytes_per_token(m["llama-3.1-8b-instruct"]) == 2 * 32 * 8 * 128 * 2 == 128 * 1024
    assert kv_bytes_per_token(m["llama-3.1-70b-instruct"]) == 2 * 80 * 8 * 128 * 2
    assert kv_bytes_per_token(m["llama-3.1-405b-instruct"]) == 2 * 126 * 8 * 128 * 2
    # MLA: layers x (kv_lora_rank + qk_rope_head_dim) x 2 bytes — smaller than 70B's despite 671B params
    assert kv_bytes_per_token(m["deepseek-r1"]) == 61 * (512 + 64) * 2
    assert kv_bytes_per_token(m["deepseek-r1"]) < kv_bytes_per_token(m["llama-3.1-70b-instruct"])
    assert kv_bytes_per_token(m["deepseek-r1"], "fp8") == 61 * 576
    # TP splits KV heads but never a head; MLA's latent is kept whole on every rank; PP splits layers.
    r1, l8 = m["deepseek-r1"], m["llama-3.1-8b-instruct"]
    assert kv_bytes_per_token_per_gpu(r1, 8, 1) == kv_bytes_per_token(r1)
    assert kv_bytes_per_token_per_gpu(l8, 8, 1) == kv_bytes_per_token(l8) / 8
    assert kv_bytes_per_token_per_gpu(l8, 16, 1) == kv_bytes_per_token(l8) / 8
    assert kv_bytes_per_token_per_gpu(m["llama-3.1-405b-instruct"], 8, 2) == 2 * 63 * 1 * 128 * 2


def test_weights_by_precision() -> None:
    m = CAT.models
    assert weight_bytes(m["llama-3.1-405b-instruct"]) / 1e9 == pytest.approx(811.8)
    fp8 = weight_bytes(m["llama-3.1-405b-instruct-fp8"]) / 1e9
    assert 405 < fp8 < 415  # linear layers at 1 byte, embeddings and lm_head at 2
    assert weight_bytes(m["deepseek-r1"]) / 1e9 == pytest.approx(672.85)
    online = weight_bytes(m["deepseek-r1-distill-qwen-32b"], online_fp8=True)
    assert online < weight_bytes(m["deepseek-r1-distill-qwen-32b"]) * 0.55


def test_budget_adds_up() -> None:
    # 70B FP8 (~73 GB) on one H100 80GB: only with vLLM allowed 95% of the memory, for two 8k sequences.
    req = PlanRequest("llama-3.1-70b-instruct-fp8", "h100-sxm", 1, users=2, context=8192)
    assert not make_plan(CAT, req)["fits"]
    assert {"change": "higher GPU memory utilisation", "gpu_memory_utilization": 0.95} in make_plan(CAT, req)[
        "suggestions"
    ]
    plan = make_plan(CAT, PlanRequest("llama-3.1-70b-instruct-fp8", "h100-sxm", 1, users=2, context=8192,
                                      gpu_memory_utilization=0.95))  # fmt: skip
    mem = plan["memory"]
    total = mem["weights_per_gpu_gib"] + mem["runtime_reserve_per_gpu_gib"] + mem["kv_free_per_gpu_gib"]
    assert total == pytest.approx(mem["per_gpu_budget_gib"], abs=0.02)
    assert mem["per_gpu_budget_gib"] == pytest.approx(79.6 * 0.95, abs=0.01)
    cap = mem["kv_free_per_gpu_gib"] * GIB / (mem["kv_per_token_per_gpu_kib"] * 1024)
    assert mem["kv_capacity_tokens"] == pytest.approx(cap, rel=5e-3)
    assert mem["max_concurrent_sequences"] == mem["kv_capacity_tokens"] // 8192
    assert plan["fits"] and plan["meets_users"] and plan["suggestions"] == []


def test_every_catalogue_pair_answers() -> None:
    for model in CAT.models:
        for acc in CAT.accelerators.values():
            plan = make_plan(CAT, PlanRequest(model, acc.id, acc.gpus_per_node, users=8))
            assert isinstance(plan["fits"], bool)
            json.dumps(plan)
            if plan["fits"]:
                assert plan["throughput_tokens_per_s"]["high"] >= plan["throughput_tokens_per_s"]["low"] > 0
                assert plan["cost"]["per_mtok_output"]["high"] >= plan["cost"]["per_mtok_output"]["low"] > 0
            else:
                assert plan["suggestions"], (model, acc.id)


def test_what_would_fit() -> None:
    plan = make_plan(CAT, PlanRequest("llama-3.1-405b-instruct", "h100-sxm", 8, users=4))
    changes = {s["change"]: s for s in plan["suggestions"]}
    assert changes["more GPUs"]["nodes"] == 2
    assert changes["FP8 checkpoint"]["model"] == "llama-3.1-405b-instruct-fp8"
    # Too many users at full context: fewer users, shorter context or an FP8 KV cache would do.
    plan = make_plan(CAT, PlanRequest("llama-3.1-8b-instruct", "l40s", 1, users=64, context=32768))
    assert plan["fits"] and not plan["meets_users"]
    changes = {s["change"]: s for s in plan["suggestions"]}
    assert changes["fewer users"]["users"] == plan["memory"]["max_concurrent_sequences"] < 64
    assert changes["shorter context"]["context"] < 32768
    # A BF16 model without an FP8 checkpoint in the catalogue: vLLM's --quantization fp8 at load.
    plan = make_plan(CAT, PlanRequest("deepseek-r1-distill-qwen-32b", "l40s", 1, context=8192))
    assert not plan["fits"]
    assert any(s["change"] == "FP8 at load time" for s in plan["suggestions"])


def test_vllm_arguments_for_moe_reasoning_and_multi_node() -> None:
    plan = make_plan(CAT, PlanRequest("deepseek-r1", "h200", 8, context=32768))
    cfg = plan["vllm"]["config_file"]
    assert cfg["enable-expert-parallel"] is True and cfg["reasoning-parser"] == "deepseek_r1"
    assert cfg["tensor-parallel-size"] == 8 and "distributed-executor-backend" not in cfg
    plan = make_plan(CAT, PlanRequest("llama-3.1-405b-instruct", "h100-sxm", 8, 2))
    cfg = plan["vllm"]["config_file"]
    assert (cfg["pipeline-parallel-size"], cfg["distributed-executor-backend"]) == (2, "ray")
    assert plan["ansible_vars"]["ray_nodes"] == 2
    amd = make_plan(CAT, PlanRequest("llama-3.1-405b-instruct-fp8", "mi300x", 8))
    assert amd["compose_env"]["COMPOSE_PROFILES"] == "rocm" and amd["ansible_vars"]["enclave_gpu_vendor"] == "amd"


def test_cost_arithmetic() -> None:
    # 8 GPUs at 2.50/h = 20/h; 2000 tokens/s = 7.2M tokens/h -> 2.78 per million; half utilised -> double
    assert cost_per_mtok(20.0, 2000) == pytest.approx(20 / 7.2)
    assert cost_per_mtok(20.0, 2000, 0.5) == pytest.approx(2 * 20 / 7.2)
    req = PlanRequest("llama-3.1-8b-instruct", "h100-sxm", 1, users=16, cost=CostInputs(gpu_hour_price=2.0))
    plan = make_plan(CAT, req)
    t, c = plan["throughput_tokens_per_s"], plan["cost"]
    assert c["per_mtok_output"]["low"] == pytest.approx(2.0 / (t["high"] * 3600) * 1e6, abs=0.01)
    owned = make_plan(CAT, PlanRequest("llama-3.1-8b-instruct", "h100-sxm", 1, cost=CostInputs(purchase_price=30000)))
    # 30000 over 4 years + 0.7 kW x 1.5 x 1.4 x 0.15 = 0.856 + 0.2205
    assert owned["cost"]["per_gpu_hour"] == pytest.approx(30000 / (4 * 8760) + 0.7 * 1.5 * 1.4 * 0.15, abs=1e-3)
    assert c["api"]["api"] == "gpt-4o" and c["api"]["as_of"]


def test_throughput_names_its_basis() -> None:
    measured = make_plan(CAT, PlanRequest("llama-3.1-70b-instruct-fp8", "h100-sxm", 8, users=64))
    assert measured["throughput_tokens_per_s"]["basis"].startswith("published: mlperf-v4.0-llama2-70b-h100")
    assert measured["throughput_tokens_per_s"]["high"] <= 24525
    estimated = make_plan(CAT, PlanRequest("deepseek-r1-distill-qwen-7b", "l40s", 1, users=8))
    assert estimated["throughput_tokens_per_s"]["basis"].startswith("estimate: memory-bandwidth roofline")


def test_every_figure_has_a_source() -> None:
    for name in ("models", "accelerators"):
        doc = yaml.safe_load((catalog_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
        for key, entry in doc[name].items():
            assert entry["source"].startswith("http"), key
    prices = yaml.safe_load((catalog_dir() / "prices.yaml").read_text(encoding="utf-8"))
    assert all(p["as_of"] and p["source"] for p in prices["api"].values())


def test_schema_rejects_a_broken_catalogue(tmp_path: Path) -> None:
    shutil.copytree(catalog_dir(), tmp_path / "cat")
    path = tmp_path / "cat" / "models.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["models"]["llama-3.1-8b-instruct"]["attention"]["kv_heads"] = "eight"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"models\.yaml"):
        load_catalog(tmp_path / "cat")
    doc["models"]["llama-3.1-8b-instruct"]["attention"]["kv_heads"] = 8
    doc["models"]["llama-3.1-8b-instruct"]["fp8_variant"] = "llama-3.1-70b-instruct"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(PolicyError, match="fp8_variant"):
        load_catalog(tmp_path / "cat")


def test_bad_requests() -> None:
    with pytest.raises(InputError, match="unknown model"):
        make_plan(CAT, PlanRequest("gpt-5", "h100-sxm"))
    with pytest.raises(InputError, match="at most 8 GPUs per node"):
        make_plan(CAT, PlanRequest("llama-3.1-8b-instruct", "h100-sxm", 16))
    with pytest.raises(InputError, match="context"):
        make_plan(CAT, PlanRequest("llama-3.1-8b-instruct", "h100-sxm", context=200000))


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    from enclave_cli.main import build_parser
    from enclave_cli.plan_cmd import cmd_plan

    args = build_parser().parse_args(
        [
            "plan",
            "--model",
            "llama-3.1-405b-instruct-fp8",
            "--gpu",
            "h100-sxm",
            "--count",
            "8",
            "--users",
            "50",
            "--context",
            "8192",
            "--answer-tokens",
            "512",
            "--json",
        ]
    )
    assert cmd_plan(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fits"] is True and out["deployment"]["gpus"] == 8
    args = build_parser().parse_args(["plan", "--model", "deepseek-r1", "--gpu", "h100-sxm", "--count", "8"])
    assert cmd_plan(args) == 1
    assert "what would fit:" in capsys.readouterr().out


class _Audit:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, action: str, **fields: Any) -> None:
        self.records.append({"action": action, **fields})


class _Core:
    def __init__(self) -> None:
        self.audit = _Audit()


class _Req:
    class url:
        path = "/v1/admin/plan"


def test_admin_route_needs_the_admin_role() -> None:
    from services.gateway import app as gateway_app
    from services.gateway.api.routes import plan as route

    assert any(getattr(r, "path", "") == "/v1/admin/plan" for r in route.router.routes)
    assert gateway_app.plan is route  # included by create_app's router loop
    core = _Core()
    user = Principal("u", frozenset({"eng"}), frozenset(), auth="api_key")
    kwargs: dict[str, Any] = {"model": "llama-3.1-8b-instruct", "gpu": "l40s", "context": None}
    defaults = {"count": 1, "nodes": 1, "users": 1, "answer_tokens": 512, "prompt_tokens": 3000,
                "gpu_memory_utilization": 0.9, "kv_cache_dtype": "auto", "quantization": None,
                "gpu_hour_price": None, "purchase_price": None, "years": None, "kwh_price": None,
                "utilisation": 1.0, "api": "gpt-4o"}  # fmt: skip
    with pytest.raises(AccessDenied):
        route.plan(_Req(), core, user, **kwargs, **defaults)  # type: ignore[arg-type]
    assert core.audit.records[-1]["action"] == "access.denied"
    admin = Principal("root", frozenset(), frozenset({"admin"}), auth="api_key")
    out = route.plan(_Req(), core, admin, **kwargs, **defaults)  # type: ignore[arg-type]
    assert out["fits"] is True and out["accelerator"]["id"] == "l40s"
