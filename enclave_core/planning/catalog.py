"""The planner's catalogues (models, accelerators, measurements, prices) as typed, validated data.

Why data and not code: the figures change (new GPUs, new prices) and each must carry its source;
a YAML file under ``policies/catalog`` validated by a JSON schema is reviewable by non-programmers
and fails loudly on a typo, like the other policy files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from enclave_core.errors import InputError, PolicyError
from enclave_core.policy.loader import load_policy_file, policies_dir

__all__ = ["Accelerator", "Catalog", "Measurement", "Model", "Prices", "catalog_dir", "load_catalog"]

GIB = 2**30
BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5}


def catalog_dir() -> Path:
    return policies_dir() / "catalog"


@dataclass(frozen=True)
class Model:
    """One servable checkpoint: architecture figures from its config.json, and how vLLM runs it."""

    id: str
    hf_repo: str
    params_total_b: float
    params_active_b: float
    params_16bit_b: float
    weight_dtype: str
    layers: int
    hidden_size: int
    attention: dict[str, Any]
    context_length: int
    chat_template: str
    reasoning_parser: str | None
    tool_call_parser: str | None
    licence: str
    vllm_args: tuple[str, ...]
    source: str
    verified: bool
    fp8_variant: str | None = None
    checkpoint_quantization: str | None = None
    measurement_class: str | None = None
    moe: dict[str, int] | None = None

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def is_mla(self) -> bool:
        return self.attention["kind"] == "mla"


@dataclass(frozen=True)
class Accelerator:
    """One GPU model, with the data sheet's figures."""

    id: str
    name: str
    vendor: str
    memory_gb: float
    usable_gib: float
    bandwidth_tb_s: float
    bf16_tflops: float
    fp8_tflops: float
    fp8_native: bool
    interconnect: str
    gpus_per_node: int
    power_w: float
    source: str
    verified: bool


@dataclass(frozen=True)
class Measurement:
    """A published throughput figure (MLPerf), for a class of models on one accelerator."""

    id: str
    measurement_class: str
    accelerator: str
    gpus: int
    scenario: str
    output_tokens_per_s: float
    precision: str
    engine: str
    source: str
    verified: bool


@dataclass(frozen=True)
class Prices:
    currency: str
    api: dict[str, dict[str, Any]]
    gpu_hour: dict[str, dict[str, Any]]
    ownership: dict[str, float]


@dataclass(frozen=True)
class Catalog:
    models: dict[str, Model]
    accelerators: dict[str, Accelerator]
    measurements: tuple[Measurement, ...]
    vllm_factor_low: float
    prices: Prices
    sources: dict[str, str] = field(default_factory=dict)

    def model(self, model_id: str) -> Model:
        try:
            return self.models[model_id]
        except KeyError:
            raise InputError(f"unknown model {model_id!r}; known: {', '.join(sorted(self.models))}") from None

    def accelerator(self, acc_id: str) -> Accelerator:
        try:
            return self.accelerators[acc_id]
        except KeyError:
            known = ", ".join(sorted(self.accelerators))
            raise InputError(f"unknown accelerator {acc_id!r}; known: {known}") from None


def _model(model_id: str, d: dict[str, Any]) -> Model:
    return Model(
        id=model_id,
        hf_repo=d["hf_repo"],
        params_total_b=float(d["params_total_b"]),
        params_active_b=float(d["params_active_b"]),
        params_16bit_b=float(d["params_16bit_b"]),
        weight_dtype=d["weight_dtype"],
        layers=int(d["layers"]),
        hidden_size=int(d["hidden_size"]),
        attention=dict(d["attention"]),
        context_length=int(d["context_length"]),
        chat_template=d["chat_template"],
        reasoning_parser=d.get("reasoning_parser"),
        tool_call_parser=d.get("tool_call_parser"),
        licence=d["licence"],
        vllm_args=tuple(d["vllm_args"]),
        source=d["source"],
        verified=bool(d["verified"]),
        fp8_variant=d.get("fp8_variant"),
        checkpoint_quantization=d.get("checkpoint_quantization"),
        measurement_class=d.get("measurement_class"),
        moe=d.get("moe"),
    )


def load_catalog(directory: Path | None = None, prices_file: Path | None = None) -> Catalog:
    """Load and cross-check the four catalogue files (a dangling reference is a PolicyError)."""
    base = directory or catalog_dir()
    return _load(base, prices_file or base / "prices.yaml")


@cache
def _load(base: Path, prices_file: Path) -> Catalog:
    models_doc = load_policy_file(base / "models.yaml", "models")
    acc_doc = load_policy_file(base / "accelerators.yaml", "accelerators")
    meas_doc = load_policy_file(base / "measurements.yaml", "measurements")
    price_doc = load_policy_file(prices_file, "prices")
    models = {k: _model(k, v) for k, v in models_doc["models"].items()}
    accelerators = {
        k: Accelerator(id=k, **{f: x for f, x in v.items() if f != "usable_gib_note"})
        for k, v in acc_doc["accelerators"].items()
    }
    measurements = tuple(Measurement(**m) for m in meas_doc["measurements"])
    for m in models.values():
        if m.fp8_variant and (m.fp8_variant not in models or models[m.fp8_variant].weight_dtype != "fp8"):
            raise PolicyError(f"{base / 'models.yaml'}: {m.id}: fp8_variant {m.fp8_variant!r} is not an FP8 model")
        if m.params_active_b > m.params_total_b:
            raise PolicyError(f"{base / 'models.yaml'}: {m.id}: more active than total parameters")
    for ms in measurements:
        if ms.accelerator not in accelerators:
            raise PolicyError(f"{base / 'measurements.yaml'}: {ms.id}: unknown accelerator {ms.accelerator!r}")
    for acc_id in price_doc["gpu_hour"]:
        if acc_id not in accelerators:
            raise PolicyError(f"{prices_file}: gpu_hour: unknown accelerator {acc_id!r}")
    prices = Prices(
        currency=price_doc["currency"],
        api=dict(price_doc["api"]),
        gpu_hour=dict(price_doc["gpu_hour"]),
        ownership={k: float(v) for k, v in price_doc["ownership_defaults"].items()},
    )
    return Catalog(models, accelerators, measurements, float(meas_doc["planning"]["vllm_factor_low"]), prices)
