"""``enclave backup --out PATH`` and ``enclave restore ARCHIVE`` (see enclave_core/backup.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from enclave_core.settings import Settings

__all__ = ["add_backup_parsers", "cmd_backup", "cmd_restore"]


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.audit import AuditEvent, AuditLog, write_event
    from enclave_core.backup import create_backup_report
    from enclave_core.identity import LOCAL_ADMIN

    audit = AuditLog(settings.audit_dir, settings.audit_signing_key, settings.audit.checkpoint_every)
    # Recorded before the copy, so the backup contains the record of its own creation.
    write_event(audit, AuditEvent.by(LOCAL_ADMIN, "backup.create", "started", via="cli", out=str(args.out)))
    report = create_backup_report(settings, args.out)
    if args.json:
        _print_json(report.to_json())
    else:
        print(
            f"backup written: {report.archive} ({report.files} files, {report.bytes >> 10} KiB of data, "
            f"sha256 {report.sha256})"
        )
        if report.vector_store == "server":
            print(
                "note: the vectors are on the Qdrant server (QDRANT_URL) and not in this archive; "
                "take a Qdrant snapshot now as well",
                file=sys.stderr,
            )
        print("the archive holds the appliance's keys: keep it encrypted and offline", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.backup import restore_backup

    report = restore_backup(args.archive, settings)
    if args.json:
        _print_json(report.to_json())
    else:
        print(
            f"restored {report.files} files into {report.data_dir} from the backup of {report.created_at}; "
            f"audit chain {'OK' if report.audit_ok else 'BROKEN'} ({report.audit_records} records)"
        )
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0 if report.audit_ok else 1


def add_backup_parsers(subparsers: Any) -> None:
    """Register ``backup`` and ``restore`` on the CLI's subparsers (handlers take ``(args, settings)``)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "backup", help="archive the data directory's durable state (stop the gateway first if the store is embedded)"
    )
    p.add_argument("--out", type=Path, required=True, help="archive file name, or a folder for a timestamped name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser("restore", help="restore a backup into an empty data directory")
    p.add_argument("archive", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_restore)
