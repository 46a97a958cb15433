"""`enclave bench cold-start`: wall time of `enclave search` in a fresh process, no gateway running.

What a user waits for at the prompt: interpreter start, imports, opening the store, loading the
query's models (the embedding model and the NER that pseudonymizes the question), the search
itself. Next to it, in the same run: a bare interpreter start and `enclave --help` (imports of the
command line only), so the figure can be read on a busy machine. Each command's CPU time (user +
system, from the child's resource usage) is kept beside its wall time: on a shared machine whose
load changes during the run, CPU seconds compare two trees more fairly than the clock does.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine_info, write_result

__all__ = ["format_cold_start", "run_cold_start"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wall(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``cmd``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return seconds, _children_cpu() - cpu


def run_cold_start(
    data_dir: Path, collection: str, question: str, out_dir: Path, runs: int = 3, compare_tree: Path | None = None
) -> dict[str, Any]:
    """``compare_tree``: another checkout (an earlier commit) whose `enclave search` runs interleaved
    with this one's, on the same data, as the before/after of a change."""
    env = dict(os.environ) | {"ENCLAVE_DATA_DIR": str(data_dir)}
    cli = [sys.executable, "-m", "enclave_cli.main"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "enclave --help": [*cli, "--help"],
        "enclave search": [*cli, "search", question, "--collection", collection, "--json"],
    }
    cwds: dict[str, Path | None] = dict.fromkeys(commands)
    if compare_tree is not None:
        label = f"enclave search ({compare_tree.name})"
        commands[label] = commands["enclave search"]
        cwds[label] = compare_tree
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so that a burst of load hits every command alike
        for name, cmd in commands.items():
            tree = cwds[name]
            run_env = env | {"PYTHONPATH": str(tree)} if tree else env
            wall, cpu_s = _wall(cmd, run_env, tree)
            samples[name].append(wall)
            cpu[name].append(cpu_s)
    result: dict[str, Any] = {
        "runs": runs,
        "seconds": {
            name: {"median": round(statistics.median(s), 2), "all": [round(x, 2) for x in s]}
            for name, s in samples.items()
        },
        "cpu_seconds": {
            name: {"median": round(statistics.median(s), 2), "all": [round(x, 2) for x in s]} for name, s in cpu.items()
        },
        "machine": machine_info(),
    }
    result["path"] = str(write_result(out_dir, "cold-start", result))
    return result


def format_cold_start(result: dict[str, Any]) -> str:
    lines = [f"{'command':28} {'wall s':>7} {'CPU s':>6}  wall per run"]
    for name, row in result["seconds"].items():
        cpu = result.get("cpu_seconds", {}).get(name, {}).get("median", float("nan"))
        lines.append(f"{name:28} {row['median']:7.2f} {cpu:6.2f}  {row['all']}")
    before = [n for n in result["seconds"] if n.startswith("enclave search (")]
    if before:
        now, then = result["cpu_seconds"]["enclave search"]["median"], result["cpu_seconds"][before[0]]["median"]
        wall_now, wall_then = result["seconds"]["enclave search"]["median"], result["seconds"][before[0]]["median"]
        lines.append(f"enclave search vs {before[0]}: CPU x{now / then:.2f}, wall x{wall_now / wall_then:.2f}")
    lines.append("goal: enclave search <= 5 s cold (no gateway running)")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)
