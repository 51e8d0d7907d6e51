"""Names of a package that load on first use (PEP 562).

A package lists where each name lives; its module is imported when the name is first read, and
the value is then kept in the package, so later reads cost nothing.  Heavy dependencies
(pydantic models, Ibis and DuckDB, FastAPI) stay unloaded until a caller needs them: the command
line imports every package to mount its commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(
    namespace: dict[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose ``globals()`` is ``namespace``;
    ``homes`` maps each lazy name to the module (dotted path) that defines it."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
