"""Public names of a package imported on first use (PEP 562), so importing the package costs nothing.

`sentiment-rnn predict "text"` should import only what answers it; a package
``__init__`` that re-exports its modules' names would import them all. Use::

    __getattr__, __dir__ = lazy_exports(__name__, {"read_dataset": "sentiment_rnn.data.formats"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, homes: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` serving each name of ``homes`` (name -> module defining it)."""

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
