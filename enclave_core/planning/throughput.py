"""Output-token throughput: from published measurements where the catalogue has one, else a roofline.

Why both: a published figure (MLPerf) is real but measured with a tuned stack at full batch; the
memory-bandwidth roofline (decode reads every weight once per step, plus each sequence's KV cache)
is the ceiling at the batch this deployment actually runs. The range reported is the published
figure scaled to this deployment, capped by the roofline, and the basis is always named.
"""

from __future__ import annotations

from dataclasses import dataclass

from enclave_core.planning.catalog import BYTES, Accelerator, Catalog, Measurement, Model

__all__ = ["Throughput", "estimate", "roofline_tokens_per_s"]

# Share of peak HBM bandwidth vLLM's decode reaches (estimate; low and high ends of the range).
ROOFLINE_EFFICIENCY = (0.25, 0.6)


@dataclass(frozen=True)
class Throughput:
    low: float
    high: float
    basis: str
    measurement: Measurement | None
    batch: int


def roofline_tokens_per_s(
    model: Model, acc: Accelerator, gpus: int, batch: int, avg_context: int, weight_bytes: float, kv_per_token: float
) -> float:
    """Tokens/s at ``batch`` sequences if decode were limited by memory bandwidth alone (efficiency 1)."""
    # A MoE step reads only the experts its tokens picked; with many tokens it reads them all.
    active_share = model.params_active_b / model.params_total_b
    read = min(weight_bytes, weight_bytes * active_share * batch) + batch * avg_context * kv_per_token
    step_s = read / (gpus * acc.bandwidth_tb_s * 1e12)
    return batch / step_s


def _matching(catalog: Catalog, model: Model, acc: Accelerator) -> Measurement | None:
    if not model.measurement_class:
        return None
    found = [
        m for m in catalog.measurements if m.measurement_class == model.measurement_class and m.accelerator == acc.id
    ]
    return max(found, key=lambda m: m.output_tokens_per_s / m.gpus) if found else None


def estimate(
    catalog: Catalog,
    model: Model,
    acc: Accelerator,
    gpus: int,
    batch: int,
    avg_context: int,
    weight_bytes: float,
    kv_per_token: float,
    online_fp8: bool = False,
) -> Throughput:
    batch = max(1, batch)
    roof = roofline_tokens_per_s(model, acc, gpus, batch, avg_context, weight_bytes, kv_per_token)
    lo_eff, hi_eff = ROOFLINE_EFFICIENCY
    m = _matching(catalog, model, acc)
    if m is None:
        return Throughput(
            roof * lo_eff,
            roof * hi_eff,
            f"estimate: memory-bandwidth roofline at {batch} concurrent sequences x {lo_eff}-{hi_eff} efficiency "
            "(no published measurement for this model class on this accelerator in the catalogue)",
            None,
            batch,
        )
    width = BYTES["fp8"] if (model.weight_dtype == "fp8" or online_fp8) else BYTES[model.weight_dtype]
    # Decode is memory bound: a wider weight format than the measurement's reads proportionally more.
    scale = min(1.0, BYTES[m.precision] / width)
    published = m.output_tokens_per_s / m.gpus * gpus * scale
    high = min(published, roof * hi_eff)
    low = min(published * catalog.vllm_factor_low, roof * lo_eff, high)
    return Throughput(
        low,
        high,
        f"published: {m.id} ({m.output_tokens_per_s:.0f} tokens/s on {m.gpus}x {m.accelerator}, {m.precision}, "
        f"{m.engine}{'' if m.verified else ', figure not re-verified'}), scaled to {gpus} GPUs"
        + (f" and x{scale:.2f} for {model.weight_dtype} weights" if scale < 1 else "")
        + f"; low end x{catalog.vllm_factor_low} for vLLM at interactive latency; capped by the bandwidth "
        f"roofline at {batch} concurrent sequences",
        m,
        batch,
    )
