"""Import Presidio without PyTorch and transformers, which the Redactor never uses through it.

Presidio's package imports its transformers NLP engine, which imports ``transformers`` (and with it
PyTorch) whenever they are installed; spaCy's thinc imports PyTorch too. Enclave needs neither there:
its spaCy models run on thinc's NumPy ops and its embeddings on ONNX Runtime. On the 2-core
development VM, ``import presidio_analyzer`` cost 7.1 CPU-seconds with them and 1.4 without
(52 s against 10-13 s wall at load average 20), paid by every process that redacts.

While Presidio is imported the two names are hidden (``sys.modules[name] = None`` makes ``import
name`` raise ImportError, which both libraries catch); afterwards they import normally. Only in a
single-threaded process: another thread importing PyTorch at that moment would fail, so with more
threads (the gateway) Presidio is imported as usual.
"""

from __future__ import annotations

import importlib
import sys
import threading

__all__ = ["HIDDEN", "import_presidio"]

HIDDEN = ("transformers", "torch")


def import_presidio() -> bool:
    """Import Presidio (and spaCy) once; True when PyTorch and transformers were kept out of it."""
    if "presidio_analyzer" in sys.modules or threading.active_count() > 1:
        importlib.import_module("presidio_analyzer")
        return False
    hidden = [name for name in HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        importlib.import_module("presidio_analyzer")
        importlib.import_module("presidio_analyzer.nlp_engine")
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return bool(hidden)
