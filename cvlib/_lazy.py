"""Lazy re-exports: a package's public names, each imported from its module on first use.

``import cvlib`` or ``import cvlib.data`` must stay cheap (the app paints before torch is
imported, and the scoring server has no torch at all), yet a reader should find every
public name in one short list per package.  That list is the package's
``if TYPE_CHECKING:`` block of ordinary imports: type checkers and editors read it as
written, and :func:`attach` reads the same block to build the module ``__getattr__``
(PEP 562) that imports a name only when someone asks for it, as scikit-learn and
scikit-image do.  Hand-written rather than taken from ``lazy_loader`` because the scoring
code folder ships these ``__init__`` files to a server whose environment holds only numpy,
Pillow and onnxruntime.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path


def attach(package: str, init_file: str
           ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, from its TYPE_CHECKING block.

    A name listed there is imported from its module when first read and then kept on the
    package, so the second read costs nothing; a sub-module is importable as an attribute
    too (``cvlib.data.images``).
    """
    where = exports_of(Path(init_file))

    def __getattr__(name: str) -> object:
        if name in where:
            module, original = where[name]
            value = getattr(importlib.import_module(module), original)
        elif importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)


def exports_of(init_file: Path) -> dict[str, tuple[str, str]]:
    """``{name: (module, name there)}`` for every ``from module import x [as name]`` under
    ``if TYPE_CHECKING:``."""
    tree = ast.parse(init_file.read_text(encoding="utf-8"))
    where: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    where.update({alias.asname or alias.name: (stmt.module, alias.name)
                                  for alias in stmt.names})
    return where
