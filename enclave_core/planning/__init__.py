"""Sizing and cost planning: which GPUs a model needs, how vLLM should be started, what it costs.

The figures live in ``policies/catalog/`` (schema-validated, every one with its source); this package
only does arithmetic on them, so a reviewer can check each number against its data sheet.
"""

from enclave_core.planning.catalog import Catalog, load_catalog
from enclave_core.planning.plan import PlanRequest, make_plan

__all__ = ["Catalog", "PlanRequest", "load_catalog", "make_plan"]
