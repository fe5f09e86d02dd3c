"""Typeset symbol names as Graphviz HTML-like labels, safely escaped.

A symbol is shown as the books write it: ``h`` with subscript ``1`` and
superscript ``(t)``, Greek letters and accents as Unicode (``c`` with a
combining tilde), bold when the input wrote ``\\mathbf``. Everything that comes
from the input (names, captions, numbers) goes through :func:`escape_html`, so
no name can inject DOT, HTML or SVG markup.

The functions return the *inside* of an HTML-like label; wrap it with
:func:`dot_html` (``<...>``) when writing a DOT attribute.

Example:
    >>> from rnnviz.language.syntax import Name
    >>> html_label(Name("h", subs=("1",)), "t-1")
    '<I>h</I><FONT POINT-SIZE="11"><SUB>1</SUB></FONT><FONT POINT-SIZE="11"><SUP>(t−1)</SUP></FONT>'
    >>> plain_label(Name("c", accent="tilde"), 2)
    'c̃(2)'
    >>> escape_html('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
"""

from __future__ import annotations

from functools import lru_cache

from ..language.syntax import GREEK_LETTERS, Name
from . import style
from .style import SCRIPT_SIZE

__all__ = [
    "ACCENTS",
    "escape_html",
    "escape_dot",
    "dot_html",
    "HtmlLabel",
    "base_text",
    "time_text",
    "html_label",
    "html_name",
    "plain_label",
    "name_of",
    "caption_lines",
    "caption_html",
]

#: Accent of :class:`~rnnviz.language.syntax.Name` -> Unicode combining mark.
ACCENTS: dict[str, str] = {
    "tilde": "\u0303",
    "hat": "\u0302",
    "bar": "\u0304",
    "vec": "\u20d7",
    "fwd": "\u20d7",  # \overrightarrow: the forward chain of a bidirectional RNN
    "bwd": "\u20d6",  # \overleftarrow: the backward chain
    "check": "\u030c",
    "breve": "\u0306",
}

_MINUS = "\u2212"  # the typographic minus of t−1


def escape_html(text: object) -> str:
    """Escape text for the inside of a Graphviz HTML-like label (and for SVG/HTML).

    ``&``, ``<``, ``>``, quotes are entities; control characters (newlines
    included) become spaces, since a label is one line and Graphviz rejects
    raw control characters.

    Example:
        >>> escape_html("<b>{x}</b>\\n")
        '&lt;b&gt;{x}&lt;/b&gt; '
    """
    return str(text).translate(_HTML_ESCAPES)


#: What escape_html replaces: markup characters by entities, control characters by a space.
_HTML_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#39;",
                 **{c: " " for c in (*range(32), 127)}}


#: Control characters (below 32) -> a space, for str.translate.
_CONTROL_TO_SPACE = {c: " " for c in range(32)}


def escape_dot(text: object) -> str:
    """A double-quoted DOT string for ``text`` (quotes included).

    Backslashes are doubled so that Graphviz escapes such as ``\\N`` or ``\\G``
    in a name stay literal; newlines become spaces.

    Example:
        >>> print(escape_dot('say "hi" \\\\N'))
        "say \\"hi\\" \\\\N"
    """
    return _quoted(str(text))


@lru_cache(maxsize=8192)
def _quoted(s: str) -> str:
    # A diagram repeats the same colors, fonts and sizes on every node: quote each once.
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    if not s.isprintable():  # rare: only then look for control characters
        s = s.translate(_CONTROL_TO_SPACE)
    return f'"{s}"'


class HtmlLabel(str):
    """A DOT attribute value that is an HTML-like label (``<...>``), written unquoted.

    A distinct type, so that writers of DOT never mistake a plain value that
    happens to start with ``<`` (a name, a tooltip) for markup.
    """


def dot_html(inner: str) -> HtmlLabel:
    """Wrap the inside of an HTML-like label for a DOT attribute: ``<...>``.

    Graphviz expands escapes such as ``\\G`` (the graph's name) in HTML-like labels too;
    a backslash of the text is doubled so that it stays a backslash. The markup itself has none.

    Example:
        >>> dot_html("<I>x</I>")
        '<<I>x</I>>'
        >>> print(dot_html("A\\\\GB"))
        <A\\\\GB>
    """
    return HtmlLabel("<" + inner.replace("\\", "\\\\") + ">")


