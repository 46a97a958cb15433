"""``enclave plan``: sizing and cost of a model on given GPUs (enclave_core.planning does the work)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_plan_parser", "cmd_plan"]


def cmd_plan(args: argparse.Namespace, settings: Any = None) -> int:
    # Imported here: the planning package (and jsonschema with it) is for `enclave plan` only, not
    # for every command whose parser lists it.
    from enclave_core.planning import PlanRequest, load_catalog, make_plan
    from enclave_core.planning.cost import CostInputs
    from enclave_core.planning.render import text

    catalog = load_catalog(prices_file=args.prices)
    if args.list:
        print("models:      " + ", ".join(sorted(catalog.models)))
        print("accelerators: " + ", ".join(sorted(catalog.accelerators)))
        print("apis:        " + ", ".join(catalog.prices.api))
        return 0
    if not args.model or not args.gpu:
        print("error: --model and --gpu are required (see --list)", file=sys.stderr)
        return 2
    req = PlanRequest(
        model=args.model,
        gpu=args.gpu,
        count=args.count,
        nodes=args.nodes,
        users=args.users,
        context=args.context,
        answer_tokens=args.answer_tokens,
        prompt_tokens=args.prompt_tokens,
        gpu_memory_utilization=args.gpu_memory_utilization,
        kv_cache_dtype=args.kv_cache_dtype,
        quantization=args.quantization,
        cost=CostInputs(args.gpu_hour_price, args.purchase_price, args.years, args.kwh_price, args.utilisation),
        api=args.api,
    )
    plan = make_plan(catalog, req)
    print(json.dumps(plan, indent=2) if args.json else text(plan))
    return 0 if plan["fits"] else 1


def add_plan_parser(sub: Any) -> None:
    p = sub.add_parser("plan", help="will a model fit these GPUs, how to start vLLM, what it costs")
    p.add_argument("--model", help="a model of policies/catalog/models.yaml")
    p.add_argument("--gpu", help="an accelerator of policies/catalog/accelerators.yaml")
    p.add_argument("--count", type=int, default=1, help="GPUs per node (tensor parallel size)")
    p.add_argument("--nodes", type=int, default=1, help="nodes (pipeline parallel size, over Ray)")
    p.add_argument("--users", type=int, default=1, help="sequences generating at the same time")
    p.add_argument("--context", type=int, default=None, help="max model length (default min(model, 8192))")
    p.add_argument("--answer-tokens", type=int, default=512)
    p.add_argument("--prompt-tokens", type=int, default=3000, help="a RAG prompt: question, history, passages")
    p.add_argument("--gpu-memory-utilization", type=float, default=0.90)
    p.add_argument("--kv-cache-dtype", choices=["auto", "fp8"], default="auto")
    p.add_argument("--quantization", choices=["fp8"], default=None, help="quantize a BF16 checkpoint at load")
    p.add_argument("--gpu-hour-price", type=float, default=None, help="rent: price per GPU-hour")
    p.add_argument("--purchase-price", type=float, default=None, help="own: price per GPU, server share included")
    p.add_argument("--years", type=float, default=None, help="amortisation (default: prices.yaml)")
    p.add_argument("--kwh-price", type=float, default=None)
    p.add_argument("--utilisation", type=float, default=1.0, help="share of hours spent generating")
    p.add_argument("--api", default="gpt-4o", help="API price to compare with (prices.yaml)")
    p.add_argument("--prices", type=Path, default=None, help="another price list of the same schema")
    p.add_argument("--list", action="store_true", help="list the catalogue's models, accelerators and APIs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plan)
