"""Names both embedded engines and the server client share, without importing either client library.

Kept apart from ``qdrant.py`` so that code using only qdrant-edge (the default engine) never pays
qdrant-client's multi-second import.
"""

from __future__ import annotations

from enclave_core.errors import DependencyUnavailable

__all__ = ["DENSE", "MATCH_NOTHING_GROUP", "SPARSE", "StoreLocked"]

DENSE = "dense"
SPARSE = "bm25"
# A group name no principal can hold (group names are validated elsewhere to exclude NUL), used
# so that a principal with no groups gets a filter that matches no chunk instead of no filter.
MATCH_NOTHING_GROUP = "\x00no-group"


class StoreLocked(DependencyUnavailable):
    """The embedded store is open in another process (usually the running gateway)."""
