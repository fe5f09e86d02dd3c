"""Tests of rnnviz.diagrams.render and rnnviz.diagrams.diagram: SVG ready to inline, PNG/PDF, a missing Graphviz."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from rnnviz.diagrams import render
from rnnviz.diagrams.diagram import draw, format_of
from rnnviz.errors import RenderError, ValueSpecError
from rnnviz.language import load_model
from tests.conftest import EXAMPLES, example_paths

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
SVG_NS = "{http://www.w3.org/2000/svg}"


def _model(path):
    return load_model(path.read_text(encoding="utf-8"), path.name)


def _refs(svg: str) -> set[str]:
    return set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))


@pytest.mark.parametrize("view", ["folded", "unrolled"])
@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_svg_is_ready_to_inline(path, view):
    """The SVG parses as XML, has no prolog or doctype, a viewBox, a leading <title> and unique ids."""
    svg = draw(_model(path), view, 3).svg()
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg and "<!--" not in svg
    root = ET.fromstring(svg)
    assert root.get("viewBox")
    assert root[0].tag == SVG_NS + "title" and root[0].text
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert len(ids) == len(set(ids))
    assert _refs(svg) <= set(ids)
    assert 'font-family="Times,serif"' in svg


def test_two_diagrams_never_share_an_id():
    """Two different diagrams on one page have disjoint ids (content-hash prefixes)."""
    model = _model(EXAMPLES / "two_layer.rnn")
    a, b = draw(model, "folded").svg(), draw(model, "unrolled").svg()
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_svg_is_deterministic(path):
    """The same model renders to byte-identical SVG twice."""
    assert draw(_model(path), "unrolled", 3).svg() == draw(_model(path), "unrolled", 3).svg()


def test_title_is_escaped_in_svg():
    """A title with markup characters is text in the SVG, not markup."""
    svg = draw(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "folded", title='<b onload="x">&').svg()
    root = ET.fromstring(svg)
    assert root[0].text == '<b onload="x">&'
    assert "<b " not in svg


def test_clean_svg_prefixes_ids_and_references():
    """Every id and every reference to it get the prefix; foreign references are left alone."""
    raw = ('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg viewBox="0 0 2 2"><defs><clipPath id="c"/></defs>'
           '<g id="a" clip-path="url(#c)"><use xlink:href="#a"/><use href="#other"/></g></svg>')
    out = render.clean_svg(raw, "p1", title="t")
    assert 'id="p1-c"' in out and "url(#p1-c)" in out and 'xlink:href="#p1-a"' in out
    assert 'href="#other"' in out


def test_graphviz_prefixes_the_ids_itself():
    """render_svg hands Graphviz the prefix as the graph id: every id carries it, nothing is rewritten."""
    d = draw(_model(EXAMPLES / "lstm.rnn"), "unrolled", 3)
    prefix = render.diagram_prefix(d.dot())
    raw = render.render(d.dot(), "svg", graph_id=prefix).decode()
    ids = re.findall(r'\bid="([^"]+)"', raw)
    assert ids and all(i == prefix or i.startswith((prefix + "_", "a_" + prefix + "_")) for i in ids)
    assert not render._foreign_id(raw, prefix)
    svg = d.svg()
    assert svg == render.clean_svg(raw, prefix, title=d._alt)
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert len(ids) == len(set(ids)) and all(i.startswith(prefix) or i.startswith("a_" + prefix) for i in ids)


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_png_and_pdf(fmt, magic):
    """PNG and PDF come out of Graphviz with their file signatures."""
    data = draw(_model(EXAMPLES / "vanilla.rnn"), "folded").render(fmt)
    assert data.startswith(magic)


def test_png_dpi_scales_the_image():
    """A higher --dpi gives a larger PNG."""
    d = draw(_model(EXAMPLES / "vanilla.rnn"), "folded")

    def width(png: bytes) -> int:
        return int.from_bytes(png[16:20], "big")

    assert width(d.render("png", dpi=200)) > 1.5 * width(d.render("png", dpi=100))


def test_missing_graphviz_is_one_clear_sentence(monkeypatch):
    """Without the dot program, rendering raises RenderError naming Graphviz, not a traceback."""
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="Graphviz") as info:
        draw(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "folded").svg()
    assert "\n" not in str(info.value)


def test_graphviz_failure_is_a_render_error():
    """DOT that Graphviz rejects gives a RenderError with Graphviz's reason."""
    with pytest.raises(RenderError, match="could not draw"):
        render.render("digraph { a -> }")


