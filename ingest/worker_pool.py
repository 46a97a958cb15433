"""Ingestion jobs in worker processes, supervised by the gateway (``ingest.worker: process``).

The gateway keeps what is cheap and must stay in one place: accepting and staging uploads,
journaling jobs, reporting progress (all from the shared journal), the audit record of each
finished job and the embedded vector store's writes. Each worker process
(``ingest.worker_process``) does the CPU-heavy part (load, redact or pseudonymize, chunk,
embed) at a lower CPU priority and sends its store calls back over its pipe.

Jobs are handed out from one queue, so at most ``ingest.worker_processes`` run at once;
uploads whose caller waits for the report go ahead of background jobs. A worker that dies (a
crash, an out-of-memory kill) is started again and its job sent again: the journal and the
manifest make the rerun resume where the dead one stopped, with no duplicates and no gaps. A job
that kills its worker is then run one file at a time: a file during which the worker dies (a
parser's segfault, an out-of-memory kill) fails alone with that error and the rest goes on; a
worker that cannot even start ``max_crashes`` times leaves the job ``interrupted``.
Workers are spawned (never forked from a threaded server) and end with the gateway.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from enclave_core.errors import EnclaveError
from enclave_core.settings import Settings
from enclave_core.vectorstore import VectorStore
from ingest.jobs import JobJournal, JobRunner, Staging
from ingest.pipeline import FileOutcome, Ingestor
from ingest.worker_process import worker_main

__all__ = ["ProcessJobRunner", "job_runner"]

log = logging.getLogger(__name__)


def job_runner(
    settings: Settings,
    ingestor: Ingestor,
    journal: JobJournal,
    staging: Staging,
    store: Callable[[], VectorStore] | None = None,
) -> JobRunner:
    """The gateway's job runner as ``ingest.worker`` chooses: worker processes or one thread."""
    if settings.ingest.worker == "thread":
        return JobRunner(ingestor, journal, staging)
    return ProcessJobRunner(ingestor, journal, staging, settings, store or (lambda: ingestor.core.store))


@dataclass(order=True)
class _Ticket:
    rank: int  # 0: a caller waits for the report; 1: a background job
    seq: int
    job_id: str = field(compare=False)
    done: threading.Event | None = field(default=None, compare=False)


class _WorkerDied(Exception):
    def __init__(self, why: str, started: bool = True) -> None:
        super().__init__(why)
        self.started = started  # False: it never got the job (no file to blame)


class _Stopped(Exception):
    pass


