"""``enclave``: the command line of the appliance (acts as the configured local administrator)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import enclave_core  # noqa: F401  (sets the air-gap environment before anything else is imported)
from enclave_core.errors import DependencyUnavailable, EnclaveError, InputError, NotFoundError, PolicyError
from enclave_core.logs import configure_logging
from enclave_core.requestctx import request_scope
from enclave_core.settings import Settings, load_settings

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _groups(value: str) -> list[str]:
    return [g.strip() for g in value.split(",") if g.strip()]


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from enclave_cli.backend import open_backend
    from ingest import collect_files

    files, _ = collect_files(args.paths)
    backend = open_backend(settings)
    bar = tqdm(total=len(files), unit="file", desc=f"ingest → {args.collection}", disable=args.quiet, file=sys.stderr)

    def progress(outcome: Any) -> None:
        if outcome.status in ("ingested", "unchanged", "failed"):
            bar.update(1)
        if outcome.status == "failed":
            tqdm.write(f"error: {outcome.error}", file=sys.stderr)

    try:
        report = backend.ingest(args.paths, args.collection, _groups(args.groups), args.force, progress)
    finally:
        bar.close()
        backend.close()
    if args.json:
        _print_json(report)
    else:
        print(
            f"{args.collection}: {report['ingested']} ingested, {report['unchanged']} unchanged, "
            f"{report['failed']} failed, {report['chunks']} chunks"
        )
    return EXIT_FAILED if report["failed"] else EXIT_OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_cli.backend import open_backend

    backend = open_backend(settings)
    try:
        result = backend.search(args.question, args.collection, args.top_k, args.mode)
    finally:
        backend.close()
    if args.json:
        _print_json(result)
    else:
        for i, c in enumerate(result["citations"], start=1):
            page = f" ({c['location']})" if c.get("location") else ""
            print(f"[{i}] {c['score']:.4f}  {c['source']}{page}\n    {c['text'][:200]}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_cli.backend import open_backend

    backend = open_backend(settings)
    try:
        if args.json or not args.stream:
            result = backend.ask(args.question, args.collection, args.top_k)
        else:
            citations: list[dict[str, Any]] = []
            for event in backend.ask_stream(args.question, args.collection, args.top_k):
                if event["type"] == "citations":
                    citations = event["citations"]
                elif event["type"] == "delta":
                    print(event["text"], end="", flush=True)
                elif event["type"] == "error":
                    raise DependencyUnavailable("llm", event["detail"])
            print()
            result = {"citations": citations}
    finally:
        backend.close()
    if args.json:
        _print_json(result)
        return EXIT_OK
    if "answer" in result:
        print(result["answer"])
    print()
    for i, c in enumerate(result["citations"], start=1):
        page = f", {c['location']}" if c.get("location") else ""
        print(f"[{i}] {c['source']}{page}")
    return EXIT_OK


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_cli.backend import open_backend

    backend = open_backend(settings)
    try:
        if args.documents_command == "list":
            result = backend.documents(args.collection)
        elif args.documents_command == "acl":
            result = backend.set_acl(args.collection, args.doc_id, _groups(args.groups))
        else:
            result = backend.delete(args.collection, args.doc_id)
    finally:
        backend.close()
    _print_json(result)
    return EXIT_OK


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Erasure runs in this process only: it must see the embedded store and the vault directly."""
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.runtime import Core
    from ingest import AdminService, Ingestor
    from ingest.jobs import JobJournal

    core = Core(settings)
    ingestor = Ingestor(core)
    journal = JobJournal(settings.state_dir / "jobs.sqlite", core.data_key)
    admin = AdminService(core, ingestor, journal=journal, via="cli")
    try:
        if args.document:
            names = [args.collection] if args.collection else []
        else:
            names = [args.collection] if args.collection else core.store.list_collections()
        reports = admin.erase(LOCAL_ADMIN, names, document=args.document, value=args.value, path="cli")
    finally:
        journal.close()
        ingestor.manifest.close()
        core.close()
    _print_json(admin.erasure_json(reports))
    return EXIT_OK if all(r.clean for r in reports) else EXIT_FAILED


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from services.gateway.server import serve

    serve(settings, host=args.host, port=args.port)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_cli.run import run_appliance

    return run_appliance(settings, sample=Path(args.sample), collection=args.collection)


