"""Cost per million output tokens, self-hosted against API prices.

Why per output token: that is how API providers price answers, and a RAG answer's cost on owned
GPUs is the GPUs' time spent generating it. The hourly cost is either a rental price or the
purchase price spread over its years plus the electricity (data-sheet power x server overhead x PUE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enclave_core.planning.catalog import Accelerator, Prices

__all__ = ["CostInputs", "HourlyCost", "api_comparison", "cost_per_mtok", "hourly_cost"]

HOURS_PER_YEAR = 8760


@dataclass(frozen=True)
class CostInputs:
    gpu_hour_price: float | None = None  # rent, per GPU-hour
    purchase_price: float | None = None  # own, per GPU (its share of the server included)
    years: float | None = None
    kwh_price: float | None = None
    utilisation: float = 1.0  # share of the hours spent generating at the estimated throughput


@dataclass(frozen=True)
class HourlyCost:
    per_gpu: float
    basis: str


def hourly_cost(acc: Accelerator, prices: Prices, inputs: CostInputs) -> HourlyCost:
    own = prices.ownership
    if inputs.purchase_price is not None:
        years = inputs.years or own["years"]
        kwh = inputs.kwh_price if inputs.kwh_price is not None else own["kwh_price"]
        power_kw = acc.power_w / 1000 * own["server_power_factor"] * own["pue"]
        amort = inputs.purchase_price / (years * HOURS_PER_YEAR)
        return HourlyCost(
            amort + power_kw * kwh,
            f"purchase {inputs.purchase_price:.0f} {prices.currency}/GPU over {years:g} years + "
            f"{power_kw:.2f} kW x {kwh} {prices.currency}/kWh (data-sheet {acc.power_w:.0f} W x "
            f"{own['server_power_factor']} server x PUE {own['pue']})",
        )
    if inputs.gpu_hour_price is not None:
        return HourlyCost(inputs.gpu_hour_price, f"{inputs.gpu_hour_price} {prices.currency}/GPU-hour (given)")
    ref = prices.gpu_hour.get(acc.id)
    if ref is None:
        raise ValueError(f"no GPU-hour price for {acc.id}: pass a price per hour or a purchase price")
    return HourlyCost(
        float(ref["price"]), f"{ref['price']} {prices.currency}/GPU-hour ({ref['source']}, {ref['as_of']})"
    )


def cost_per_mtok(hourly_total: float, tokens_per_s: float, utilisation: float = 1.0) -> float:
    """Cost of one million output tokens when the system produces ``tokens_per_s`` while busy."""
    if tokens_per_s <= 0:
        return float("inf")
    return hourly_total / (tokens_per_s * 3600 * max(utilisation, 1e-6)) * 1e6


def api_comparison(prices: Prices, prompt_tokens: int, answer_tokens: int) -> list[dict[str, Any]]:
    """Each API's price per million output tokens, alone and with the prompt tokens a RAG answer sends."""
    rows = []
    ratio = prompt_tokens / max(answer_tokens, 1)
    for name, p in prices.api.items():
        rows.append(
            {
                "api": name,
                "provider": p["provider"],
                "output_per_mtok": p["output_per_mtok"],
                "with_prompt_per_mtok": round(p["output_per_mtok"] + p["input_per_mtok"] * ratio, 4),
                "as_of": p["as_of"],
                "source": p["source"],
            }
        )
    return rows
