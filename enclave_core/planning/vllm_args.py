"""vLLM's command line for a plan, and the Compose / Ansible variables that produce it.

Why one function: the planner's advice, docker-compose.yml and the Ansible role must start vLLM the
same way; tests/unit/test_planning_vllm_args.py feeds every argv built here to vLLM's own parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enclave_core.planning.catalog import Model

__all__ = ["ServeConfig", "ansible_vars", "argv", "compose_env", "config_file"]


@dataclass(frozen=True)
class ServeConfig:
    model: Model
    served_name: str
    tp: int
    pp: int
    max_model_len: int
    gpu_memory_utilization: float
    max_num_seqs: int
    kv_cache_dtype: str  # "auto" (the model's dtype) or "fp8"
    online_fp8: bool
    nodes: int
    vendor: str

    @property
    def multi_node(self) -> bool:
        return self.nodes > 1


def config_file(cfg: ServeConfig) -> dict[str, Any]:
    """What docker-compose.yml passes to vLLM as ``--config`` (a YAML file of long option names):
    everything that depends on the model and the hardware, beyond the flags every profile sets."""
    out: dict[str, Any] = {
        "tensor-parallel-size": cfg.tp,
        "pipeline-parallel-size": cfg.pp,
        "max-model-len": cfg.max_model_len,
        "gpu-memory-utilization": cfg.gpu_memory_utilization,
        "max-num-seqs": cfg.max_num_seqs,
        "kv-cache-dtype": cfg.kv_cache_dtype,
    }
    if cfg.online_fp8:
        out["quantization"] = "fp8"
    if cfg.model.is_moe and cfg.tp * cfg.pp > 1:
        out["enable-expert-parallel"] = True
    if cfg.model.reasoning_parser:
        out["reasoning-parser"] = cfg.model.reasoning_parser
    if cfg.model.tool_call_parser:
        out["enable-auto-tool-choice"] = True
        out["tool-call-parser"] = cfg.model.tool_call_parser
    if cfg.multi_node:
        # vLLM's own multi-node mode: the Ray cluster started by the ray-head / ray-worker services.
        out["distributed-executor-backend"] = "ray"
    for arg in cfg.model.vllm_args:
        name, _, value = arg[2:].partition("=")
        if name == "enable-expert-parallel" and "enable-expert-parallel" not in out:
            continue  # one GPU: nothing to spread the experts over
        out[name] = value if value else True
    return out


def argv(cfg: ServeConfig, model_path: str = "/models/llm") -> list[str]:
    """The full ``vllm serve`` argument list (without the program name), as the llm service runs it."""
    args = [f"--model={model_path}", f"--served-model-name={cfg.served_name}", "--host=0.0.0.0", "--port=8000"]
    for name, value in config_file(cfg).items():
        args.append(f"--{name}" if value is True else f"--{name}={value}")
    # No --disable-log-stats: it also turns off vLLM's Prometheus metrics, which the monitoring stack scrapes.
    return args


def compose_env(cfg: ServeConfig) -> dict[str, str]:
    """The .env lines for docker-compose.yml's llm / llm-rocm / ray services."""
    env = {
        "COMPOSE_PROFILES": "rocm" if cfg.vendor == "amd" else "gpu",
        "ENCLAVE_LLM_MODEL": cfg.served_name,
        "ENCLAVE_LLM_MAX_MODEL_LEN": str(cfg.max_model_len),
        "ENCLAVE_LLM_GPU_MEMORY_UTILIZATION": f"{cfg.gpu_memory_utilization:.2f}",
        "ENCLAVE_LLM_TENSOR_PARALLEL_SIZE": str(cfg.tp),
        "ENCLAVE_LLM_GPU_COUNT": str(cfg.tp),
    }
    return env


def ansible_vars(cfg: ServeConfig) -> dict[str, Any]:
    """Inventory variables for infra/ansible (roles appliance and ray)."""
    out: dict[str, Any] = {
        "enclave_gpu_vendor": cfg.vendor,
        "appliance_profile": "rocm" if cfg.vendor == "amd" else "gpu",
        "appliance_model": cfg.served_name,
        "appliance_llm_max_model_len": cfg.max_model_len,
        "appliance_llm_gpu_memory_utilization": cfg.gpu_memory_utilization,
        "appliance_llm_tensor_parallel_size": cfg.tp,
        "appliance_llm_args": {
            k: v
            for k, v in config_file(cfg).items()
            if k not in {"tensor-parallel-size", "max-model-len", "gpu-memory-utilization"}
        },
    }
    if cfg.multi_node:
        out["ray_nodes"] = cfg.nodes
    return out
