"""Every ``rnnviz`` command shown in docs/ and README.md runs as shown, and says what the page says."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from rnnviz.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
#: A fenced block; a longer fence (````) holds shorter ones and ends only at its own length.
_FENCE = re.compile(r"^(`{3,})(\w*)[^\n]*\n(.*?)^\1[ \t]*$", re.S | re.M)

#: The files the pages talk about without shipping them, and where each page shows its text:
#: (page, language of the block, a piece of the block that identifies it), or an example.
FILES = {
    "elman.rnn": ("getting-started.md", "text", "Elman"),
    "relu.rnn": ("getting-started.md", "text", "ReLU"),
    "exam.rnn": ("teachers.md", "text", "ReLU"),
    "vanilla_1d.rnn": ("vanishing.md", "rnnviz", r"h_t = \tanh"),
    "lstm.rnn": "examples/lstm.rnn",
    "my_rnn.rnn": "examples/vanilla.rnn",
}


def _blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(2), m.group(3)) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


def _commands() -> list[tuple[str, str, str]]:
    """(page, command line, its comment) for every rnnviz command in a sh block (or after `$ `)."""
    out = []
    for page in PAGES:
        for lang, body in _blocks(page):
            for line in body.splitlines():
                line = line.strip()
                if lang in ("sh", "bash", "console", "text") and line.startswith("$ rnnviz "):
                    line = line[2:]
                elif not (lang in ("sh", "bash") and line.startswith("rnnviz ")):
                    continue
                cmd, _, comment = line.partition(" #")
                out.append((str(page.relative_to(ROOT)), cmd.strip(), comment.strip()))
    return out


COMMANDS = _commands()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder holding examples/ and every file the pages name, made from the pages' own text."""
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "examples", work / "examples")
    (work / "figures").mkdir()
    for name, source in FILES.items():
        if isinstance(source, str):
            shutil.copyfile(ROOT / source, work / name)
            continue
        page, lang, piece = source
        text = next(body for kind, body in _blocks(ROOT / "docs" / page) if kind == lang and piece in body)
        (work / name).write_text(text, encoding="utf-8")
    return work


def test_the_pages_show_commands():
    """The collection finds the commands of the README, the teachers' page and the gallery."""
    pages = {page for page, _, _ in COMMANDS}
    assert {"README.md", "docs/teachers.md", "docs/gallery/lstm.md"} <= pages
    assert {cmd.split()[1] for _, cmd, _ in COMMANDS} >= {"draw", "run", "grad", "plot", "params"}


@pytest.mark.parametrize("page, cmd, comment", COMMANDS, ids=[f"{p}: {c}" for p, c, _ in COMMANDS])
def test_command_runs_as_shown(workdir, monkeypatch, capsys, page, cmd, comment):
    """The command exits 0 and writes the files its comment names; a claimed h = ... is printed."""
    monkeypatch.chdir(workdir)
    argv = shlex.split(cmd)[1:]
    try:
        code = main(argv)
    except SystemExit as exit_:  # --help and --version exit through argparse
        code = exit_.code
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    for name in re.findall(r"[\w./-]+\.(?:svg|png|pdf)\b", comment):
        assert (workdir / name).is_file() or name in out, name
    claim = re.search(r"\bh = ([-\d., ]+\d)", comment)
    if claim and argv[0] == "run":
        rows = [line.split() for line in out.splitlines()]
        col = rows[0].index("h")
        shown = [float(r[col]) for r in rows[1:] if len(r) == len(rows[0]) and r[0] != "0"]
        assert shown == [float(v) for v in claim.group(1).split(",")], out


def _python_pages() -> list[Path]:
    return [p for p in PAGES if any(lang == "python" for lang, _ in _blocks(p))]


