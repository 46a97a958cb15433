"""Build Qdrant payload filters from an AccessScope; enforcement happens inside the search."""

from __future__ import annotations

from qdrant_client import models

from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope
from enclave_core.vectorstore.names import MATCH_NOTHING_GROUP

__all__ = ["MATCH_NOTHING_GROUP", "scope_filter"]


def scope_filter(scope: AccessScope) -> models.Filter | None:
    must: list[models.Condition] = []
    if scope.groups is not None:
        groups = sorted(scope.groups) or [MATCH_NOTHING_GROUP]
        must.append(models.FieldCondition(key=payload.ACL, match=models.MatchAny(any=groups)))
    if scope.doc_ids is not None:
        ids = sorted(scope.doc_ids) or [MATCH_NOTHING_GROUP]
        must.append(models.FieldCondition(key=payload.DOC_ID, match=models.MatchAny(any=ids)))
    return models.Filter(must=must) if must else None
