"""The package's imports follow the pipeline: no cycle, and no stage importing a later one.

Every ``import`` and ``from … import`` of ``deliberation.*`` is read from the sources (ast), at module
level and inside functions. Importing ``a.b.c`` from outside package ``a.b`` runs ``a/b/__init__.py``
first: that is an import of ``a.b`` too. Imports under ``if TYPE_CHECKING:`` never run and are left
out. The stage order is declared once, in ``pipeline.STAGES``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import deliberation
from deliberation.pipeline import STAGES

PACKAGE = Path(deliberation.__file__).resolve().parent


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target``: at module level (``top``) or inside a function, at ``line``."""

    source: str
    target: str
    top: bool
    line: int


def modules_of(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``, by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """The imports of package modules made by module ``name`` (source file ``path``)."""
    is_package = path.name == "__init__.py"
    edges: list[Edge] = []

    def add(target: str, top: bool, line: int) -> None:
        if target not in modules or target == name:
            return
        edges.append(Edge(name, target, top, line))
        mine = {*_ancestors(name), *([name] if is_package else [])}
        for parent in _ancestors(target):  # the packages Python initialises on the way
            if parent in modules and parent not in mine:
                edges.append(Edge(name, parent, top, line))

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        return ".".join([*base, *([node.module] if node.module else [])])

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                for other in child.orelse:
                    visit(other, top)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    known = [".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in modules]
                    if known:
                        add(known[0], top, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                base = resolve(child)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    add(sub if sub in modules else base, top, child.lineno)
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), True)
    return edges


def graph(root: Path) -> tuple[dict[str, Path], list[Edge]]:
    """The modules of the package at ``root`` and all their imports of one another."""
    modules = modules_of(root)
    return modules, [e for name, path in modules.items() for e in imports_of(name, path, modules)]


def stage_of(name: str, stages, package: str = "deliberation") -> int | None:
    """The rank of module ``name`` in ``stages`` (names relative to the package, ``__init__`` for itself)."""
    rel = name.removeprefix(package + ".") if name != package else "__init__"
    found = [n for n, (_, names) in enumerate(stages) for m in names if rel == m or rel.startswith(m + ".")]
    return found[0] if len(found) == 1 else None


def cycles(edges: list[Edge]) -> list[list[str]]:
    """The cycles among module-level imports, one per strongly connected group, as ``[a, b, …, a]``."""
    succ: dict[str, set[str]] = {}
    for e in edges:
        if e.top:
            succ.setdefault(e.source, set()).add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan: the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(succ.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(succ):
        if v not in index:
            connect(v)
    out = []
    for group in groups:  # one path through the group, to name it
        members, start = set(group), min(group)
        path, seen = [start], {start}
        while True:
            nxt = min(w for w in succ[path[-1]] if w in members)
            path.append(nxt)
            if nxt in seen:
                out.append(path[path.index(nxt):])
                break
            seen.add(nxt)
    return out


def backward(edges: list[Edge], stages, package: str = "deliberation") -> list[str]:
    """Every import from a stage to a later one (module level or inside a function)."""
    out = []
    for e in edges:
        a, b = stage_of(e.source, stages, package), stage_of(e.target, stages, package)
        if a is not None and b is not None and b > a:
            where = "" if e.top else " (dans une fonction)"
            out.append(f"{e.source} ({stages[a][0]}) importe {e.target} ({stages[b][0]}), ligne {e.line}{where}")
    return out


# ---------------------------------------------------------------------------
# the package


def test_every_module_has_one_stage():
    modules, _ = graph(PACKAGE)
    assert [m for m in modules if stage_of(m, STAGES) is None] == []


def test_no_import_cycle_at_module_level():
    _, edges = graph(PACKAGE)
    assert cycles(edges) == []


def test_no_import_cycle_even_through_functions():
    """An import inside a function is not there to dodge a cycle: counted as module level, still none."""
    _, edges = graph(PACKAGE)
    assert cycles([Edge(e.source, e.target, True, e.line) for e in edges]) == []


def test_no_stage_imports_a_later_stage():
    _, edges = graph(PACKAGE)
    assert backward(edges, STAGES) == []


def test_the_import_modules_read_then_edit_then_apply():
    """``import-xlsx`` in three jobs: reading ← yamledit ← apply, never the other way."""
    _, edges = graph(PACKAGE)
    order = ["deliberation.xlsx.reading", "deliberation.xlsx.yamledit", "deliberation.xlsx.apply"]
    seen = {(e.source, e.target) for e in edges}
    assert ("deliberation.xlsx.apply", "deliberation.xlsx.reading") in seen
    assert ("deliberation.xlsx.yamledit", "deliberation.xlsx.reading") in seen
    assert [(a, b) for a, b in seen if a in order and b in order and order.index(b) > order.index(a)] == []
    assert not (PACKAGE / "xlsx" / "importer.py").exists()


def test_the_walk_sees_the_package_imports():
    """The walk finds what is there: a sample of known imports, module level and inside functions."""
    _, edges = graph(PACKAGE)
    found = {(e.source, e.target, e.top) for e in edges}
    assert ("deliberation.pipeline", "deliberation.validate", True) in found
    assert ("deliberation.pipeline", "deliberation.render.documents", False) in found  # build only
    assert ("deliberation.opendata", "deliberation.rules", True) in found  # rules/__init__ runs first
    assert not any(e.source == "deliberation.outcome" and e.target == "deliberation.compute" for e in edges)


def test_no_stage_imports_the_commands():
    _, edges = graph(PACKAGE)
    # the command line and the workbench (``serve``, a page per command) stand above the commands
    above = ("deliberation.cli", "deliberation.web.app")
    assert [e for e in edges if e.target == "deliberation.commands" and e.source not in above] == []


def test_function_level_imports_of_the_package_are_the_known_lazy_ones():
    """Each import of the package made inside a function is there for speed (see the comment beside it)."""
    modules, edges = graph(PACKAGE)
    lazy = sorted({(e.source, e.target) for e in edges if not e.top and modules[e.target].name != "__init__.py"})
    assert lazy == [
        ("deliberation.cli", "deliberation.web.app"),  # Starlette, uvicorn: serve only
        ("deliberation.commands", "deliberation.bundle.history"),  # the redlines: docxtpl
        ("deliberation.commands", "deliberation.bundle.programme"),  # ledger -o: openpyxl, python-docx, LibreOffice
        ("deliberation.commands", "deliberation.render.acts"),  # Jinja, docxtpl
        ("deliberation.commands", "deliberation.render.compiled"),  # python-docx, docxtpl
        ("deliberation.commands", "deliberation.render.documents"),
        ("deliberation.commands", "deliberation.xlsx.apply"),  # import-xlsx, init, amendments: openpyxl (issue 23)
        ("deliberation.commands", "deliberation.xlsx.reading"),
        ("deliberation.commands", "deliberation.xlsx.scaffold"),
        ("deliberation.consolidation", "deliberation.bundle.consolidated"),  # a programme's build: python-docx
        ("deliberation.consolidation", "deliberation.render.acts"),  # a programme's build: Jinja, docxtpl
        ("deliberation.consolidation", "deliberation.render.compiled"),
        ("deliberation.consolidation", "deliberation.render.consolidate"),
        ("deliberation.consolidation", "deliberation.render.documents"),
        ("deliberation.pipeline", "deliberation.bundle.history"),
        ("deliberation.pipeline", "deliberation.bundle.pack"),  # pypdf
        ("deliberation.pipeline", "deliberation.bundle.pdf"),  # LibreOffice's process pool: PDF builds only
        ("deliberation.pipeline", "deliberation.bundle.publish"),
        ("deliberation.pipeline", "deliberation.bundle.redline"),
        ("deliberation.pipeline", "deliberation.render.documents"),
        ("deliberation.pipeline", "deliberation.render.register"),  # the register of acts: Jinja, docxtpl
        ("deliberation.pipeline", "deliberation.xlsx.export"),  # openpyxl
        ("deliberation.pipeline", "deliberation.xlsx.register"),
        ("deliberation.printcheck", "deliberation.engine"),  # the cache key, in the worker processes
        ("deliberation.printcheck", "deliberation.fsio"),  # the cache, in the worker processes
        ("deliberation.rules.impression", "deliberation.printcheck"),  # pdfplumber: PDF builds only
    ]


@pytest.mark.parametrize("command", [["check", "--actes"], ["figures"], ["export", "scdl", "--brouillon"]])
def test_check_loads_neither_word_nor_excel_nor_pdf_libraries(command, tmp_path):
    """``check`` (and ``figures``, ``export scdl``) stay fast: python-docx, docxtpl, openpyxl, pypdf are not loaded."""
    dossier = Path(__file__).resolve().parents[1] / "fixtures" / "fictif"
    loaded = tmp_path / "modules.txt"
    code = textwrap.dedent(f"""
        import sys
        from deliberation.cli import main
        try:
            main([*{command!r}, {str(dossier)!r}])
        except SystemExit as end:
            assert not end.code, end.code
        found = {{m.split(".")[0] for m in sys.modules}} & {{"docx", "docxtpl", "openpyxl", "pypdf", "lxml"}}
        open({str(loaded)!r}, "w").write(repr(sorted(found)))
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert loaded.read_text() == "[]"


# ---------------------------------------------------------------------------
# the walk itself, on a small package written here


STAGES_SMALL = (("base", ("__init__", "low")), ("first", ("first",)), ("second", ("second",)))


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return pkg


def test_a_planted_backward_import_is_found_inside_a_function(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.second import thing\n",
        "first/__init__.py": "",
        "first/a.py": "from pkg import low\n\ndef f():\n    from pkg.second import b  # planted\n    return b\n",
        "second/__init__.py": "",
        "second/b.py": "from pkg.first.a import f\nfrom . import c\n",
        "second/c.py": "import pkg.low\n",
    })
    _, edges = graph(pkg)
    assert backward(edges, STAGES_SMALL, "pkg") == [
        "pkg.first.a (first) importe pkg.second.b (second), ligne 4 (dans une fonction)",
        "pkg.first.a (first) importe pkg.second (second), ligne 4 (dans une fonction)",
    ]
    assert cycles(edges) == []  # the function-level import makes no cycle, and TYPE_CHECKING is left out
    assert ("pkg.second.b", "pkg.second.c") in {(e.source, e.target) for e in edges}  # relative import


def test_a_planted_cycle_is_found_through_a_package_init(tmp_path):
    """``b`` imports ``pkg.first.a``: ``first/__init__`` runs first, and it imports ``b`` back."""
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "low.py": "",
        "first/__init__.py": "from pkg.first import x\n",
        "first/a.py": "",
        "first/x.py": "import pkg.second.b\n",
        "second/__init__.py": "",
        "second/b.py": "from pkg.first.a import thing\n",
    })
    _, edges = graph(pkg)
    assert cycles(edges) == [["pkg.first", "pkg.first.x", "pkg.second.b", "pkg.first"]]
    assert backward(edges, STAGES_SMALL, "pkg") == [
        "pkg.first.x (first) importe pkg.second.b (second), ligne 1",
        "pkg.first.x (first) importe pkg.second (second), ligne 1",
    ]


def test_a_synthetic_graph():
    edges = [Edge("p.low", "p.first", True, 1), Edge("p.first", "p.low", True, 1),
             Edge("p.first", "p.second", False, 3)]
    assert cycles(edges) == [["p.first", "p.low", "p.first"]]
    assert backward(edges, STAGES_SMALL, "p") == [
        "p.low (base) importe p.first (first), ligne 1",
        "p.first (first) importe p.second (second), ligne 3 (dans une fonction)",
    ]


def test_workbooks_do_not_load_numpy_and_leave_it_importable():
    """Verify the workbook modules load openpyxl without numpy (0.17 s a build), which stays importable."""
    pytest.importorskip("numpy")  # installed with the programme extra (matplotlib)
    code = ("import sys\nimport deliberation.xlsx.export, deliberation.xlsx.register\n"
            "print('numpy' in sys.modules)\nimport numpy\nprint(numpy.int64(3) + 1)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "4"]