def base_text(name: Name) -> str:
    """The base letter(s) in Unicode, with the accent as a combining mark.

    Example:
        >>> base_text(Name("theta")), base_text(Name("y", accent="hat")) == "y\u0302"
        ('θ', True)
    """
    base = GREEK_LETTERS.get(name.base, name.base)
    if name.accent:
        base += ACCENTS.get(name.accent, "")
    return base


def time_text(time: str | int | None) -> str | None:
    """The superscript of a time: ``"t-1"`` -> ``"(t−1)"``, ``2`` -> ``"(2)"``.

    Strings that already carry their parentheses are kept (minus typeset).

    Example:
        >>> time_text("t"), time_text(0), time_text("(t+1)"), time_text(None)
        ('(t)', '(0)', '(t+1)', None)
    """
    if time is None:
        return None
    s = str(time).strip().replace("-", _MINUS).replace(" ", "")
    if not s:
        return None
    return s if s.startswith("(") else f"({s})"


def _script(tag: str, text: str) -> str:
    return f'<FONT POINT-SIZE="{SCRIPT_SIZE}"><{tag}>{escape_html(text)}</{tag}></FONT>'


def html_label(display: Name, time: str | int | None = None, *, bold: bool | None = None) -> str:
    """The inside of an HTML-like label that typesets ``display`` at ``time``.

    Args:
        display: the symbol as written (``Symbol.display``).
        time: ``None`` (folded views, parameters), ``"t"``, ``"t-1"``, or a
            step number; shown as a superscript in parentheses.
        bold: force bold on or off; by default bold when the input wrote it.

    Latin and lowercase Greek letters are italic (math style); uppercase
    Greek stays upright, as in LaTeX.

    Example:
        >>> html_label(Name("W", subs=("hh",)))
        '<I>W</I><FONT POINT-SIZE="11"><SUB>hh</SUB></FONT>'
        >>> html_label(Name("U", sups=("g",)))
        '<I>U</I><FONT POINT-SIZE="11"><SUP>g</SUP></FONT>'
        >>> html_label(Name("x", bold=True), 3)
        '<B><I>x</I></B><FONT POINT-SIZE="11"><SUP>(3)</SUP></FONT>'
    """
    base = escape_html(base_text(display))
    upright = display.base in GREEK_LETTERS and display.base[:1].isupper()
    out = base if upright else f"<I>{base}</I>"
    if display.bold if bold is None else bold:
        out = f"<B>{out}</B>"
    if display.subs:
        out += _script("SUB", ",".join(display.subs))
    sups = list(display.sups)
    t = time_text(time)
    if t is not None:
        sups.append(t)
    if sups:
        out += _script("SUP", ",".join(sups))
    return out


def html_name(canonical: str) -> str:
    """Typeset a canonical name (``W_hh``, ``U^g``, ``c_tilde``) without its :class:`Name`.

    For callers that only have the canonical string (JSON graphs, parameters
    of edges).

    Example:
        >>> html_name("W_hh")
        '<I>W</I><FONT POINT-SIZE="11"><SUB>hh</SUB></FONT>'
    """
    return html_label(name_of(canonical))


def name_of(canonical: str) -> Name:
    """Rebuild a :class:`Name` from a canonical spelling (inverse of ``Name.canonical``).

    Example:
        >>> name_of("c_tilde_1^g")
        Name(base='c', accent='tilde', subs=('1',), sups=('g',), time=None, bold=False)
    """
    head, *sups = canonical.split("^")
    base, *subs = head.split("_")
    accent = None
    if subs and subs[0] in ACCENTS:
        accent, subs = subs[0], subs[1:]
    return Name(base, accent, tuple(subs), tuple(sups))


def plain_label(display: Name, time: str | int | None = None) -> str:
    """A plain-text (Unicode) spelling, for tooltips, titles and alt text.

    Example:
        >>> plain_label(Name("h", subs=("1",)), "t")
        'h_1(t)'
    """
    out = base_text(display)
    if display.subs:
        out += "_" + ",".join(display.subs)
    if display.sups:
        out += "^" + ",".join(display.sups)
    t = time_text(time)
    return out + (t or "")


