"""Human-readable views of a plan: the CLI's text and the docs' Markdown tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from enclave_core.planning.catalog import Catalog
from enclave_core.planning.plan import PlanRequest, make_plan

__all__ = ["markdown_table", "text"]


def _money(x: float) -> str:
    return "n/a" if x == float("inf") else f"{x:,.2f}"


def text(plan: dict[str, Any]) -> str:
    m, d, mem, c, t = plan["model"], plan["deployment"], plan["memory"], plan["cost"], plan["throughput_tokens_per_s"]
    lines = [
        f"{m['id']} on {d['gpus']}x {plan['accelerator']['name']} ({d['nodes']} node(s) x {d['gpus_per_node']}), "
        f"context {d['context']}, {d['users']} concurrent users",
        f"fits: {'yes' if plan['fits'] else 'NO'}; all users at full context: {'yes' if plan['meets_users'] else 'no'}",
        "",
        "memory per GPU (GiB):",
        f"  budget {mem['per_gpu_budget_gib']} = weights {mem['weights_per_gpu_gib']} + runtime reserve "
        f"{mem['runtime_reserve_per_gpu_gib']} + KV cache {mem['kv_free_per_gpu_gib']}",
        f"  weights in total {mem['weights_total_gib']} GiB ({m['weights']}); KV cache {mem['kv_per_token_kib']} KiB "
        f"per token ({mem['kv_cache_dtype']}), {mem['kv_per_token_per_gpu_kib']} KiB on each GPU",
        f"  KV capacity {mem['kv_capacity_tokens']:,} tokens -> {mem['max_concurrent_sequences']} sequences of "
        f"{d['context']} tokens ({d['users']} users need {mem['kv_needed_for_users_gib']} GiB of KV cache)",
        "",
        "vLLM:",
        "  " + " ".join(plan["vllm"]["argv"]),
        "",
        "compose (.env):",
        *(f"  {k}={v}" for k, v in plan["compose_env"].items()),
        "",
        "ansible (inventory group_vars):",
        *(f"  {k}: {v}" for k, v in plan["ansible_vars"].items()),
        "",
    ]
    if t and c:
        lines += [
            "",
            f"throughput: {t['low']:,}-{t['high']:,} output tokens/s",
            f"  basis: {t['basis']}",
            f"cost: {c['system_per_hour']} {c['currency']}/hour ({c['basis']}), utilisation {c['utilisation']}",
            f"  {_money(c['per_mtok_output']['low'])}-{_money(c['per_mtok_output']['high'])} {c['currency']} "
            f"per million output tokens; {c['api']['api']}: {c['api']['output_per_mtok']} (with the prompt: "
            f"{c['api']['with_prompt_per_mtok']}) as of {c['api']['as_of']}",
        ]
    if plan["suggestions"]:
        lines += ["", "what would fit:"]
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in s.items()) for s in plan["suggestions"]]
    if plan["warnings"]:
        lines += ["", *(f"note: {w}" for w in plan["warnings"])]
    return "\n".join(lines)


def markdown_table(catalog: Catalog, requests: Iterable[PlanRequest]) -> str:
    """One row per request: the sizing and cost table docs/operations.md carries (generated, not typed)."""
    head = (
        "| model | GPUs | fits | max seqs at context | KV GiB/GPU | tokens/s | cost/M output tokens | vs API |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for req in requests:
        p = make_plan(catalog, req)
        d, mem, t, c = p["deployment"], p["memory"], p["throughput_tokens_per_s"], p["cost"]
        gpus = (
            f"{d['nodes']}x{d['gpus_per_node']} {p['accelerator']['id']}"
            if d["nodes"] > 1
            else f"{d['gpus']}x {p['accelerator']['id']}"
        )
        if p["fits"]:
            cost = f"{_money(c['per_mtok_output']['low'])}-{_money(c['per_mtok_output']['high'])}"
            a = c["api"]
            api = f"{a['api']} {a['output_per_mtok']:.2f} ({a['with_prompt_per_mtok']:.2f} with prompt)"
            rows.append(
                f"| {p['model']['id']} | {gpus} | yes | {mem['max_concurrent_sequences']} at {d['context']} | "
                f"{mem['kv_free_per_gpu_gib']} | {t['low']:,}-{t['high']:,} | {cost} | {api} |"
            )
        else:
            need = "; ".join(
                ", ".join(f"{k}={v}" for k, v in s.items() if k != "change") + f" ({s['change']})"
                for s in p["suggestions"][:2]
            )
            rows.append(
                f"| {p['model']['id']} | {gpus} | no | - | {mem['kv_free_per_gpu_gib']} | - | - | would fit: {need} |"
            )
    return "\n".join(rows)