def _portable(exc: Exception) -> Exception:
    """The exception as the worker can receive it: itself when it survives pickling, else one the
    pipeline treats alike (an OSError or an EnclaveError with the same message)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        if isinstance(exc, OSError):
            return OSError(exc.errno, exc.strerror or str(exc))
        return EnclaveError(f"{exc.__class__.__name__}: {exc}")


class ProcessJobRunner(JobRunner):
    """``JobRunner`` whose jobs run in supervised worker processes; submitting, journaling and
    progress are the same as ever (inherited)."""

    def __init__(
        self,
        ingestor: Ingestor,
        journal: JobJournal,
        staging: Staging,
        settings: Settings,
        store: Callable[[], VectorStore],
    ) -> None:
        super().__init__(ingestor, journal, staging)
        self.settings = settings
        self._store = store
        self._tickets: queue.PriorityQueue[_Ticket] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._supervisors: list[_Supervisor] = []
        self._stopping = threading.Event()
        self.max_crashes = 3
        self.restart_backoff_s = 1.0

    def start(self) -> None:
        for job_id in self.journal.unfinished():
            self.enqueue(job_id)
        for number in range(self.settings.ingest.worker_processes):
            supervisor = _Supervisor(self, number)
            self._supervisors.append(supervisor)
            supervisor.thread.start()

    def enqueue(self, job_id: str) -> None:
        self._tickets.put(_Ticket(1, next(self._seq), job_id))

    def run(self, job_id: str, limit: int | None = None) -> dict[str, Any]:
        """Run the job in a worker and wait for it (one attempt, as a job run inline; the worker's
        supervisor decides how many files each of its runs takes, so ``limit`` applies inline only)."""
        if not self._supervisors:  # not started (a caller without a gateway): inline
            return super().run(job_id, limit)
        ticket = _Ticket(0, next(self._seq), job_id, threading.Event())
        self._tickets.put(ticket)
        assert ticket.done is not None
        while not ticket.done.wait(1.0):
            if self._stopping.is_set():
                break
        return self.journal.get(job_id)

    def stop(self) -> None:
        self._stopping.set()
        for _ in self._supervisors:
            self._tickets.put(_Ticket(-1, next(self._seq), ""))  # wakes one idle supervisor each
        for supervisor in self._supervisors:
            supervisor.thread.join(timeout=30)
        self._supervisors.clear()

    def worker_pids(self) -> list[int]:
        """The pids of the live worker processes (for tests and the operator)."""
        return [s.process.pid for s in self._supervisors if s.process is not None and s.process.pid is not None]

    # -- called by the supervisors ---------------------------------------------------------

    def _serve_store(self, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[str, Any]:
        if method.startswith("_"):
            return "err", EnclaveError(f"no store method {method!r}")
        try:
            value = getattr(self._store(), method)(*args, **kwargs)
            if method == "iter_points":
                value = list(value)
            return "ok", value
        except Exception as exc:
            return "err", _portable(exc)

    def _finished(self, job: dict[str, Any], redactions: dict[str, int]) -> None:
        if self.on_finished is not None:
            try:
                self.on_finished(job, redactions)
            except Exception:  # an audit failure must not stop the supervisor
                log.exception("recording the end of job %s failed", job.get("job_id"))


class _Supervisor:
    """One worker process and the gateway thread that feeds it jobs and answers its calls."""

    def __init__(self, runner: ProcessJobRunner, number: int) -> None:
        self.runner = runner
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.thread = threading.Thread(target=self._loop, name=f"ingest-worker-{number}", daemon=True)

    # The worker is spawned from this thread, which lives as long as the worker: the kernel's
    # parent-death signal follows the thread that started the process.
    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=worker_main,
            args=(self.runner.settings, child_end, os.getpid()),
            name="enclave-ingest-worker",
            daemon=True,
        )
        process.start()
        child_end.close()  # only the worker holds it now: its death is an EOF here
        self.process, self.conn = process, parent_end
        log.info("ingest worker started (pid %s)", process.pid)

    def _reap(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.process is not None:
            self.process.join(timeout=1)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout=5)
        self.process, self.conn = None, None

    def _loop(self) -> None:
        runner = self.runner
        try:
            while not runner._stopping.is_set():
                ticket = runner._tickets.get()
                if ticket.rank < 0:
                    break
                self._carry_out(ticket)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        if self.process is None or self.conn is None:
            return
        try:
            self.conn.send(("stop",))
            self.process.join(timeout=10)
        except OSError:
            pass
        if self.process.is_alive():
            self.process.terminate()  # mid-job: the journal resumes it at the next start
        self._reap()

    def _carry_out(self, ticket: _Ticket) -> None:
        """Run the job until it is done, retrying interrupted runs (backing off) and crashed
        workers (restarting them); a caller waiting for it gets the first run's result."""
        runner = self.runner
        crashes = attempts = 0
        one_by_one = False  # after a crash: one file per run, so that a crash names its file
        redactions: dict[str, int] = {}  # of the one-file runs, audited once at the end
        while not runner._stopping.is_set():
            try:
                status = self._attempt(ticket.job_id, 1 if one_by_one else None, redactions)
            except _Stopped:
                break  # the job stays "running" in the journal: the next start resumes it
            except _WorkerDied as exc:
                log.warning("ingest worker died during job %s (%s); restarting it", ticket.job_id, exc)
                self._reap()
                if exc.started and one_by_one:
                    self._fail_first_queued(ticket.job_id, str(exc))
                    continue
                crashes += 1
                if crashes >= runner.max_crashes:
                    why = f"the ingest worker stopped {crashes} times on this job ({exc})"
                    runner.journal.set_status(ticket.job_id, "interrupted", why[:300])
                    runner._finished(runner.journal.get(ticket.job_id), {})
                    break
                one_by_one = one_by_one or exc.started
                time.sleep(min(30.0, runner.restart_backoff_s * 2 ** (crashes - 1)))
                continue
            if status == "running":  # a one-file run: the next file
                continue
            attempts += 1
            if status == "done" or ticket.done is not None or attempts >= runner.max_attempts:
                break
            self._wait(min(60.0, runner.backoff_s * 2 ** (attempts - 1)))  # back off, then resume
        if ticket.done is not None:
            ticket.done.set()

    def _wait(self, seconds: float) -> None:
        self.runner._stopping.wait(seconds)

    def _fail_first_queued(self, job_id: str, why: str) -> None:
        """The worker died during a one-file run: that file (the first still queued: the worker
        takes them in order) fails alone, its staged bytes dropped, and the job goes on."""
        journal = self.runner.journal
        queued = next((f for f in journal.files(job_id) if f.status == "queued"), None)
        if queued is None:
            return
        error = f"{queued.source}: the ingest worker stopped while reading this file ({why}); the rest went on"
        outcome = FileOutcome(queued.source, "failed", error=error)
        journal.record_file(job_id, queued.index, outcome)
        self.runner.staging.drop(job_id, queued.index)
        if self.runner.on_file is not None:
            self.runner.on_file(outcome)

    def _attempt(self, job_id: str, limit: int | None = None, redactions: dict[str, int] | None = None) -> str:
        """One run of the job (of its first ``limit`` queued files) in the worker; returns the job's
        status ("running" after a partial run, whose redaction counts add up in ``redactions``).
        Raises _WorkerDied."""
        if self.process is None or not self.process.is_alive():
            self._reap()
            try:
                self._spawn()
            except (OSError, ValueError) as exc:
                raise _WorkerDied(f"cannot start: {exc.__class__.__name__}: {exc}", started=False) from exc
        assert self.conn is not None and self.process is not None
        conn, runner = self.conn, self.runner
        totals = redactions if redactions is not None else {}
        try:
            conn.send(("run", job_id, limit))
            while True:
                while not conn.poll(0.5):
                    if runner._stopping.is_set():
                        self.process.terminate()  # the gateway is stopping: the journal resumes the job
                        self._reap()
                        raise _Stopped
                    if not self.process.is_alive():
                        raise _WorkerDied(f"exit code {self.process.exitcode}")
                message = conn.recv()
                kind = message[0]
                if kind == "store":
                    conn.send(runner._serve_store(message[1], message[2], message[3]))
                elif kind == "file":
                    if runner.on_file is not None:
                        runner.on_file(message[1])
                elif kind == "done":
                    for key, value in message[3].items():
                        totals[key] = totals.get(key, 0) + value
                    if message[2]["status"] != "running":
                        runner._finished(message[2], dict(totals))
                        totals.clear()
                    return str(message[2]["status"])
                elif kind == "crashed":
                    runner.journal.set_status(job_id, "interrupted", message[2])
                    return "interrupted"
        except (EOFError, OSError) as exc:
            raise _WorkerDied(exc.__class__.__name__) from exc
