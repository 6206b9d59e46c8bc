"""The library's layers, as rules a change cannot break without a failing test.

``cvlib`` is grouped into sub-packages stacked in one order (``ARCHITECTURE.md`` draws it):
a module may import from its own layer and the layers below it, never above, and no two
modules may import each other, even through a chain or an import inside a function (such a
circle works only by the accident of import order).  ``cvlib`` knows nothing of Streamlit or
of the app's ``ui`` package.  A module or package whose docstring says it is torch-free
imports no torch, which is what keeps the app's first paint and the scoring server light.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "cvlib"
LAYERS = ("errors", "_lazy", "runtime", "storage", "data", "evaluation", "models", "training",
          "serving", "azure", "cli", "__main__")
"""Bottom to top: ``cvlib.<layer>`` may import ``cvlib.<layer below>``, never the reverse."""
APP_PACKAGES = ("streamlit", "ui", "pages")


def module_name(path: Path) -> str:
    """``cvlib/data/images.py`` -> ``cvlib.data.images``; a package's ``__init__`` -> its name."""
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def library_modules() -> dict[str, Path]:
    """Every module of the library, by dotted name."""
    return {module_name(path): path for path in sorted(LIBRARY.rglob("*.py"))}


def imported_names(tree: ast.AST) -> set[str]:
    """Every dotted name a module imports, wherever the import statement stands."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def library_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which library modules each library module imports (packages' ``__init__`` aside:
    they only re-export, lazily)."""
    modules_only = {name for name, path in modules.items() if path.name != "__init__.py"}
    return {name: {imported for imported in imported_names(ast.parse(path.read_text()))
                   if imported in modules_only and imported != name}
            for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected parts of two or more modules
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int | None:
    """A module's place in :data:`LAYERS`; ``None`` for the top-level ``cvlib`` API."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``"a -> b"`` for every import of a higher layer by a lower one."""
    return [f"{module} -> {imported}" for module, imports in sorted(graph.items())
            for imported in sorted(imports)
            if layer_of(module) is not None and layer_of(imported) is not None
            and layer_of(imported) > layer_of(module)]


def says_torch_free(path: Path) -> bool:
    """Whether a module's docstring, or its package's, promises no torch."""
    def promises(file: Path) -> bool:
        doc = ast.get_docstring(ast.parse(file.read_text())) or ""
        return "torch-free" in doc.lower()
    return promises(path) or any(promises(init) for init in
                                 (parent / "__init__.py" for parent in path.parents)
                                 if init.is_file() and init.parent != LIBRARY
                                 and init.parent.is_relative_to(LIBRARY))


def test_every_library_module_belongs_to_a_layer():
    homeless = [name for name in library_modules() if name != "cvlib"
                and name.split(".")[1] not in LAYERS]
    assert not homeless, f"add these to LAYERS (and ARCHITECTURE.md): {homeless}"


def test_no_module_imports_a_module_that_imports_it_back():
    found = circles(library_imports(library_modules()))
    assert not found, f"import circles: {found}"


def test_no_layer_imports_a_layer_above_it():
    assert upward_imports(library_imports(library_modules())) == []


def test_the_library_knows_nothing_of_streamlit_or_the_app():
    offenders = [f"{name} imports {imported}" for name, path in library_modules().items()
                 for imported in imported_names(ast.parse(path.read_text()))
                 if imported.split(".")[0] in APP_PACKAGES]
    assert not offenders


def test_modules_that_say_they_are_torch_free_import_no_torch():
    claimed = [name for name, path in library_modules().items() if says_torch_free(path)
               and not name.endswith("__main__") and path.name != "score.py"]
    assert {"cvlib.data.images", "cvlib.serving.scoring.handler",
            "cvlib.storage.persist"} <= set(claimed)
    probe = ("import importlib, sys\n"
             f"for name in {claimed!r}:\n"
             "    importlib.import_module(name)\n"
             "    if 'torch' in sys.modules:\n"
             "        sys.exit(f'{name} imports torch, itself or through what it imports')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr or done.stdout


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_the_circle_finder_finds_circles_through_any_chain(graph, expected):
    assert circles(graph) == expected


def test_the_layer_rule_catches_an_import_from_above():
    graph = {"cvlib.data.dataset": {"cvlib.training.train"}, "cvlib.training.train": set()}
    assert upward_imports(graph) == ["cvlib.data.dataset -> cvlib.training.train"]


def test_the_import_scan_sees_imports_inside_functions():
    source = "def f():\n    from cvlib.training.train import train\n"
    assert "cvlib.training.train" in imported_names(ast.parse(source))


def test_the_public_api_is_lazy_and_complete():
    probe = ("import sys, cvlib\n"
             "assert 'torch' not in sys.modules and 'cvlib.training.train' not in sys.modules\n"
             "missing = [n for n in cvlib.__all__ if getattr(cvlib, n, None) is None]\n"
             "assert not missing, missing\n"
             "import cvlib.data, cvlib.models, cvlib.training, cvlib.evaluation\n"
             "for package in (cvlib.data, cvlib.models, cvlib.training, cvlib.evaluation):\n"
             "    assert all(getattr(package, n) is not None for n in package.__all__)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