def test_save_is_atomic_and_infers_the_format(tmp_path, monkeypatch):
    """save() picks the format from the extension and leaves an old file intact when rendering fails."""
    d = draw(_model(EXAMPLES / "vanilla.rnn"), "folded")
    d.save(tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")
    d.save(tmp_path / "a.json")
    assert '"view": "folded"' in (tmp_path / "a.json").read_text()
    old = tmp_path / "b.pdf"
    old.write_text("keep me")
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RenderError):
        d.save(old)
    assert old.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.png", "b.pdf"]


@pytest.mark.parametrize("name", ["net.txt", "net", "net.svgz"])
def test_unknown_extension_is_a_value_error(name):
    """An extension rnnviz does not write is reported, not guessed."""
    with pytest.raises(ValueSpecError, match="extension"):
        format_of(name)


def test_jupyter_repr_is_the_svg():
    """A Diagram shows itself in Jupyter as its SVG."""
    d = draw(load_model("h[t] = tanh(W h[t-1] + U x[t])"), "unrolled", 2)
    assert d._repr_svg_() == d.svg()


@pytest.mark.parametrize("view", ["cell", "cell-unrolled"])
def test_cell_views_dispatch_to_the_cell_module(view):
    """The operation views come from rnnviz.diagrams.cell and render like the others."""
    pytest.importorskip("rnnviz.diagrams.cell")
    d = draw(_model(EXAMPLES / "gru.rnn"), view, 2)
    assert d.view == view and d.graph["nodes"]
    ET.fromstring(d.svg())


def test_draw_rejects_unknown_views_and_steps():
    """Unknown views and zero steps are rnnviz errors."""
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    with pytest.raises(ValueSpecError):
        draw(model, "sideways")
    with pytest.raises(ValueSpecError):
        draw(model, "unrolled", 0)


def test_draw_runs_the_forward_pass_and_backprop_on_request():
    """values=True and grad_target annotate the unrolled view with the exercise's numbers."""
    pytest.importorskip("numpy")
    model = _model(EXAMPLES / "relu_1d.rnn")
    text = draw(model, "unrolled", 3, values=True, grad_target="h[3]").dot()
    for t, value in [(1, "6"), (2, "0"), (3, "3")]:
        line = next(l for l in text.splitlines() if l.startswith(f'  "h@{t}"'))
        assert f">{value}<" in line
    assert "∇" in text


# --- What the reader sees: geometry of the rendered unrolled view ---------------------------

from tests import svg_geometry as geo  # noqa: E402

GATED = ["lstm", "lstm_goodfellow", "gru", "two_layer"]


@pytest.mark.parametrize("annotate", ["plain", "values", "grad"])
@pytest.mark.parametrize("stem", GATED)
def test_unrolled_labels_and_nodes_never_overlap(stem, annotate):
    """In the rendered unrolled view no two parameter labels, no two nodes, and no label and node overlap."""
    model = _model(EXAMPLES / f"{stem}.rnn")
    kw = {"values": True} if annotate == "values" else {}
    if annotate == "grad":
        out = [v for v in model.variables if model.role(v) == "output"] or list(model.variables)
        kw = {"grad_target": f"sum({out[-1]}[3])"}
    pic = geo.parse(geo.render_svg(draw(model, "unrolled", 3, **kw).dot()))
    assert pic.labels, "the parameters are drawn"
    assert geo.label_clashes(pic) == []
    assert geo.node_clashes(pic) == []
    assert geo.labels_on_nodes(pic) == []


@pytest.mark.parametrize("stem", ["lstm", "two_layer"])
def test_labels_stay_clear_after_the_ellipsis(stem):
    """With two-digit steps after a collapsed middle, labels still clear every node and each other."""
    pic = geo.parse(geo.render_svg(draw(_model(EXAMPLES / f"{stem}.rnn"), "unrolled", 12).dot()))
    assert geo.label_clashes(pic) == [] and geo.labels_on_nodes(pic) == [] and geo.node_clashes(pic) == []


