"""Connectors: sources that feed a collection by incremental sync (file share, web/intranet).

A connector lists items with their readers and a change token; sync.Syncer turns listings into
ingests, reader updates and deletions; service.ConnectorService is what the CLI and REST route call.
"""

from .base import Connector, Item, Listing
from .state import SyncState
from .sync import Syncer, SyncReport

__all__ = ["Connector", "Item", "Listing", "SyncReport", "SyncState", "Syncer"]
