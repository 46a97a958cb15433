"""Load the query's NLP stack without PyTorch, for commands that run once and exit.

``enclave search`` / ``enclave ask`` without a gateway pseudonymize the question with spaCy and
Presidio in a fresh process. Importing them pulls in PyTorch twice over, for nothing the query
uses: thinc (spaCy's layer library) imports ``torch`` when it is installed, in case a pipeline
has PyTorch layers (ours are CNNs on NumPy), and Presidio's optional Hugging Face pipe imports
``transformers`` (which imports ``torch``) although the configured NLP engine is spaCy. That is
about 40% of the command's CPU time. Here both packages are hidden while spaCy and Presidio are
imported (each treats the ImportError as "not installed", as it does on a machine without them),
then made importable again: code that really needs PyTorch later (the one-time ONNX export, the
sentence-transformers embedder) imports it as usual. Presidio's device probe, which would import
``torch`` to look for CUDA, is told the device instead (``PRESIDIO_DEVICE``).

The gateway does not do this: it loads once, runs threads, and may use a GPU.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

__all__ = ["HIDDEN", "import_nlp_without_torch"]

HIDDEN = ("torch", "transformers")
NLP_MODULES = ("spacy", "presidio_analyzer")


def import_nlp_without_torch() -> bool:
    """Import spaCy and Presidio with PyTorch hidden; False (and nothing done) when PyTorch or
    either NLP package is already imported, since then there is nothing left to save, or when
    another thread runs (it could be importing PyTorch just then, and would fail)."""
    if any(name in sys.modules for name in (*HIDDEN, *NLP_MODULES)) or threading.active_count() > 1:
        return False
    os.environ.setdefault("PRESIDIO_DEVICE", "cpu")
    for name in HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not available"
    try:
        for module in NLP_MODULES:
            importlib.import_module(module)
    finally:
        for name in HIDDEN:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return True