#: Characters per caption line: about 6 inches of 15 pt text, the width of a slide's body.
CAPTION_WIDTH = 60


def caption_lines(title: str, width: int = CAPTION_WIDTH) -> list[str]:
    """The lines of a caption: the title's own line breaks, then words wrapped at ``width`` into even lines.

    A long title is wrapped rather than widening the figure (which would shrink the
    diagram on a slide) or being cut; a word longer than ``width`` stays whole.

    Example:
        >>> caption_lines("LSTM", 10)
        ['LSTM']
        >>> caption_lines("the hidden state carries memory", 16)
        ['the hidden state', 'carries memory']
        >>> caption_lines("GRU: forward pass over six steps, with the values under each node", 60)
        ['GRU: forward pass over six steps,', 'with the values under each node']
        >>> caption_lines("one\\ntwo")
        ['one', 'two']
    """
    import textwrap

    def wrap(text: str, w: int) -> list[str]:
        return textwrap.wrap(text, w, break_long_words=False, break_on_hyphens=False) or [""]

    lines: list[str] = []
    for part in title.splitlines() or [""]:
        wrapped = wrap(part, width)
        # As many lines as needed, but of even length: no lone last word under a long line.
        for narrower in range(max(1, -(-len(part) // len(wrapped))), width if len(wrapped) > 1 else 0):
            if len(wrap(part, narrower)) == len(wrapped):
                wrapped = wrap(part, narrower)
                break
        lines.extend(wrapped)
    return lines


def caption_html(title: str, font: str, size: int, background: str, width: int = CAPTION_WIDTH) -> str:
    """Inside of the HTML-like label of a diagram's caption: wrapped lines on a pale box.

    The box keeps the caption legible where the page behind it is dark.

    Example:
        >>> caption_html("a < b", "Helvetica", 15, "#ffffff")
        '<TABLE BORDER="0" CELLPADDING="3" STYLE="rounded" BGCOLOR="#ffffff"><TR><TD><FONT FACE="Helvetica" POINT-SIZE="15">a &lt; b</FONT></TD></TR></TABLE>'
    """
    text = "<BR/>".join(escape_html(line) for line in caption_lines(title, width))
    return (f'<TABLE BORDER="0" CELLPADDING="3" STYLE="rounded" BGCOLOR="{background}"><TR><TD>'
            f'<FONT FACE="{font}" POINT-SIZE="{size}">{text}</FONT></TD></TR></TABLE>')


#: Attributes whose escapes Graphviz expands twice for SVG (a backslash needs four).
_EXPANDED_TWICE = frozenset({"tooltip", "edgetooltip", "headtooltip", "labeltooltip", "tailtooltip"})


def dot_attrs(d) -> str:
    """``[k=v, ...]`` with every value quoted, except HTML-like labels (:class:`HtmlLabel`).

    Example:
        >>> dot_attrs({"label": dot_html("<I>x</I>"), "tooltip": "<b>", "color": None})
        '[label=<<I>x</I>>, tooltip="<b>"]'
    """
    parts = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, HtmlLabel):
            parts.append(f"{k}={v}")
        elif k in _EXPANDED_TWICE:
            parts.append(f"{k}={_quoted(str(v).replace(chr(92), chr(92) * 2))}")
        else:  # escape_dot(v), called for every attribute of every node and edge
            parts.append(f"{k}={_quoted(v if type(v) is str else str(v))}")
    return "[" + ", ".join(parts) + "]"


def graph_header(graph_attrs: dict, title: str | None) -> list[str]:
    """The ``graph``/``node``/``edge`` default lines every rnnviz diagram starts with.

    A title becomes the caption on a pale box, legible on white and on dark pages.

    Example:
        >>> graph_header({"rankdir": "BT"}, None)[0]
        '  graph [rankdir="BT"];'
    """
    g = dict(graph_attrs)
    if title:
        g.update(label=dot_html(caption_html(title, style.FONT_TEXT, 15, style.LABEL_BG)),
                 labelloc="t", labeljust="c")
    return [
        f"  graph {dot_attrs(g)};",
        f"  node {dot_attrs({'fontname': style.FONT, 'fontsize': str(style.FONT_SIZE)})};",
        f"  edge {dot_attrs(style.edge_attrs())};",
    ]
