"""The package layout: module size, import cycles and the direction of imports.

Every module under ``src/crmmodels`` is parsed with :mod:`ast`; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "crmmodels"
MAX_LINES = 650

#: modules allowed over MAX_LINES, each with its reason; an entry leaves the list once its
#: module is split (the test below fails on a stale entry)
TOO_LONG_ALLOWED = {}

#: the bottom layer: shared building blocks that the analyses import, never the reverse
BASE_LAYER = (
    "crmmodels._ingest.log",
    "crmmodels._ingest.frames",
    "crmmodels._ingest",
    "crmmodels._progress",
    "crmmodels._results",
    "crmmodels._version",
    "crmmodels.errors",
    "crmmodels.kernels",
    "crmmodels.engines",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> set[str]:
    """The crmmodels modules an import statement loads (by name, without running it)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:  # relative: resolve against the importing module's package
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        # `from package import submodule` needs the submodule; any other name, the package
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names
        ]
    found = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("crmmodels"):
            found.add(name)
    return found


def _imports(module: str, *, lazy: bool) -> set[str]:
    """crmmodels modules imported by ``module``.

    With ``lazy=False``: the imports that run when the module is imported (module level and
    class bodies, outside ``if TYPE_CHECKING:``). With ``lazy=True``: every import statement
    in the file, inside functions included.
    """
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.update(_targets(child, module))
            elif not lazy and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            elif not lazy and isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    visit(orelse)
            else:
                visit(child)

    visit(tree)
    found.discard(module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _lines(module: str) -> int:
    return len(MODULES[module].read_text(encoding="utf-8").splitlines())


def test_the_modules_are_found() -> None:
    assert {"crmmodels", "crmmodels.funnel", "crmmodels.basket", "crmmodels.transactions"} <= set(
        MODULES
    )


def test_no_module_is_too_long() -> None:
    too_long = {
        m: _lines(m) for m in MODULES if _lines(m) > MAX_LINES and m not in TOO_LONG_ALLOWED
    }
    assert not too_long, (
        f"modules over {MAX_LINES} lines: {too_long}; split them into a package of smaller "
        "modules (or, with a reason, add them to TOO_LONG_ALLOWED)."
    )


def test_the_allow_list_is_current() -> None:
    for module in sorted(TOO_LONG_ALLOWED):
        assert module in MODULES, f"{module} no longer exists: remove it from TOO_LONG_ALLOWED."
        assert _lines(module) > MAX_LINES, (
            f"{module} has {_lines(module)} lines now: remove it from TOO_LONG_ALLOWED."
        )


@pytest.mark.parametrize(
    "package", ["crmmodels.funnel", "crmmodels.basket", "crmmodels.transactions"]
)
def test_split_packages_reexport_their_public_names(package: str) -> None:
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    exported = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    )
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "*" not in imported
    assert set(exported) == imported - {"renamed_attributes"}


def test_no_import_cycles() -> None:
    graph = {m: _imports(m, lazy=False) & set(MODULES) for m in MODULES}
    cycles = _cycles(graph)
    assert not cycles, (
        f"import cycles among crmmodels modules: {cycles}; move the shared code down a layer "
        "(or import lazily inside the function that needs it)."
    )


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _in(m, BASE_LAYER)))
def test_base_layer_imports_point_down(module: str) -> None:
    """The shared building blocks never import an analysis, not even inside a function."""
    upward = sorted(m for m in _imports(module, lazy=True) if not _in(m, BASE_LAYER))
    assert not upward, f"{module} imports {upward}, which build on it."


TESTS = Path(__file__).resolve().parent


def test_tests_mirror_the_packages() -> None:
    """Each package of crmmodels has a test folder of the same name, and the reverse."""
    packages = {
        p.name.lstrip("_")
        for p in PACKAGE.iterdir()
        if (p / "__init__.py").exists() and p.name not in ("_demo",)
    }
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and list(p.glob("test_*.py"))}
    assert folders <= packages, f"test folders without a package: {sorted(folders - packages)}"
    assert packages <= folders, f"packages without a test folder: {sorted(packages - folders)}"
