"""The write path. Public entry points are re-exported here; the gateway uses only these."""

from ingest.admin import AdminService, job_report, outcomes_report
from ingest.pipeline import FileOutcome, Ingestor, IngestReport, SourceFile, collect_files, document_id

__all__ = [
    "AdminService",
    "FileOutcome",
    "IngestReport",
    "Ingestor",
    "SourceFile",
    "collect_files",
    "document_id",
    "job_report",
    "outcomes_report",
]
