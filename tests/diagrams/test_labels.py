"""Tests of rnnviz.diagrams.labels and rnnviz.diagrams.style: typesetting and escaping of symbol labels."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from rnnviz.diagrams import labels, style
from rnnviz.language import load_model
from rnnviz.language.syntax import Name

DOT = shutil.which("dot")


@pytest.mark.parametrize(
    "name, time, parts",
    [
        (Name("h", subs=("1",)), "t", ["<I>h</I>", "<SUB>1</SUB>", "<SUP>(t)</SUP>"]),
        (Name("h", subs=("1",)), "t-1", ["<SUB>1</SUB>", "<SUP>(t\u22121)</SUP>"]),
        (Name("W", subs=("hh",)), None, ["<I>W</I>", "<SUB>hh</SUB>"]),
        (Name("U", sups=("g",)), None, ["<I>U</I>", "<SUP>g</SUP>"]),
        (Name("c", accent="tilde"), 2, ["<I>c\u0303</I>", "<SUP>(2)</SUP>"]),
        (Name("sigma"), None, ["<I>\u03c3</I>"]),
        (Name("Phi"), None, ["\u03a6"]),
        (Name("W", bold=True), None, ["<B><I>W</I></B>"]),
    ],
)
def test_html_label_typesets_like_the_book(name, time, parts):
    """Subscripts, superscripts, time, Greek letters, accents and bold appear in the label."""
    out = labels.html_label(name, time)
    for part in parts:
        assert part in out


def test_uppercase_greek_is_upright():
    """Uppercase Greek letters are not wrapped in italics, as in LaTeX."""
    assert "<I>" not in labels.html_label(Name("Phi"))


@pytest.mark.parametrize("evil", ['<b>', '&amp;', '"}; x [label="pwn', "{ }", "</SUB><SCRIPT>", "a\nb", "\\N"])
def test_escape_html_leaves_no_markup(evil):
    """Escaped text contains no raw markup characters and no control characters."""
    out = labels.escape_html(evil)
    assert not set(out) & set('<>"\n')
    assert re.sub(r"&(amp|lt|gt|quot|#39);", "", out).count("&") == 0


@pytest.mark.parametrize("evil", ['<b>', 'x"y', "{ }", "a\\Nb", "line\nbreak"])
def test_escape_dot_round_trips_through_graphviz(evil):
    """A quoted DOT string is drawn literally by Graphviz (no \\N expansion, no markup)."""
    if DOT is None:
        pytest.skip("Graphviz dot not installed")
    src = f"digraph {{ n [label={labels.escape_dot(evil)}] }}"
    svg = subprocess.run([DOT, "-Tsvg"], input=src, capture_output=True, text=True, check=True).stdout
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert texts == [evil.replace("\n", " ")]


@pytest.mark.parametrize("evil", ["<I>x</I>", "x&y", '"}]']
                         )
def test_label_with_markup_in_subscript_is_text(evil):
    """A subscript holding markup characters is escaped, not interpreted."""
    out = labels.html_label(Name("h", subs=(evil,)))
    assert "<I>x</I>" not in out.replace("<I>h</I>", "")
    assert labels.escape_html(evil) in out


@pytest.mark.parametrize("canonical", ["W_hh", "U^g", "c_tilde", "h_1", "theta_c", "b^f"])
def test_name_of_inverts_canonical(canonical):
    """Rebuilding a Name from its canonical spelling gives the same canonical spelling."""
    assert labels.name_of(canonical).canonical == canonical


@pytest.mark.parametrize("path", ["examples/lstm.rnn", "examples/lstm_goodfellow.rnn", "examples/gru.rnn"])
def test_every_symbol_label_is_valid_graphviz(path, tmp_path):
    """Every symbol label of the examples is accepted by Graphviz as an HTML-like label."""
    if DOT is None:
        pytest.skip("Graphviz dot not installed")
    with open(path, encoding="utf-8") as fh:
        model = load_model(fh.read(), path)
    nodes = "\n".join(f"n{i} [label={labels.dot_html(labels.html_label(s.display, 't'))}]"
                      for i, s in enumerate(model.symbols.values()))
    res = subprocess.run([DOT, "-Tsvg"], input=f"digraph {{\n{nodes}\n}}", capture_output=True, text=True)
    assert res.returncode == 0 and not res.stderr


@pytest.mark.parametrize("role", ["input", "state", "hidden", "output", "parameter"])
def test_every_role_has_a_look(role):
    """Every variable role has a palette entry, a shape and a font."""
    attrs = style.node_attrs(role)
    assert attrs["fillcolor"] == style.PALETTE[role].fill
    assert attrs["shape"] and attrs["fontname"] == style.FONT


def _lightness(hex_color: str) -> float:
    r, g, b = (int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_roles_differ_in_greyscale_or_shape():
    """Any two variable roles differ in shape or clearly in grey lightness, so print keeps them apart."""
    roles = ["input", "state", "hidden", "output", "parameter"]
    for i, a in enumerate(roles):
        for b in roles[i + 1:]:
            same_shape = style.SHAPES[a] == style.SHAPES[b]
            close = abs(_lightness(style.PALETTE[a].fill) - _lightness(style.PALETTE[b].fill)) < 0.04
            assert not (same_shape and close), (a, b)


def test_node_text_is_dark_on_pale_fill():
    """Node text has strong contrast with its fill, so it reads on any page color."""
    for role in ["input", "state", "hidden", "output", "parameter"]:
        c = style.PALETTE[role]
        assert _lightness(c.fill) - _lightness(c.text) > 0.6
