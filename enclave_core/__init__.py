"""Shared domain code of Enclave: settings, embedding, vector store, policy, redaction, audit, LLM client.

Both the gateway (``services.gateway``) and the write path (``ingest``) import this
package; neither imports the other's internals.
"""

from enclave_core.offline import enforce_offline_env

# Must run before sentence-transformers, presidio or openai are imported anywhere.
enforce_offline_env()

__version__ = "0.1.0"