@pytest.mark.parametrize("annotate", [False, True])
@pytest.mark.parametrize("stem", ["lstm", "gru", "two_layer"])
def test_nodes_of_one_variable_share_a_row(stem, annotate):
    """Every step of a variable sits at the same height in the picture, values or not."""
    model = _model(EXAMPLES / f"{stem}.rnn")
    pic = geo.parse(geo.render_svg(draw(model, "unrolled", 3, values=True if annotate else None).dot()))
    for name in list(model.inputs) + list(model.variables):
        ys = {round((b[1] + b[3]) / 2, 1) for t, b in pic.nodes.items() if t.split("@")[0] == name}
        assert len(ys) == 1, name


def _pinned_width(dot_text: str) -> float:
    xs = [float(x) for x in re.findall(r'pos="([-\d.]+),[-\d.]+!"', dot_text)]
    return max(xs) - min(xs)


@pytest.mark.parametrize("stem", ["vanilla", "lstm", "two_layer"])
def test_unrolled_width_grows_linearly_with_steps(stem):
    """Each further step adds the same width, so a long unroll is a longer strip, not a denser one."""
    model = _model(EXAMPLES / f"{stem}.rnn")
    widths = [_pinned_width(draw(model, "unrolled", n, max_columns=20).dot()) for n in (3, 4, 5, 6)]
    steps = {round(b - a, 2) for a, b in zip(widths, widths[1:])}
    assert len(steps) == 1 and steps.pop() > 0


def test_labels_stay_clear_on_large_straight_edged_grids():
    """Past the size Graphviz routes itself (straight edges), parameters still clear every node and each other."""
    model = _model(EXAMPLES / "lstm_goodfellow.rnn")
    text = draw(model, "unrolled", 20, max_columns=20).dot()
    assert 'splines="line"' in text
    pic = geo.parse(geo.render_svg(text))
    assert geo.label_clashes(pic) == [] and geo.labels_on_nodes(pic) == [] and geo.node_clashes(pic) == []


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_folded_view_has_no_overlaps(path):
    """In the rendered folded view no two labels, no two nodes, and no label and node overlap."""
    pic = geo.parse(geo.render_svg(draw(_model(path), "folded").dot()))
    assert geo.label_clashes(pic) == [] and geo.node_clashes(pic) == [] and geo.labels_on_nodes(pic) == []


def test_detour_labels_sit_by_the_arrowhead_clear_of_everything():
    """On a large grid with detours (a read two steps back), each parameter sits by its arrowhead, clear of the rest."""
    model = load_model("h[t] = tanh(V h[t-1] + W h[t-2] + U x[t])\ny[t] = Q h[t]")
    text = draw(model, "unrolled", 25, max_columns=25).dot()
    assert '"bend_' in text
    assert not re.search(r'-> "bend_[^"]*" \[[^\n]*label=', text)  # no label half-way round a detour
    pic = geo.parse(geo.render_svg(text))
    assert geo.label_clashes(pic) == [] and geo.labels_on_nodes(pic) == []


@pytest.mark.parametrize("stem", ["vanilla", "lstm", "gru"])
def test_vertical_unrolled_view_runs_time_down(stem):
    """--orient vertical: each step is a row further down, inputs left of what they feed, nothing overlaps;
    an LSTM turned is narrower."""
    model = _model(EXAMPLES / f"{stem}.rnn")
    pic = geo.parse(geo.render_svg(draw(model, "unrolled", 3, values=True, orient="vertical").dot()))
    centre = {k: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for k, b in pic.nodes.items()}
    assert centre["x@1"][1] < centre["x@2"][1] < centre["x@3"][1]  # SVG y grows downwards
    assert centre["x@1"][0] < centre["h@1"][0]
    assert geo.node_clashes(pic) == [] and geo.label_clashes(pic) == []
    if stem != "lstm":
        return  # a narrow model may be as wide turned; an LSTM's four gates a step are not
    wide = geo.parse(geo.render_svg(draw(model, "unrolled", 3, values=True).dot()))
    width = max(b[2] for b in pic.nodes.values()) - min(b[0] for b in pic.nodes.values())
    assert width < max(b[2] for b in wide.nodes.values()) - min(b[0] for b in wide.nodes.values())


