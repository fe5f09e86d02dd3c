"""``rnnviz draw`` starts its ``dot`` runs before it reads the equations: the same output, and
on every error the processes it started are killed and waited for, their pipes closed."""

from __future__ import annotations

import gc
import shutil
import subprocess
import warnings

import pytest

import rnnviz.diagrams.render as render_mod
from rnnviz.cli import main
from rnnviz.diagrams.render import StartedDot, render
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

RNN = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]\n"


@pytest.fixture
def started(monkeypatch):
    """Every ``dot`` process rnnviz starts, recorded; ResourceWarnings recorded too."""
    procs: list[subprocess.Popen] = []
    real = subprocess.Popen

    class Recorded(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            procs.append(self)

    monkeypatch.setattr(render_mod.subprocess, "Popen", Recorded)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield procs
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def _all_ended(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        assert p.returncode is not None, "a dot process left running or not waited for (a zombie)"
        assert p.stdin.closed and p.stdout.closed and p.stderr.closed


def test_both_views_are_drawn_by_the_processes_started_early(started, tmp_path):
    """The two views' SVG come from the two ``dot`` started before the file was read, byte for byte
    what a plain run of Graphviz gives."""
    out = tmp_path / "out"
    assert main(["draw", str(EXAMPLES / "two_layer.rnn"), "-o", f"{out}/"]) == 0
    assert len(started) == 2
    _all_ended(started)
    from rnnviz.diagrams.diagram import draw
    from rnnviz.diagrams.render import diagram_prefix, standalone_svg
    from rnnviz.language import load_model

    model = load_model((EXAMPLES / "two_layer.rnn").read_text())
    for view in ("folded", "unrolled"):
        d = draw(model, view, 3)
        text = d.dot()
        raw = render(text, "svg", graph_id=diagram_prefix(text)).decode()
        expected = standalone_svg(render_mod.clean_svg(raw, diagram_prefix(text), title=d.alt)).encode()
        assert (out / f"two_layer.{view}.svg").read_bytes() == expected


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_a_started_dot_gives_what_render_gives(fmt):
    from rnnviz.diagrams.diagram import draw

    dot = draw(RNN, "unrolled", 3).dot()
    gid = "rv0123456789" if fmt == "svg" else None
    assert StartedDot(fmt, dpi=72).render(dot, graph_id=gid) == render(dot, fmt, dpi=72, graph_id=gid)


def test_a_graph_head_it_cannot_read_falls_back_to_the_command_line_id():
    """The id goes in after the graph's opening brace; a head it does not recognise (a comment
    first) is drawn by a plain run with -Gid=, and the started process is ended."""
    dot = '/* a comment */ digraph { a -> b }'
    s = StartedDot("svg")
    proc = s._proc
    assert s.render(dot, graph_id="gid") == render(dot, "svg", graph_id="gid")
    assert proc.returncode is not None and proc.stdin.closed


@pytest.mark.parametrize("text, args, code, message", [
    ("h[t] = tanh(W h[t-1] + \n", [], 1, ":1:"),  # a parse error
    (RNN, ["--max-columns", "2"], 2, "--max-columns must be at least 3"),  # refused after reading
    (RNN, ["--values", "--grad", "q[3]"], 1, "q"),  # a target that does not exist
])
def test_on_an_error_the_started_processes_end_and_nothing_is_written(started, tmp_path, capsys, text, args,
                                                                     code, message):
    src = tmp_path / "net.rnn"
    src.write_text(text)
    out = tmp_path / "out"
    assert main(["draw", str(src), "-o", f"{out}/", *args]) == code
    assert message in capsys.readouterr().err
    assert started, "the dot processes were started before the file was read"
    _all_ended(started)
    assert not out.exists() or list(out.iterdir()) == []


def test_an_interrupt_while_reading_ends_the_started_processes(started, tmp_path, capsys, monkeypatch):
    import rnnviz.commands._common as common

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "load_model_from_args", interrupted)
    src = tmp_path / "net.rnn"
    src.write_text(RNN)
    assert main(["draw", str(src), "-o", f"{tmp_path}/"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    assert len(started) == 2
    _all_ended(started)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.rnn"]


def test_without_graphviz_a_parse_error_is_still_the_parse_error(tmp_path, capsys, monkeypatch):
    """Starting early must not report a missing Graphviz before the file's own error."""
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    src = tmp_path / "net.rnn"
    src.write_text("h[t] = tanh(W h[t-1] + \n")
    assert main(["draw", str(src)]) == 1
    err = capsys.readouterr().err
    assert "net.rnn:1:" in err and "Graphviz" not in err
    src.write_text(RNN)
    assert main(["draw", str(src)]) == 1
    assert "the Graphviz program 'dot' was not found" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.rnn"]


@pytest.mark.parametrize("args", [["--format", "dot"], ["--format", "json"], ["-o", "-", "--format", "dot"]])
def test_no_process_is_started_for_dot_or_json(started, tmp_path, args, capsys):
    src = tmp_path / "net.rnn"
    src.write_text(RNN)
    if "-o" not in args:
        args = [*args, "-o", f"{tmp_path}/"]
    assert main(["draw", str(src), *args]) == 0
    assert started == []
