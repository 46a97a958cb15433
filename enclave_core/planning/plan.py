"""``enclave plan``: does a model fit these GPUs, how to start vLLM, what it costs, what would fit.

Why a pure function of (catalogue, request): the CLI, the admin REST route and the docs' tables all
call :func:`make_plan`, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from enclave_core.errors import InputError
from enclave_core.planning.catalog import GIB, Accelerator, Catalog, Model
from enclave_core.planning.cost import CostInputs, api_comparison, cost_per_mtok, hourly_cost
from enclave_core.planning.memory import MemoryBudget, budget, weight_bytes
from enclave_core.planning.throughput import estimate
from enclave_core.planning.vllm_args import ServeConfig, ansible_vars, argv, compose_env, config_file

__all__ = ["PlanRequest", "fits", "make_plan"]


@dataclass(frozen=True)
class PlanRequest:
    model: str
    gpu: str
    count: int = 1  # GPUs per node
    nodes: int = 1
    users: int = 1  # sequences generating at the same time
    context: int | None = None  # max model length; None: min(model's context, 8192)
    answer_tokens: int = 512
    prompt_tokens: int = 3000
    gpu_memory_utilization: float = 0.90
    kv_cache_dtype: str = "auto"  # auto | fp8
    quantization: str | None = None  # None (the checkpoint's) | fp8 (vLLM quantizes at load)
    cost: CostInputs = field(default_factory=CostInputs)
    api: str = "gpt-4o"

    def validate(self, catalog: Catalog) -> tuple[Model, Accelerator]:
        model, acc = catalog.model(self.model), catalog.accelerator(self.gpu)
        if self.count < 1 or self.nodes < 1 or self.users < 1:
            raise InputError("count, nodes and users must be at least 1")
        if self.count > acc.gpus_per_node:
            raise InputError(f"{acc.name}: at most {acc.gpus_per_node} GPUs per node; use --nodes")
        if not 0.3 <= self.gpu_memory_utilization <= 0.98:
            raise InputError("gpu memory utilisation must be between 0.3 and 0.98")
        if self.kv_cache_dtype not in ("auto", "fp8"):
            raise InputError("kv cache dtype is auto or fp8")
        if self.quantization not in (None, "fp8"):
            raise InputError("quantization is fp8 or none")
        if self.api not in catalog.prices.api:
            raise InputError(f"unknown API {self.api!r}; known: {', '.join(catalog.prices.api)}")
        return model, acc


def _context(req: PlanRequest, model: Model) -> int:
    ctx = req.context if req.context is not None else min(model.context_length, 8192)
    if ctx < 512 or ctx > model.context_length:
        raise InputError(f"context must be between 512 and the model's {model.context_length} tokens")
    return ctx


def _budget(req: PlanRequest, model: Model, acc: Accelerator) -> MemoryBudget:
    online = req.quantization == "fp8" and model.weight_dtype != "fp8"
    kv = "fp8" if req.kv_cache_dtype == "fp8" else "bf16"
    return budget(model, acc, req.count, req.nodes, req.gpu_memory_utilization, kv, online)


def fits(catalog: Catalog, req: PlanRequest) -> tuple[bool, bool, MemoryBudget]:
    """(starts: weights + one full-length sequence fit, meets: ``users`` full-length sequences fit)."""
    model, acc = req.validate(catalog)
    ctx = _context(req, model)
    b = _budget(req, model, acc)
    seqs = b.sequences(ctx)
    return b.weights_fit and seqs >= 1, seqs >= req.users, b


def _suggestions(catalog: Catalog, req: PlanRequest, model: Model, acc: Accelerator, ctx: int) -> list[dict[str, Any]]:
    """Smallest changes that would make the request fit with all its users."""
    out: list[dict[str, Any]] = []
    ok = lambda r: fits(catalog, r)[1]  # noqa: E731
    # More GPUs: fill the node first, then add nodes (tensor parallel inside a node, pipeline across).
    for nodes in range(req.nodes, 5):
        for count in (c for c in (1, 2, 4, 8, 16) if c <= acc.gpus_per_node):
            if nodes * count <= req.nodes * req.count:
                continue
            if ok(replace(req, count=count, nodes=nodes)):
                out.append({"change": "more GPUs", "count": count, "nodes": nodes, "gpus": count * nodes})
                break
        if out:
            break
    if model.fp8_variant and ok(replace(req, model=model.fp8_variant)):
        out.append({"change": "FP8 checkpoint", "model": model.fp8_variant})
    elif model.weight_dtype == "bf16" and req.quantization is None and ok(replace(req, quantization="fp8")):
        out.append({"change": "FP8 at load time", "quantization": "fp8"})
    if req.gpu_memory_utilization < 0.95 and ok(replace(req, gpu_memory_utilization=0.95)):
        out.append({"change": "higher GPU memory utilisation", "gpu_memory_utilization": 0.95})
    if req.kv_cache_dtype == "auto" and ok(replace(req, kv_cache_dtype="fp8")):
        out.append({"change": "FP8 KV cache", "kv_cache_dtype": "fp8"})
    shorter = [c for c in (65536, 32768, 16384, 8192, 4096, 2048) if c < ctx]
    for c in shorter:
        if ok(replace(req, context=c)):
            out.append({"change": "shorter context", "context": c})
            break
    starts, _, b = fits(catalog, req)
    if starts and b.sequences(ctx) < req.users:
        out.append({"change": "fewer users", "users": b.sequences(ctx)})
    others = [
        a.id
        for a in catalog.accelerators.values()
        if a.id != acc.id and ok(replace(req, gpu=a.id, count=min(req.count, a.gpus_per_node)))
    ]
    if others:
        out.append({"change": "other accelerator, same count", "gpu": sorted(others)})
    return out


def make_plan(catalog: Catalog, req: PlanRequest) -> dict[str, Any]:
    """The whole answer as plain data (``--json`` prints it; the text view formats it)."""
    model, acc = req.validate(catalog)
    ctx = _context(req, model)
    gpus = req.count * req.nodes
    online = req.quantization == "fp8" and model.weight_dtype != "fp8"
    starts, meets, b = fits(catalog, req)
    seqs = b.sequences(ctx)
    cfg = ServeConfig(
        model=model,
        served_name=model.id,
        tp=req.count,
        pp=req.nodes,
        max_model_len=ctx,
        gpu_memory_utilization=req.gpu_memory_utilization,
        max_num_seqs=max(1, min(req.users, seqs)) if starts else req.users,
        kv_cache_dtype=req.kv_cache_dtype,
        online_fp8=online,
        nodes=req.nodes,
        vendor=acc.vendor,
    )
    avg_context = min(ctx, req.prompt_tokens + req.answer_tokens // 2)
    tput = estimate(
        catalog,
        model,
        acc,
        gpus,
        min(req.users, seqs) if starts else req.users,
        avg_context,
        weight_bytes(model, online),
        b.kv_bytes_per_token,
        online,
    )
    hourly = hourly_cost(acc, catalog.prices, req.cost)
    total_hourly = hourly.per_gpu * gpus
    api = api_comparison(catalog.prices, req.prompt_tokens, req.answer_tokens)
    chosen = next(row for row in api if row["api"] == req.api)
    cost_hi = cost_per_mtok(total_hourly, tput.low, req.cost.utilisation)
    cost_lo = cost_per_mtok(total_hourly, tput.high, req.cost.utilisation)
    warnings = []
    if not acc.fp8_native and (model.weight_dtype == "fp8" or online):
        warnings.append(
            f"{acc.name} has no FP8 tensor cores: vLLM runs FP8 weights weight-only (memory saved, no speed-up)"
        )
    if req.nodes > 1:
        warnings.append("multi-node: pipeline parallel over Ray; needs a fast fabric (InfiniBand/RoCE) between nodes")
    if not model.verified or not acc.verified:
        warnings.append("some catalogue figures for this pair are marked unverified (see policies/catalog)")
    if not starts:  # nothing runs: no throughput and no cost to speak of
        tput_out: dict[str, Any] | None = None
        cost_out: dict[str, Any] | None = None
    else:
        tput_out = {"low": round(tput.low), "high": round(tput.high), "basis": tput.basis, "batch": tput.batch}
        cost_out = {
            "currency": catalog.prices.currency,
            "per_gpu_hour": round(hourly.per_gpu, 4),
            "basis": hourly.basis,
            "system_per_hour": round(total_hourly, 2),
            "utilisation": req.cost.utilisation,
            "per_mtok_output": {"low": round(cost_lo, 2), "high": round(cost_hi, 2)},
            "api": chosen,
            "apis": api,
        }
    return {
        "model": {
            "id": model.id,
            "hf_repo": model.hf_repo,
            "params_total_b": model.params_total_b,
            "params_active_b": model.params_active_b,
            "weights": "fp8 (quantized at load)" if online else model.weight_dtype,
            "checkpoint_quantization": model.checkpoint_quantization,
            "context_length": model.context_length,
            "attention": model.attention,
            "chat_template": model.chat_template,
            "reasoning_parser": model.reasoning_parser,
            "licence": model.licence,
            "source": model.source,
        },
        "accelerator": {
            "id": acc.id,
            "name": acc.name,
            "vendor": acc.vendor,
            "usable_gib": acc.usable_gib,
            "source": acc.source,
        },
        "deployment": {
            "gpus_per_node": req.count,
            "nodes": req.nodes,
            "gpus": gpus,
            "users": req.users,
            "context": ctx,
        },
        "fits": starts,
        "meets_users": meets,
        "memory": {
            "per_gpu_budget_gib": round(b.per_gpu_budget_gib, 2),
            "weights_total_gib": round(b.total_weights_gib, 2),
            "weights_per_gpu_gib": round(b.weights_gib, 2),
            "runtime_reserve_per_gpu_gib": round(b.reserve_gib, 2),
            "kv_free_per_gpu_gib": round(b.kv_free_gib, 2),
            "kv_cache_dtype": "fp8" if req.kv_cache_dtype == "fp8" else "bf16",
            "kv_per_token_kib": round(b.kv_bytes_per_token / 1024, 2),
            "kv_per_token_per_gpu_kib": round(b.kv_bytes_per_token_gpu / 1024, 2),
            "kv_capacity_tokens": b.kv_capacity_tokens,
            "kv_needed_for_users_gib": round(b.kv_bytes_per_token * ctx * req.users / GIB, 2),
            "max_concurrent_sequences": seqs,
        },
        "vllm": {"argv": argv(cfg), "config_file": config_file(cfg)},
        "compose_env": compose_env(cfg),
        "ansible_vars": ansible_vars(cfg),
        "throughput_tokens_per_s": tput_out,
        "cost": cost_out,
        "suggestions": [] if meets else _suggestions(catalog, req, model, acc, ctx),
        "warnings": warnings,
    }
