"""The package is laid out by stage, and imports run one way: from the top stage down, no cycle.

Every ``import`` of every module counts, also those inside functions (a lazy import
is still a dependency) and under ``if TYPE_CHECKING`` (a cycle for the type checker is
a cycle for the reader).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "rnnviz"

#: Stage of each top-level part of the package, in the order data flows through them.
STAGE_OF = {
    "errors": "bottom", "io": "bottom", "version": "bottom", "lazy": "bottom", "limits": "bottom",
    "_dataclasses": "bottom",
    "language": "language", "numeric": "numeric", "diagrams": "diagrams", "formulas": "formulas",
    "teaching": "teaching", "site": "site", "sphinx": "top",
    "commands": "top", "cli": "top", "__main__": "top", "__init__": "top",
}
#: A module may import its own stage and the stages of lower rank; ``diagrams`` and
#: ``formulas`` share a rank but do not import each other.
RANK = {"bottom": 0, "language": 1, "numeric": 2, "diagrams": 3, "formulas": 3, "teaching": 4, "site": 5, "top": 6}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The rnnviz modules that ``name`` imports (a package means its ``__init__``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from pkg import mod`` depends on pkg.mod; ``from pkg import name`` on pkg
            candidates = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        for cand in candidates:
            # the longest known module that the import names
            while cand and cand not in known:
                cand = cand.rpartition(".")[0]
            if cand.startswith("rnnviz") and cand != name:
                found.add(cand)
    return found


def stage(name: str) -> tuple[str, int]:
    parts = name.split(".")
    part = parts[1] if len(parts) > 1 else "__init__"
    return STAGE_OF[part], RANK[STAGE_OF[part]]


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_every_part_of_the_package_has_a_stage():
    """Every module and subpackage at the top of rnnviz/ is assigned a stage."""
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert sorted(tops - set(STAGE_OF)) == []


def test_imports_run_from_the_top_stage_down():
    """No module imports a later stage, and diagrams and formulas do not import each other."""
    bad = []
    mods = modules()
    for name, deps in graph().items():
        top, rank = stage(name)
        for dep in sorted(deps):
            dtop, drank = stage(dep)
            if dep == "rnnviz" and name != "rnnviz.__main__":
                bad.append(f"{mods[name].relative_to(ROOT)} imports the package top rnnviz/__init__.py")
            elif drank > rank or (drank == rank and dtop != top):
                bad.append(f"{mods[name].relative_to(ROOT)} ({top}) imports {mods[dep].relative_to(ROOT)} ({dtop})")
    assert bad == [], "\n".join(bad)


def test_no_import_cycle():
    """No chain of imports leads from a module back to itself."""
    g = graph()
    mods = modules()
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(g[node]):
            if state.get(dep) == 1:
                loop = stack[stack.index(dep):] + [dep]
                cycles.append(" -> ".join(str(mods[m].relative_to(ROOT)) for m in loop))
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(g):
        if name not in state:
            visit(name, [])
    assert cycles == [], "\n".join(cycles)


@pytest.mark.parametrize("package", ["language", "numeric", "diagrams", "formulas", "site", "commands"])
def test_subpackage_says_its_job_and_lists_its_names(package):
    """Each subpackage's __init__ opens with a one-sentence docstring and lists its public names in __all__."""
    path = PACKAGE / package / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and doc.splitlines()[0].rstrip().endswith("."), f"{path}: the first line should be one sentence"
    names = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)]
    assert names, f"{path} has no __all__"
    mod = __import__(f"rnnviz.{package}", fromlist=["*"])
    for public in mod.__all__:
        assert getattr(mod, public) is not None, f"rnnviz.{package}.{public}"


def test_a_planted_backward_import_is_caught(tmp_path, monkeypatch):
    """The direction check names both files when language imports diagrams."""
    pkg = tmp_path / "rnnviz"
    (pkg / "language").mkdir(parents=True)
    (pkg / "diagrams").mkdir()
    for p in (pkg, pkg / "language", pkg / "diagrams"):
        (p / "__init__.py").write_text('"""x."""\n__all__ = []\n')
    (pkg / "language" / "model.py").write_text("from ..diagrams import dot\n")
    (pkg / "diagrams" / "dot.py").write_text("from ..language import model\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", pkg)
    with pytest.raises(AssertionError, match=r"rnnviz/language/model.py \(language\) imports rnnviz/diagrams/dot.py"):
        test_imports_run_from_the_top_stage_down()
    with pytest.raises(AssertionError, match=r"rnnviz/diagrams/dot.py -> rnnviz/language/model.py -> rnnviz/diagrams/dot.py"):
        test_no_import_cycle()


def test_the_architecture_page_matches_the_tree():
    """docs/architecture.md names every module of every stage, and no module that is gone."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py", "_common.py") or path.parent.name == "commands":
            continue
        assert f"`{path.name}`" in page, f"docs/architecture.md does not name {path.relative_to(ROOT)}"
    for named in sorted(set(re.findall(r"`(\w+\.py)`", page))):
        assert list(PACKAGE.rglob(named)), f"docs/architecture.md names {named}, which is not in rnnviz/"
    for stage in ("language", "numeric", "diagrams", "formulas", "site", "commands"):
        assert f"rnnviz/{stage}/" in page