@pytest.mark.parametrize("page", _python_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_and_print_what_they_claim(workdir, monkeypatch, page):
    """The Python blocks of a page run in order; a comment ending in a literal (`# 28`) is the value."""
    import ast

    monkeypatch.chdir(workdir)
    ns: dict = {}
    claims = 0
    for lang, body in _blocks(page):
        if lang != "python":
            continue
        lines = body.splitlines()
        for node in ast.parse(body).body:
            call = node.value if isinstance(node, ast.Expr) else None
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "print" and len(call.args) == 1:
                node = ast.Expr(call.args[0], lineno=node.lineno, end_lineno=node.end_lineno,
                                col_offset=0, end_col_offset=0)  # print(x)  # claim: compare x
            code = compile(ast.Module([node], []) if not isinstance(node, ast.Expr)
                           else ast.Expression(node.value), str(page), "exec" if not isinstance(node, ast.Expr)
                           else "eval")
            value = eval(code, ns)
            comment = lines[node.end_lineno - 1].partition("  #")[2]
            if not isinstance(node, ast.Expr) or not comment:
                continue
            try:
                claim = ast.literal_eval(comment.rsplit(": ", 1)[-1].strip())
            except (ValueError, SyntaxError):
                continue
            claims += 1
            assert value == claim or (hasattr(value, "tolist") and value.tolist() == claim), \
                (ast.get_source_segment(body, node), value, claim)
    assert claims or page.name == "README.md"


def test_json_graph_example_is_part_of_the_real_output(workdir, monkeypatch, capsys):
    """The shortened JSON shown on json-graph.md is a subset of what its command prints."""
    import json

    page = ROOT / "docs" / "json-graph.md"
    blocks = _blocks(page)
    cmd = next(b for lang, b in blocks if "--format json" in b and b.strip().startswith("$ rnnviz"))
    shown = json.loads(next(b for lang, b in blocks if lang == "json"))
    monkeypatch.chdir(workdir)
    assert main(shlex.split(cmd.strip()[2:])[1:]) == 0
    real = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in real.items() if k not in ("nodes", "edges")} == \
        {k: v for k, v in shown.items() if k not in ("nodes", "edges")}
    for key in ("nodes", "edges"):
        assert shown[key] and all(item in real[key] for item in shown[key]), key


# -- "Use rnnviz in another project": the install lines and the Jupyter, MkDocs, Sphinx snippets --

def _elsewhere() -> list[tuple[str, str]]:
    """The blocks of the README's section on using rnnviz in another project."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use rnnviz in another project", 1)[1].split("\n## ", 1)[0]
    return [(m.group(2), m.group(3)) for m in _FENCE.finditer(section)]


def _one(lang: str, piece: str = "") -> str:
    found = [body for kind, body in _elsewhere() if kind == lang and piece in body]
    assert len(found) == 1, (lang, piece, found)
    return found[0]


def test_the_section_on_other_projects_shows_every_way_in():
    """The README shows the wheel, pipx, Jupyter, MkDocs and Sphinx, each in a few lines."""
    assert {lang for lang, _ in _elsewhere()} == {"sh", "ipython", "yaml", "markdown", "python", "rst"}
    assert all(len(body.strip().splitlines()) <= 3 for _, body in _elsewhere())


@pytest.mark.slow
def test_install_commands_run_as_shown(installed, tmp_path):
    """``pip wheel``, ``pip install`` of that wheel and ``pipx install .`` run as written, and give rnnviz."""
    from tests.installs import install_lines, project_version, run

    assert installed.ran == [cmd for cmd, _ in install_lines()]
    for cmd, comment in install_lines():
        for name in re.findall(r"dist/[\w.-]+\.whl", comment):
            assert (installed.source / name).is_file(), f"{name} (named by: {cmd})"
    for rnnviz in (installed.venv / "bin" / "rnnviz", installed.pipx_bin / "rnnviz"):
        assert run([rnnviz, "--version"], cwd=tmp_path).stdout.split() == ["rnnviz", project_version()]


def test_jupyter_cells_run_as_shown(tmp_path, monkeypatch):
    """The README's notebook cells, run by a local kernel, show an inline SVG and no error."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [body for lang, body in _elsewhere() if lang == "ipython"]
    assert cells and cells[0].strip() == "%load_ext rnnviz"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.rstrip("\n")) for c in cells])
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells for o in cell.outputs]
    assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"], outputs
    assert "<svg" in nb.cells[-1].outputs[0]["data"]["text/html"]


def test_mkdocs_lines_build_a_site(tmp_path):
    """A site of ``site_name`` and the README's plugin lines, with its fence on a page, builds --strict."""
    import subprocess
    import sys

    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Course\n" + _one("yaml", "rnnviz"), encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text("# Course\n\n" + _one("markdown", "rnnviz"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    assert "<svg" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_sphinx_lines_build_a_project(tmp_path):
    """A Sphinx project whose conf.py is the README's line and whose page is its directive builds with -W."""
    import os
    import subprocess
    import sys

    pytest.importorskip("sphinx")
    (tmp_path / "conf.py").write_text('project = "Course"\n' + _one("python", "rnnviz.sphinx"), encoding="utf-8")
    (tmp_path / "index.rst").write_text("Course\n======\n\n" + _one("rst", "rnnviz"), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(tmp_path), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "<svg" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
