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
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

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
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


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
