"""`enclave sync`: run the connectors of policies/connectors.yaml now (one collection, or every
collection whose schedule is due: call `enclave sync --due` from a systemd timer or cron)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from enclave_core.settings import Settings

__all__ = ["add_sync_parser", "cmd_sync"]


def _print(collection: str, reports: list[Any], as_json: bool) -> int:
    failed = 0
    for report in reports:
        failed += len(report.failed)
        if as_json:
            json.dump(report.to_json(), sys.stdout, ensure_ascii=False)
            sys.stdout.write("\n")
            continue
        print(
            f"{collection}/{report.connector}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.readers_changed} readers changed, {report.moved} moved, "
            f"{report.deleted} deleted, {len(report.failed)} failed"
            + (" (listing incomplete: nothing deleted)" if report.deletions_skipped else "")
        )
        for error in report.failed:
            print(f"error: {error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.runtime import Core
    from ingest import Ingestor
    from ingest.connectors.service import ConnectorService
    from ingest.connectors.state import SyncState

    core = Core(settings)
    state = SyncState(settings.state_dir / "connectors.sqlite")
    try:
        service = ConnectorService(Ingestor(core), state, settings.policies_dir / "connectors.yaml")
        runs = service.sync_due() if args.due else {args.collection: service.sync(args.collection)}
        status = 0
        for collection, reports in runs.items():
            status = max(status, _print(collection, reports, args.json))
        return status
    finally:
        state.close()
        core.close()


def add_sync_parser(sub: Any) -> None:
    p = sub.add_parser("sync", help="sync a collection's connectors now (policies/connectors.yaml)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("collection", nargs="?", help="the collection whose connectors to run")
    target.add_argument("--due", action="store_true", help="every collection whose schedule_minutes has passed")
    p.add_argument("--json", action="store_true", help="one JSON report per connector")
    p.set_defaults(func=cmd_sync)
