"""`enclave bench cold-start`: wall time of `enclave search` in a fresh process, no gateway running.

What a user waits for at the prompt: interpreter start, imports, opening the store, loading the
query's models (the embedding model and the NER that pseudonymizes the question), the search
itself. Next to it, in the same run: a bare interpreter start and `enclave --help` (imports of the
command line only), so the figure can be read on a busy machine; `enclave search` once more with the
data directory's on-disk caches removed before each run (a user's very first command); and, with
``--compare-tree`` (repeatable), the same search run by other checkouts (earlier commits) on the same
data. Each command's CPU time (user + system, from the child's resource usage) is kept beside its
wall time: on a shared machine whose load changes during the run, CPU seconds compare trees more
fairly than the clock does. The load average is recorded before every round.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import machine_info, write_result

__all__ = ["format_cold_start", "run_cold_start"]

SEARCH = "enclave search"
FIRST_RUN = "enclave search (no disk cache)"


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


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def _summary(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 2), "all": [round(x, 2) for x in values]}


def run_cold_start(
    data_dir: Path,
    collection: str,
    question: str,
    out_dir: Path,
    runs: int = 3,
    compare_tree: Path | Sequence[Path] | None = None,
    phases: bool = False,
) -> dict[str, Any]:
    """``compare_tree``: other checkouts (earlier commits) whose `enclave search` runs interleaved
    with this one's, on the same data, as the before/after of a change. ``phases``: afterwards, one
    cold `search` and one cold `ask` of this tree timed phase by phase (benchmarks/cold_start_phases.py)."""
    trees = [compare_tree] if isinstance(compare_tree, Path) else list(compare_tree or [])
    env = dict(os.environ) | {"ENCLAVE_DATA_DIR": str(data_dir)}
    cli = [sys.executable, "-m", "enclave_cli.main"]
    search = [*cli, "search", question, "--collection", collection, "--json"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "enclave --help": [*cli, "--help"],
        SEARCH: search,
        FIRST_RUN: search,
    }
    cwds: dict[str, Path | None] = dict.fromkeys(commands)
    for tree in trees:
        label = f"{SEARCH} ({tree.name})"
        commands[label] = search
        cwds[label] = tree
    cache_dir = data_dir / "cache"
    _wall(search, env)  # untimed: this tree's caches exist before the first timed round
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    loads: list[float] = []
    for _ in range(runs):  # interleaved, so that a burst of load hits every command alike
        loads.append(_load())
        for name, cmd in commands.items():
            cwd = cwds[name]
            run_env = env | {"PYTHONPATH": str(cwd)} if cwd else env
            if name == FIRST_RUN:
                shutil.rmtree(cache_dir, ignore_errors=True)  # rebuilt by this run, as on first use
            wall, cpu_s = _wall(cmd, run_env, cwd)
            samples[name].append(wall)
            cpu[name].append(cpu_s)
    loads.append(_load())
    profiles = [_phases(command, collection, question, env) for command in ("search", "ask")] if phases else []
    result: dict[str, Any] = {
        "runs": runs,
        "question": question,
        "compare_trees": [str(t) for t in trees],
        "seconds": {name: _summary(s) for name, s in samples.items()},
        "cpu_seconds": {name: _summary(s) for name, s in cpu.items()},
        "load_average_1min": loads,
        "phases": profiles,
        "machine": machine_info(),
    }
    result["path"] = str(write_result(out_dir, "cold-start", result))
    return result


def _phases(command: str, collection: str, question: str, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.cold_start_phases", command, collection, question]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"phase profile of {command} failed: {proc.stderr[-1500:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def format_cold_start(result: dict[str, Any]) -> str:
    lines = [f"{'command':40} {'wall s':>7} {'CPU s':>6}  wall per run"]
    for name, row in result["seconds"].items():
        cpu = result.get("cpu_seconds", {}).get(name, {}).get("median", float("nan"))
        lines.append(f"{name:40} {row['median']:7.2f} {cpu:6.2f}  {row['all']}")
    now_cpu, now_wall = result["cpu_seconds"][SEARCH]["median"], result["seconds"][SEARCH]["median"]
    for name in result["seconds"]:
        if name.startswith(f"{SEARCH} (") and name != FIRST_RUN:
            then_cpu, then_wall = result["cpu_seconds"][name]["median"], result["seconds"][name]["median"]
            lines.append(f"{SEARCH} vs {name}: CPU x{now_cpu / then_cpu:.2f}, wall x{now_wall / then_wall:.2f}")
    lines.append(f"load average (1 min) before each round and at the end: {result.get('load_average_1min')}")
    for profile in result.get("phases", []):
        lines.append(f"cold `enclave {profile['command']}` by phase ({profile['outcome']}):")
        for row in [*profile["phases"], {"phase": "total", **profile["total"]}]:
            lines.append(f"  {row['phase']:52} wall {row['wall_s']:6.2f}  CPU {row['cpu_s']:6.2f}")
    lines.append("goal: enclave search <= 5 s cold (no gateway running)")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)
