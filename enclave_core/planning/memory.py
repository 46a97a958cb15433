"""Memory arithmetic: weights, KV cache per token, runtime reserve, per GPU.

Why per GPU: vLLM shards weights and KV cache over tensor- and pipeline-parallel ranks, and it
refuses to start when the *most loaded* GPU cannot hold its shard plus one full-length sequence.
The budget of each GPU is ``usable memory x --gpu-memory-utilization`` (vLLM's own rule: the
fraction covers everything its process allocates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from enclave_core.planning.catalog import BYTES, GIB, Accelerator, Model

__all__ = ["MemoryBudget", "budget", "kv_bytes_per_token", "kv_bytes_per_token_per_gpu", "weight_bytes"]

# vLLM's default chunked-prefill batch (tokens processed in one forward pass): the activation peak
# that its startup profile run measures scales with it.
MAX_BATCHED_TOKENS = 8192
# CUDA/HIP graphs, NCCL/RCCL buffers and allocator fragmentation, per GPU (estimate; vLLM logs the
# real figure at startup as "non-torch memory" and "CUDA graph memory").
FIXED_RESERVE_GIB = 1.5
# Live activations per batched token, in hidden-size elements (residual, attention and MLP
# intermediates at their peak, BF16); an estimate calibrated to be conservative.
ACTIVATION_ELEMENTS_PER_HIDDEN = 8


def weight_bytes(model: Model, online_fp8: bool = False) -> float:
    """Bytes of weights in GPU memory: quantized parameters at their width, the rest in BF16.

    ``online_fp8``: vLLM's ``--quantization fp8`` quantizes a BF16 checkpoint's linear layers at
    load time; embeddings and lm_head (about ``2 x vocab x hidden``) stay BF16, approximated by
    ``params_16bit_b`` when the catalogue has it, else 2% of the parameters."""
    if model.weight_dtype == "fp8" or online_fp8:
        keep = model.params_16bit_b if model.params_16bit_b else 0.02 * model.params_total_b
        return ((model.params_total_b - keep) * BYTES["fp8"] + keep * BYTES["bf16"]) * 1e9
    return model.params_total_b * BYTES[model.weight_dtype] * 1e9


def kv_bytes_per_token(model: Model, kv_dtype: str = "bf16") -> float:
    """KV-cache bytes one token occupies over the whole model (all layers, one copy).

    GQA: K and V for every KV head. MLA (DeepSeek V3/R1): one compressed latent of
    ``kv_lora_rank + qk_rope_head_dim`` elements per layer, which is why a 671B model's cache
    is smaller per token than Llama 3.1 70B's."""
    width = BYTES[kv_dtype]
    att = model.attention
    if att["kind"] == "mla":
        return model.layers * (att["kv_lora_rank"] + att["qk_rope_head_dim"]) * width
    return 2 * model.layers * att["kv_heads"] * att["head_dim"] * width


def kv_bytes_per_token_per_gpu(model: Model, tp: int, pp: int, kv_dtype: str = "bf16") -> float:
    """The share of one token's KV cache on the most loaded GPU.

    Pipeline stages split the layers (the largest stage counts). Tensor parallelism splits KV heads,
    but a head cannot be split: with more ranks than KV heads each rank keeps a whole head. MLA's
    latent is not split by tensor parallelism at all: every rank keeps it (vLLM's MLA backends)."""
    width = BYTES[kv_dtype]
    layers = math.ceil(model.layers / pp)
    att = model.attention
    if att["kind"] == "mla":
        return layers * (att["kv_lora_rank"] + att["qk_rope_head_dim"]) * width
    heads = max(1, math.ceil(att["kv_heads"] / tp))
    return 2 * layers * heads * att["head_dim"] * width


@dataclass(frozen=True)
class MemoryBudget:
    """One GPU's memory, in GiB, and what the whole deployment can hold."""

    per_gpu_budget_gib: float
    weights_gib: float  # per GPU
    reserve_gib: float  # per GPU
    kv_free_gib: float  # per GPU, what is left for the KV cache (negative: the weights do not fit)
    kv_bytes_per_token: float  # whole model, one copy
    kv_bytes_per_token_gpu: float  # on the most loaded GPU
    kv_capacity_tokens: int  # tokens the deployment's cache holds
    total_weights_gib: float

    @property
    def weights_fit(self) -> bool:
        return self.kv_free_gib > 0

    def sequences(self, context: int) -> int:
        """Sequences of ``context`` tokens the cache holds at once (the worst case: all at full length)."""
        return self.kv_capacity_tokens // context if context > 0 else 0


def runtime_reserve_gib(model: Model, tp: int) -> float:
    """Per-GPU memory vLLM needs besides weights and KV cache (estimate, see the constants)."""
    activations = MAX_BATCHED_TOKENS * model.hidden_size * ACTIVATION_ELEMENTS_PER_HIDDEN * BYTES["bf16"]
    # Hidden-size tensors are replicated over TP ranks, the MLP intermediates are split: count half as split.
    activations = activations / 2 + activations / 2 / tp
    return FIXED_RESERVE_GIB + activations / GIB


def budget(
    model: Model,
    acc: Accelerator,
    tp: int,
    pp: int,
    gpu_memory_utilization: float,
    kv_dtype: str = "bf16",
    online_fp8: bool = False,
) -> MemoryBudget:
    per_gpu = acc.usable_gib * gpu_memory_utilization
    total_w = weight_bytes(model, online_fp8) / GIB
    weights = total_w / (tp * pp)
    reserve = runtime_reserve_gib(model, tp)
    free = per_gpu - weights - reserve
    per_token_gpu = kv_bytes_per_token_per_gpu(model, tp, pp, kv_dtype)
    capacity = int(free * GIB // per_token_gpu) if free > 0 else 0
    return MemoryBudget(
        per_gpu_budget_gib=per_gpu,
        weights_gib=weights,
        reserve_gib=reserve,
        kv_free_gib=free,
        kv_bytes_per_token=kv_bytes_per_token(model, kv_dtype),
        kv_bytes_per_token_gpu=per_token_gpu,
        kv_capacity_tokens=capacity,
        total_weights_gib=total_w,
    )
