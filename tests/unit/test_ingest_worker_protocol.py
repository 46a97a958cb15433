"""The worker's view of the gateway's vector store (``RemoteStore``): calls and errors cross the
pipe intact, so the ingest pipeline in the worker fails a document alone exactly as in-process;
closing the worker's view leaves the gateway's store open."""

from __future__ import annotations

import threading
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

import pytest

from enclave_core.embedding.sparse import SparseVector
from enclave_core.errors import DependencyUnavailable, EnclaveError
from enclave_core.vectorstore import PointRecord
from ingest.worker_pool import _portable
from ingest.worker_process import RemoteStore


class FakeStore:
    def __init__(self) -> None:
        self.points: dict[str, PointRecord] = {}
        self.closed = False
        self.down = False

    def upsert(self, name: str, points: list[PointRecord]) -> None:
        if self.down:
            raise DependencyUnavailable("vector store", "connection refused")  # does not unpickle as is
        self.points.update({p.id: p for p in points})

    def document_point_ids(self, name: str, doc_id: str) -> set[str]:
        return {i for i, p in self.points.items() if p.payload["doc_id"] == doc_id}

    def count(self, name: str, scope: Any = None) -> int:
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        self.closed = True


def _serve(conn: Connection, store: FakeStore) -> None:
    """The gateway's side of the pipe, as ProcessJobRunner answers store calls."""
    while True:
        try:
            kind, method, args, kwargs = conn.recv()
        except EOFError:
            return
        assert kind == "store"
        try:
            conn.send(("ok", getattr(store, method)(*args, **kwargs)))
        except Exception as exc:
            conn.send(("err", _portable(exc)))


@pytest.fixture
def remote() -> Any:
    gateway_end, worker_end = Pipe()
    store = FakeStore()
    thread = threading.Thread(target=_serve, args=(gateway_end, store), daemon=True)
    thread.start()
    yield RemoteStore(worker_end), store
    worker_end.close()
    thread.join(timeout=5)


def test_calls_and_values_cross_the_pipe(remote: Any) -> None:
    view, store = remote
    point = PointRecord("p1", [0.1, 0.2], SparseVector([1], [0.5]), {"doc_id": "d1", "text": "<PERSON_1> agreed"})
    view.upsert("c", [point])
    assert store.points["p1"].payload["text"] == "<PERSON_1> agreed"
    assert view.document_point_ids("c", "d1") == {"p1"}


def test_store_errors_reach_the_pipeline_with_their_type(remote: Any) -> None:
    view, store = remote
    store.down = True
    with pytest.raises(EnclaveError, match="vector store unavailable"):  # still "environmental": retried
        view.upsert("c", [])
    with pytest.raises(OSError, match="No space"):
        view.count("c")


def test_closing_the_workers_view_leaves_the_gateways_store_open(remote: Any) -> None:
    view, store = remote
    view.close()
    assert not store.closed


def test_an_exception_that_cannot_cross_becomes_one_the_pipeline_handles() -> None:
    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:  # pickles, but cannot be rebuilt from its args
            super().__init__(f"{a}/{b} unavailable")

    portable = _portable(Odd(1, 2))
    assert isinstance(portable, EnclaveError) and "unavailable" in str(portable)
    assert isinstance(_portable(ValueError("x")), ValueError)
