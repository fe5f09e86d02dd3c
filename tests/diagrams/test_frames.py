"""draw --frames: the forward pass step by step and the gradient flowing back, for slides."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from rnnviz import load_model
from rnnviz.cli import main
from rnnviz.diagrams.diagram import draw
from rnnviz.diagrams.frames import frame_dots, stepped_svg

RELU = "h_t = \\text{ReLU}(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\n"


def _model():
    return load_model(RELU)


def test_forward_frame_k_shows_steps_up_to_k():
    """Frame k has the values of steps 0..k; later steps are faint with the value '?'."""
    dots = frame_dots(draw(_model(), "unrolled", 3, values=True))
    assert len(dots) == 3
    for k, dot in enumerate(dots, start=1):
        for t in range(0, 4):
            line = next(x for x in dot.splitlines() if x.strip().startswith(f'"h@{t}" ['))
            assert (">?<" in line) == (t > k), (k, t, line)
            assert ('fillcolor="#f4f4f4"' in line) == (t > k)


def test_every_frame_keeps_the_layout():
    """The pinned positions of every node are the same in every frame: the picture stands still."""
    m = _model()
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients

    tr = forward(m)
    dots = frame_dots(draw(m, "unrolled", 3, values=tr), draw(m, "unrolled", 3, values=tr,
                                                                 grads=gradients(m, tr, "h[3]")))
    assert len(dots) == 3 + 4
    positions = [re.findall(r'"(\w+@-?\d+)" \[.*pos="([^"]+)"', d) for d in dots[:3]]
    assert positions[0] == positions[1] == positions[2]


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (poppler-utils) is not installed")
def test_the_frames_pdf_has_one_page_per_frame(tmp_path):
    """3 steps: 3 forward frames, and 4 more with --grad (the gradient reaching steps 3, 2, 1, 0)."""
    src = tmp_path / "relu.rnn"
    src.write_text(RELU)
    for extra, pages in (([], 3), (["--grad", "h[3]"], 7)):
        out = tmp_path / f"f{pages}.pdf"
        assert main(["draw", str(src), "--frames", *extra, "-o", str(out)]) == 0
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1) == str(pages)


def test_numbered_pngs(tmp_path, capsys):
    """As PNG, one numbered file per frame."""
    src = tmp_path / "relu.rnn"
    src.write_text(RELU)
    assert main(["draw", str(src), "--frames", "-o", str(tmp_path / "slides" / "relu.png"), "--dpi", "60"]) == 0
    names = sorted(p.name for p in (tmp_path / "slides").iterdir())
    assert names == ["relu-01.png", "relu-02.png", "relu-03.png"]
    assert (tmp_path / "slides" / "relu-01.png").read_bytes().startswith(b"\x89PNG")


def test_one_svg_with_data_step():
    """As SVG, every node and edge carries data-step and the class rnnviz-step-K of its step."""
    svg = stepped_svg(draw(_model(), "unrolled", 3, values=True).render("svg").decode())
    steps = re.findall(r'class="(node|edge) rnnviz-step rnnviz-step-(-?\d+)" data-step="(-?\d+)"', svg)
    assert {(k, s) for k, s, d in steps if s == d} == {("node", "0"), ("node", "1"), ("node", "2"), ("node", "3"),
                                                       ("edge", "1"), ("edge", "2"), ("edge", "3")}
    # h@0 -> h@1 belongs to step 1 (the value it feeds)
    assert re.search(r'class="edge rnnviz-step rnnviz-step-1" data-step="1">\s*<title>h@0&#45;&gt;h@1', svg)


def test_frames_turn_with_orient_vertical(tmp_path):
    """--frames --orient vertical reveals the vertical layout (time runs down), not the one across."""
    src = tmp_path / "relu.rnn"
    src.write_text(RELU)
    boxes = {}
    for orient in ("horizontal", "vertical"):
        out = tmp_path / f"{orient}.svg"
        assert main(["draw", str(src), "--frames", "--orient", orient, "-o", str(out)]) == 0
        svg = out.read_text(encoding="utf-8")
        assert 'data-step="3"' in svg
        w, h = (float(v) for v in re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg).groups())
        boxes[orient] = w / h
    assert boxes["horizontal"] > 1 > boxes["vertical"]


def test_a_backward_chain_starts_from_its_given_value():
    """A bidirectional RNN over 2 steps draws g at t = 3, the value its backward chain starts
    from: it is given from the start (step 0), so a slider counts 2 steps, not 3."""
    from tests.conftest import EXAMPLES

    model = load_model((EXAMPLES / "bidirectional.rnn").read_text(encoding="utf-8"))
    svg = stepped_svg(draw(model, "unrolled", 2).render("svg").decode())
    assert sorted({int(k) for k in re.findall(r'data-step="(-?\d+)"', svg)}) == [0, 1, 2]
    assert re.search(r'data-step="0">\s*<title>g@3</title>', svg)


def test_frames_refuse_other_views_and_formats(tmp_path, capsys):
    """--frames is the unrolled view as pdf, png or svg."""
    src = tmp_path / "relu.rnn"
    src.write_text(RELU)
    assert main(["draw", str(src), "--frames", "--view", "folded"]) == 2
    assert main(["draw", str(src), "--frames", "--format", "dot"]) == 2
    assert "--frames writes pdf, png or svg" in capsys.readouterr().err


def _node_attrs(dot: str, node: str) -> str:
    return next(ln for ln in dot.splitlines() if ln.startswith(f'  "{node}" ['))


def _faint(dot: str, node: str) -> bool:
    return 'fillcolor="#f4f4f4"' in _node_attrs(dot, node)


def test_an_encoder_decoder_reveals_the_encoder_then_the_context_then_the_decoder():
    """Exercise 9: frames 1-2 the encoder's steps, frame 3 the context with the decoder's start,
    frames 4-6 the decoder's steps; then the gradient of o[3] goes back the same way (7 frames).
    An edge drawn round a node (through invisible points) fades with the edge it belongs to."""
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.grad import gradients
    from tests.conftest import EXAMPLES

    model = load_model((EXAMPLES / "encoder_decoder.rnn").read_text(encoding="utf-8"))
    trace = forward(model)
    base = draw(model, "unrolled", trace.steps, values=trace)
    grads = draw(model, "unrolled", trace.steps, values=trace, grads=gradients(model, trace, "o[3]"))
    dots = frame_dots(base, grads)
    assert len(dots) == 6 + 7
    first, context, last = dots[1], dots[2], dots[5]
    assert not _faint(first, "h@2") and _faint(first, "c@2") and _faint(first, "s@0")
    assert not _faint(context, "c@2") and not _faint(context, "s@0") and _faint(context, "s@1")
    assert "−0.551" in _node_attrs(context, "c@2") and ">?<" in _node_attrs(context, "o@1")
    assert not any(_faint(last, n) for n in ("h@1", "c@2", "s@3", "o@3"))
    detour = [ln for ln in first.splitlines() if '"bend_' in ln and "->" in ln]
    assert detour and all('color="#cfcfcf"' in ln for ln in detour)  # c -> s[2] goes round o[1]: not yet
    # The third gradient frame: it has come back to the decoder's step 1, not yet to the context.
    back = dots[6 + 2]
    assert "∇ ?" in _node_attrs(back, "c@2") and "∇ ?" not in _node_attrs(back, "s@1")
    assert "∇ ?" not in _node_attrs(dots[-1], "x@1")
    svg = stepped_svg(grads.render("svg").decode("utf-8"), base.graph)
    assert 'data-step="3"' in svg and 'data-step="6"' in svg  # the context, the decoder's last step


def test_frames_of_an_encoder_decoder_on_the_command_line(tmp_path, capsys):
    from tests.conftest import EXAMPLES

    out = tmp_path / "ed.png"
    assert main(["draw", str(EXAMPLES / "encoder_decoder.rnn"), "--frames", "-o", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ed-{k:02d}.png" for k in range(1, 7)]