def cmd_llm(args: argparse.Namespace, settings: Settings) -> int:
    from services.llm.launch import prepare_model, start_server, wait_until_ready

    if args.llm_command == "prepare":
        print(prepare_model(settings))
        return EXIT_OK
    process = start_server(settings)
    waited = wait_until_ready(settings, process)
    print(f"vLLM serving '{settings.llm.model}' at {settings.llm.url} (ready after {waited:.0f} s)")
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return EXIT_OK


def cmd_collections(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.runtime import Core

    core = Core(settings)
    try:
        names = core.store.list_collections()
        data = [{"name": n, "chunks": core.store.count(n)} for n in names]
    finally:
        core.close()
    if args.json:
        _print_json({"collections": data})
    else:
        for row in data:
            print(f"{row['name']}\t{row['chunks']} chunks")
    return EXIT_OK


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.keys import KeyStore
    from enclave_core.runtime import Core
    from ingest import AdminService

    core = Core(settings)  # for the audit log and the policy version; the vector store is not opened
    admin = AdminService(core, None, keys=KeyStore(settings.secrets_dir / "api-keys.json"), via="cli")
    try:
        if args.keys_command == "create":
            record, secret = admin.create_key(LOCAL_ADMIN, args.user, _groups(args.groups), _groups(args.roles), "cli")
            print(secret)
            print(f"key id {record['key_id']} for {record['user']}; shown once, store it now", file=sys.stderr)
        elif args.keys_command == "list":
            rows = admin.list_keys(LOCAL_ADMIN, "cli")
            if args.json:
                _print_json({"keys": rows})
            else:
                for r in rows:
                    state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
                    print(f"{r['key_id']}\t{r['user']}\t{','.join(r['groups'])}\t{','.join(r['roles'])}\t{state}")
        else:
            revoked = admin.revoke_key(LOCAL_ADMIN, args.key_id, "cli")
            print(f"revoked {revoked['key_id']} ({revoked['user']})")
    finally:
        core.close()
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from enclave_core.audit import AuditLog

    log = AuditLog(settings.audit_dir, settings.audit_signing_key, settings.audit.checkpoint_every)
    if args.audit_command == "verify":
        from enclave_core.metrics import record_verification

        result = log.verify()
        record_verification(settings.state_dir, result)  # enclave_audit_verify_* (and its alert)
        if result.ok:
            print(f"audit log OK: {result.records} records")
            return EXIT_OK
        print(f"audit log BROKEN at record {result.first_bad}: {result.reason}", file=sys.stderr)
        return EXIT_FAILED
    if args.audit_command == "show":
        return _show_request(log.records(), args.request_id, args.json)
    for record in log.records():
        if args.since and record["ts"] < args.since:
            continue
        if args.until and record["ts"] > args.until:
            continue
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return EXIT_OK


def _show_request(records: Any, request_id: str, as_json: bool) -> int:
    """Every record of one request, in order: question -> chunks -> answer hash, or a change."""
    from enclave_core.audit import request_chain

    chain = list(request_chain(records, request_id))
    if not chain:
        print(f"no audit record has request id {request_id}", file=sys.stderr)
        return EXIT_FAILED
    for record in chain:
        if as_json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        print(
            f"#{record['seq']} {record['ts']} {record['action']} {record.get('outcome')} by {record.get('principal')}"
        )
        for key, value in record.items():
            if key not in ("seq", "ts", "action", "outcome", "principal", "prev", "hash", "sig"):
                print(f"    {key}: {json.dumps(value, ensure_ascii=False)}")
    return EXIT_OK


def _command_word(argv: Sequence[str] | None) -> str | None:
    """The subcommand named on the command line (the only global option, -v, takes no value)."""
    words = sys.argv[1:] if argv is None else argv
    return next((w for w in words if not w.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line. ``enclave bench``'s many subcommands (and the benchmark modules
    that define them) are only loaded when the command is ``bench``: every other command, and
    ``enclave --help``, starts without them."""
    parser = argparse.ArgumentParser(prog="enclave", description="Enclave: private RAG appliance")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="ingest files or folders into a collection")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--collection", required=True)
    p.add_argument("--groups", default="", help="comma-separated groups allowed to read these documents")
    p.add_argument("--force", action="store_true", help="re-ingest unchanged files too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="retrieve matching chunks (no LLM)")
    p.add_argument("question")
    p.add_argument("--collection", required=True)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--collection", required=True)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-stream", dest="stream", action="store_false", help="wait for the whole answer")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("documents", help="list documents, change a document's ACL, delete a document")
    doc_sub = p.add_subparsers(dest="documents_command", required=True)
    d = doc_sub.add_parser("list")
    d.add_argument("--collection", required=True)
    d = doc_sub.add_parser("acl", help="set the groups allowed to read a document (no re-embedding)")
    d.add_argument("doc_id")
    d.add_argument("--collection", required=True)
    d.add_argument("--groups", required=True, help="comma-separated; '*' = every authenticated user")
    d = doc_sub.add_parser("delete")
    d.add_argument("doc_id")
    d.add_argument("--collection", required=True)
    p.set_defaults(func=cmd_documents)

    p = sub.add_parser("forget", help="erase a document or every trace of a value, then verify")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--document", help="document id (see 'enclave documents list')")
    target.add_argument("--value", help="a personal value, e.g. a name or an e-mail address")
    p.add_argument("--collection", help="required with --document; default for --value: all collections")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("serve", help="run the gateway (REST API)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", help="start everything: CPU vLLM, sample corpus, gateway")
    p.add_argument("--sample", default=str(Path(__file__).resolve().parents[1] / "samples" / "corpus"))
    p.add_argument("--collection", default="samples")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("llm", help="the local CPU vLLM server")
    llm_sub = p.add_subparsers(dest="llm_command", required=True)
    llm_sub.add_parser("prepare", help="convert the packaged model once")
    llm_sub.add_parser("serve", help="start vLLM and wait")
    p.set_defaults(func=cmd_llm)

    from enclave_cli.backup_cmd import add_backup_parsers

    add_backup_parsers(sub)  # backup --out FILE, restore ARCHIVE

    if _command_word(argv) == "bench":
        from benchmarks.cli import add_bench_parser

        add_bench_parser(sub)  # bench retrieval | tune | store | answers | pii | load | gateway (results/)
    else:
        sub.add_parser("bench", help="benchmarks (results go to a JSON file under --out)")

    from enclave_cli.plan_cmd import add_plan_parser

    add_plan_parser(sub)  # plan --model M --gpu G --count N (sizing and cost, no settings needed)

    from enclave_cli.sync_cmd import add_sync_parser

    add_sync_parser(sub)  # sync COLLECTION | --due: the connectors of policies/connectors.yaml

    p = sub.add_parser("collections", help="list collections")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_collections)

    p = sub.add_parser("keys", help="API keys")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    k = keys_sub.add_parser("create", help="create a key (printed once)")
    k.add_argument("--user", required=True)
    k.add_argument("--groups", default="")
    k.add_argument("--roles", default="", help="comma-separated: admin, auditor, pii:reveal")
    k = keys_sub.add_parser("list")
    k.add_argument("--json", action="store_true")
    k = keys_sub.add_parser("revoke")
    k.add_argument("key_id")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("audit", help="the audit trail")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain")
    a = audit_sub.add_parser("export", help="print records as JSON lines")
    a.add_argument("--since", default=None, help="ISO time, inclusive")
    a.add_argument("--until", default=None, help="ISO time, inclusive")
    a = audit_sub.add_parser("show", help="every record of one request (its X-Request-ID), in order")
    a.add_argument("request_id")
    a.add_argument("--json", action="store_true", help="JSON lines instead of text")
    p.set_defaults(func=cmd_audit)
    return parser


def _exit_code(exc: EnclaveError) -> int:
    if isinstance(exc, InputError | NotFoundError | PolicyError):
        return EXIT_USAGE
    if isinstance(exc, DependencyUnavailable):
        return EXIT_UNAVAILABLE
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    # JSON lines with the request id (enclave_core.logs); -v: the level from settings (logging.level).
    configure_logging("INFO" if args.verbose else "WARNING")
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        # One request id per command: its audit records (and the gateway's, when it forwards) share it.
        with request_scope():
            settings = load_settings()
            if args.verbose:
                configure_logging(settings.logging.level)
            return func(args, settings)
    except EnclaveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except OSError as exc:  # disk full, permissions: one line, no traceback
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
