"""Keep spaCy's own command line out of a CLI command that only redacts.

``import spacy`` imports ``spacy.cli`` (typer, weasel, httpx, requests, jinja2, rich, pygments) just to
re-export ``spacy.info``; nothing on the redaction path uses it (Presidio calls ``spacy.cli.download``
only when a model is missing). :func:`defer_spacy_cli` puts a stand-in under that name before spaCy is
imported: any use of it (an attribute of ``spacy.cli``, ``spacy.info(...)``) imports the real package
first, so behaviour is unchanged and only the unused import is skipped.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["defer_spacy_cli"]

_NAMES = ("spacy.cli", "spacy.cli.info")


def _real_cli() -> types.ModuleType:
    """Replace the stand-ins by spaCy's real command-line package (once) and return it."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _StandIns)]
    for name in _NAMES:
        if getattr(sys.modules.get(name), "__enclave_stand_in__", False):
            del sys.modules[name]
    real = importlib.import_module("spacy.cli")
    spacy = sys.modules.get("spacy")
    if spacy is not None:
        spacy.cli = real  # type: ignore[attr-defined]
    return real


def _info(*args: Any, **kwargs: Any) -> Any:
    _real_cli()
    from spacy.cli.info import info

    return info(*args, **kwargs)


def _cli_getattr(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_real_cli(), name)


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Found first for the two names: the import system then binds ``spacy.cli`` as for a real module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _NAMES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == "spacy.cli")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        module.__enclave_stand_in__ = True  # type: ignore[attr-defined]
        if module.__name__ == "spacy.cli":
            module.__getattr__ = _cli_getattr  # type: ignore[method-assign]
        else:
            module.info = _info  # type: ignore[attr-defined]


def defer_spacy_cli() -> bool:
    """Install the stand-ins unless spaCy is already imported; True when installed."""
    if "spacy" in sys.modules or any(isinstance(f, _StandIns) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _StandIns())
    return True
