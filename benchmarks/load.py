"""``enclave bench load``: locust, headless, on loopback, against the real gateway and the CPU vLLM.

By default the benchmark brings up everything but the LLM itself, in a fresh data directory:
API keys for N users (group ``staff``), a gateway (``enclave serve``) on a free loopback port,
the sample corpus ingested; then N locust users (default 50) mix search, query and upload
(weights 6:3:1) for ``--duration`` seconds (default 600). The LLM is whatever ``llm.url`` points
at (``ENCLAVE_LLM_URL``); when nothing answers there, the benchmark starts the CPU vLLM server
itself (as ``make run`` does) and stops it at the end.
``--url`` with ``--keys-file`` targets a gateway that is already running instead.

It prints throughput, p50/p95/p99 per endpoint and the error breakdown, and writes all of it as
JSON under ``--out`` (default results/). Errors other than the documented 429 back-pressure
responses make the exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

__all__ = ["add_load_parser", "format_load", "run_load"]

REPO = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SAMPLES = REPO / "samples" / "corpus"
DOCUMENTED_429 = "429 Too Many Requests"
ENDPOINTS = ["POST /v1/search", "POST /v1/query", "POST /v1/collections/{name}/documents"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, key: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the gateway exited with code {process.returncode}")
        try:
            r = httpx.get(f"{url}/readyz", headers={"Authorization": f"Bearer {key}"}, timeout=5)
            if r.status_code == 200:
                return
            last = r.text
        except httpx.HTTPError as exc:
            last = exc.__class__.__name__
        time.sleep(1)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s: {last}")


class _Gateway:
    """A fresh data directory, keys for the simulated users, and ``enclave serve`` on loopback."""

    def __init__(self, users: int, data_dir: Path | None, llm_url: str | None) -> None:
        from enclave_core.keys import KeyStore
        from enclave_core.settings import load_settings

        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="enclave-load-")
        self.data_dir = (data_dir or Path(self._tmp or ".")).resolve()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ENCLAVE_DATA_DIR": str(self.data_dir)}
        if llm_url:
            self.env["ENCLAVE_LLM_URL"] = llm_url
        self.settings = load_settings(self.env)
        keys = KeyStore(self.settings.secrets_dir / "api-keys.json")
        self.admin_key = keys.create("load-admin", [], ["admin"])[1]
        self.user_keys = [keys.create(f"load-user-{i:03d}", ["staff"], [])[1] for i in range(users)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, log: Path) -> None:
        code = f"from enclave_cli.main import main; raise SystemExit(main(['serve', '--port', '{self.port}']))"
        with open(log, "ab") as fh:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], env=self.env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO
            )
        _wait_ready(self.url, self.admin_key, 300, self.process)

    def ingest_samples(self, collection: str) -> int:
        files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLES.iterdir()) if p.is_file()]
        r = httpx.post(
            f"{self.url}/v1/collections/{collection}/documents",
            headers={"Authorization": f"Bearer {self.admin_key}"},
            files=files,
            data={"groups": "*"},
            timeout=600,
        )
        r.raise_for_status()
        return int(r.json()["ingested"]) + int(r.json()["unchanged"])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def _parse(prefix: Path, duration_s: float) -> dict[str, Any]:
    endpoints: dict[str, Any] = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["Name"] if row["Name"] != "Aggregated" else "total"
            endpoints[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "throughput_rps": round(int(row["Request Count"]) / duration_s, 3),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "p99_ms": _number(row["99%"]),
                "avg_ms": round(_number(row["Average Response Time"]), 1),
                "max_ms": _number(row["Max Response Time"]),
            }
    errors = []
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with open(failures, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                error = row["Error"].removeprefix("CatchResponseError(").removesuffix(")").strip("'\"")
                errors.append(
                    {
                        "endpoint": row["Name"],
                        "error": error,
                        "count": int(row["Occurrences"]),
                        "documented": error.startswith(DOCUMENTED_429),
                    }
                )
    return {"endpoints": endpoints, "errors": sorted(errors, key=lambda e: -e["count"])}


def run_load(
    out: Path,
    *,
    users: int = 50,
    duration_s: int = 600,
    spawn_rate: float = 5.0,
    url: str | None = None,
    keys_file: Path | None = None,
    collection: str = "samples",
    data_dir: Path | None = None,
    llm_url: str | None = None,
    weights: str = "6,3,1",
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="enclave-load-run-"))
    gateway: _Gateway | None = None
    llm_process: subprocess.Popen[bytes] | None = None
    try:
        if url is None:
            gateway = _Gateway(users, data_dir, llm_url)
            from services.llm.launch import serving, start_server, wait_until_ready

            if not serving(gateway.settings):
                # No LLM at llm.url: start the CPU vLLM here (as `make run` does) and stop it afterwards.
                print(f"starting vLLM for {gateway.settings.llm.model} (a minute or two on a CPU)", file=sys.stderr)
                llm_process = start_server(gateway.settings, out / f"load-{stamp}-vllm.log")
                wait_until_ready(gateway.settings, llm_process)
            gateway.start(out / f"load-{stamp}-gateway.log")
            gateway.ingest_samples(collection)
            url, keys = gateway.url, gateway.user_keys
            llm = {"url": gateway.settings.llm.url, "model": gateway.settings.llm.model}
        else:
            if keys_file is None:
                raise SystemExit("--url needs --keys-file (a JSON list of API keys)")
            keys = json.loads(keys_file.read_text(encoding="utf-8"))
            _wait_ready(url, keys[0], 30)
            llm = {}
        keys_path = work / "keys.json"
        keys_path.write_text(json.dumps(keys), encoding="utf-8")
        os.chmod(keys_path, 0o600)
        prefix = work / "locust"
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{duration_s}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "60",
            "--exit-code-on-error",
            "0",
            "--loglevel",
            "WARNING",
        ]
        env = {
            **os.environ,
            "ENCLAVE_LOAD_KEYS": str(keys_path),
            "ENCLAVE_LOAD_COLLECTION": collection,
            "ENCLAVE_LOAD_WEIGHTS": weights,
        }
        started = time.monotonic()
        locust = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if locust.returncode != 0 or not Path(f"{prefix}_stats.csv").exists():
            raise RuntimeError(f"locust failed ({locust.returncode}): {locust.stderr[-3000:]}")
        parsed = _parse(prefix, float(duration_s))
        limits = {}
        if gateway is not None:
            limits_file = gateway.settings.policies_dir / "limits.yaml"
            if limits_file.exists():
                import yaml

                limits = yaml.safe_load(limits_file.read_text(encoding="utf-8"))
        result = {
            "benchmark": "load",
            "started_at": stamp,
            "config": {
                "users": users,
                "duration_s": duration_s,
                "spawn_rate": spawn_rate,
                "weights_search_query_upload": weights,
                "collection": collection,
                "gateway": url,
                "llm": llm,
                "limits_policy": limits,
                "cpu_count": os.cpu_count(),
                "load_average_after": os.getloadavg(),
            },
            "wall_s": round(elapsed, 1),
            **parsed,
            "undocumented_errors": sum(e["count"] for e in parsed["errors"] if not e["documented"]),
            "documented_429": sum(e["count"] for e in parsed["errors"] if e["documented"]),
        }
        path = out / f"load-{stamp}.json"
        path.write_text(json.dumps(result, indent=2), encoding="utf-8")
        result["path"] = str(path)
        return result
    finally:
        if gateway is not None:
            gateway.stop()
        if llm_process is not None:
            from services.llm.launch import stop_server

            stop_server(llm_process)
        shutil.rmtree(work, ignore_errors=True)


def format_load(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        f"load: {cfg['users']} users for {cfg['duration_s']} s against {cfg['gateway']} "
        f"(LLM {cfg['llm'].get('model', '?')}, {cfg['cpu_count']} CPUs)",
        f"{'endpoint':<40} {'requests':>8} {'fail':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for name in [*ENDPOINTS, "total"]:
        e = result["endpoints"].get(name)
        if e:
            lines.append(
                f"{name:<40} {e['requests']:>8} {e['failures']:>6} {e['throughput_rps']:>7.2f} "
                f"{e['p50_ms']:>8.0f} {e['p95_ms']:>8.0f} {e['p99_ms']:>8.0f}"
            )
    lines.append("errors:" if result["errors"] else "errors: none")
    for e in result["errors"]:
        tag = "documented" if e["documented"] else "UNDOCUMENTED"
        lines.append(f"  {e['count']:>6}  {tag:<12} {e['endpoint']}: {e['error'][:100]}")
    lines.append(f"undocumented errors: {result['undocumented_errors']}; JSON: {result.get('path')}")
    return "\n".join(lines)


def _load(args: argparse.Namespace) -> int:
    result = run_load(
        args.out,
        users=args.users,
        duration_s=args.duration,
        spawn_rate=args.spawn_rate,
        url=args.url,
        keys_file=args.keys_file,
        collection=args.collection,
        data_dir=args.data_dir,
        llm_url=args.llm_url,
        weights=args.weights,
    )
    print(format_load(result))
    return 1 if result["undocumented_errors"] else 0


def add_load_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``load`` on the ``bench`` subparsers (handler: ``bench_func(args) -> int``)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "load", help="locust load test: N users mixing search, query and upload against gateway + vLLM"
    )
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--duration", type=int, default=600, help="seconds (default 600)")
    p.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    p.add_argument("--collection", default="samples")
    p.add_argument("--weights", default="6,3,1", help="search,query,upload task weights")
    p.add_argument("--llm-url", default=None, help="default: llm.url from settings (ENCLAVE_LLM_URL)")
    p.add_argument("--data-dir", type=Path, default=None, help="default: a fresh temporary directory")
    p.add_argument("--url", default=None, help="use this running gateway instead of starting one")
    p.add_argument("--keys-file", type=Path, default=None, help="with --url: JSON list of API keys")
    p.set_defaults(bench_func=_load)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    sub = parser.add_subparsers(dest="command", required=True)
    add_load_parser(sub)
    args = parser.parse_args(["load", *(argv if argv is not None else sys.argv[1:])])
    return int(args.bench_func(args))


if __name__ == "__main__":
    raise SystemExit(main())