def test_orient_vertical_is_refused_where_it_means_nothing():
    """The cell views do not turn: orient='vertical' there is an error, not ignored."""
    from rnnviz.errors import ValueSpecError

    with pytest.raises(ValueSpecError, match="cell"):
        draw(_model(EXAMPLES / "vanilla.rnn"), "cell", 3, orient="vertical")


def test_unrolled_view_keeps_to_a_slide_unless_told():
    """Five LSTM steps with values would be a wall of small numbers: by default the middle steps
    fold into an ellipsis so the text stays 10 px on a 1280x720 slide; --max-columns 6 keeps them all."""
    from tests.diagrams.measures import smallest_text_on_slide

    model = _model(EXAMPLES / "lstm.rnn")
    fitted = draw(model, "unrolled", 5, values=True)
    assert fitted.graph.get("collapsed") and smallest_text_on_slide(fitted.svg()) >= 10
    full = draw(model, "unrolled", 5, values=True, max_columns=6)
    assert "collapsed" not in full.graph
    assert "collapsed" not in draw(_model(EXAMPLES / "vanilla.rnn"), "unrolled", 5, values=True).graph


def _png_pixels(data: bytes):
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.mode, im.size, im.info.get("dpi"), im.convert("RGB").tobytes()


@pytest.mark.parametrize("dpi", [72, 200])
@pytest.mark.parametrize("view", ["folded", "cell-unrolled"])
@pytest.mark.parametrize("path", example_paths()[:3], ids=lambda p: p.stem)
def test_png_comes_opaque_from_graphviz(path, view, dpi, monkeypatch):
    """Padded by less than a pixel to whole pixels, the page is opaque as Graphviz writes it: the PNG
    is RGB at the size Graphviz gave it before, its dpi recorded, and never decoded and encoded again
    (except where the page's size sits on a rounding tie, then as before)."""
    d = draw(_model(path), view, 3)
    raw = _raw_png(d.dot(), dpi)
    old_mode, old_size, _, _ = _png_pixels(render._flatten_png(raw, dpi))
    tie = render.whole_pixels(d.dot(), d.svg(), dpi) is None and not render._opaque_rgb(raw)
    if not tie:
        monkeypatch.setattr(render, "_flatten_png", lambda *a: pytest.fail("the PNG was encoded again"))
    for data in (d.render("png", dpi=dpi), render.render(d.dot(), "png", dpi=dpi)):
        mode, size, res, _ = _png_pixels(data)
        assert (mode, size) == (old_mode, old_size) == ("RGB", old_size)
        assert round(res[0]) == dpi and data.endswith(b"IEND\xaeB`\x82")
        assert data.count(b"pHYs") == 1


def _raw_png(dot_text: str, dpi: int) -> bytes:
    """What Graphviz writes for the white page without rnnviz's padding."""
    import subprocess

    return subprocess.run(["dot", "-Tpng", f"-Gdpi={dpi}"], input=render._opaque(dot_text).encode(),
                          capture_output=True, check=True).stdout


def test_png_resolution_replaces_one_there_already():
    """A pHYs chunk already in Graphviz's PNG is replaced, not doubled; the pixels stay."""
    import io

    from PIL import Image

    src = io.BytesIO()
    Image.new("RGB", (4, 3), (1, 2, 3)).save(src, format="PNG", dpi=(96, 96))
    out = render._with_resolution(src.getvalue(), 200)
    assert out.count(b"pHYs") == 1
    mode, size, res, pixels = _png_pixels(out)
    assert (mode, size, round(res[0])) == ("RGB", (4, 3), 200) and pixels == bytes([1, 2, 3]) * 12


def test_page_on_a_rounding_tie_is_left_alone():
    """A page whose pixel size is within the viewBox's rounding of a half is not padded (Graphviz may round it either way)."""
    dot = 'digraph {\n  graph [pad="0.15"];\n  a\n}'
    assert render.whole_pixels(dot, '<svg viewBox="0 0 547.50 292.42">', 72) is None
    assert render.whole_pixels(dot, '<svg viewBox="0 0 547.40 292.42">', 72) is None  # covered already
    assert render.whole_pixels(dot, '<svg viewBox="0 0 547.60 292.42">', 72) == "0.152854,0.150000"
