"""One rnnviz block to HTML: the core that the MkDocs fence, the Sphinx directive and the Jupyter magic share.

A block is equations (and values) plus options (``view=unrolled unroll=4 values``).
This module checks the options, reads the block, draws or runs what ``show=`` asks for
and wraps the result; each front end only says where the block came from, where its
errors go and where files land. There is one list of options, one way of turning a
diagram into inline SVG and one way of writing an error that points into the page.

Example:
    >>> opts = parse_options(parse_header("{show=math title='The cell'}"))
    >>> opts
    {'show': 'math', 'title': 'The cell'}
    >>> model = load(BLOCK, "h[t] = tanh(W h[t-1] + U x[t])")
    >>> html = finish(render(model, opts), cache_key("h[t] = ...", opts), set(), opts)
    >>> html.startswith('<div class="rnnviz rnnviz-math"><p class="rnnviz-title">The cell</p>')
    True
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shlex
import stat
from pathlib import Path

from ..errors import RnnvizError
from ..limits import MAX_COLUMNS, MAX_INPUT_BYTES
from ..version import version

__all__ = ["ASSETS", "BLOCK", "BlockOptionError", "NARROW_KEYS", "OPTIONS", "PLACEHOLDER", "SHOWS", "VIEWS",
           "cache_key", "diagram", "error_box", "error_message", "finish", "load", "narrow_breakpoint", "narrow_pair",
           "parse_header", "parse_options", "read_source", "render", "with_prefix", "wrap"]

VIEWS = ("folded", "unrolled", "cell", "cell-unrolled")
SHOWS = ("diagram", "math", "table", "plot", "params", "gates", "gradnorms", "downloads", "legend")
#: The file name of a block's own text in error messages (a front end replaces it by the page).
BLOCK = "<rnnviz block>"
#: Stands for a block's id prefix in rendered HTML until the page says which is free.
PLACEHOLDER = "rnnvizPREFIX"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: The CSS, JS and KaTeX files that a site with rnnviz blocks ships.
ASSETS = Path(__file__).parent / "assets"


class BlockOptionError(RnnvizError):
    """An unknown option or a bad option value in a block's header."""


def _int(lo: int, hi: int):
    def check(key: str, v: str) -> int:
        if not re.fullmatch(r"\d+", v or "") or not lo <= int(v) <= hi:
            raise BlockOptionError(f"{key}={v!r} must be a whole number from {lo} to {hi}")
        return int(v)
    return check


def _choice(*allowed: str):
    def check(key: str, v: str) -> str:
        if v not in allowed:
            raise BlockOptionError(f"{key}={v!r} is not one of {', '.join(allowed)}")
        return v
    return check


def _bool(key: str, v: str) -> bool:
    low = (v or "true").lower()
    if low in ("true", "yes", "1", "on", key):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise BlockOptionError(f"{key}={v!r} must be true or false")


def _text(key: str, v: str) -> str:
    if not v:
        raise BlockOptionError(f"{key} needs a value, as in {key}=\"...\"")
    return v


#: What ``narrow=`` may change in a block's narrow copy: how it is laid out and what it writes.
NARROW_KEYS = ("orient", "unroll", "values", "max_columns", "precision")


def _narrow(key: str, v: str) -> str | dict:
    """``narrow=auto``, ``narrow=off``, or the options of the narrow copy (``narrow="unroll=2"``)."""
    low = (v or "").strip().lower()
    if low in ("auto", "off"):
        return low
    if not low:
        raise BlockOptionError('narrow needs a value: auto, off, or the options of the copy for narrow '
                               'screens in quotes, as in narrow="orient=vertical unroll=2"')
    inner = parse_header(v)
    for k in inner:
        if k not in NARROW_KEYS:
            raise BlockOptionError(f"narrow= sets the {', '.join(NARROW_KEYS)} of the copy for narrow screens, "
                                   f"not '{k}'")
    return {k: OPTIONS[k](k, val) for k, val in inner.items()}


def _name(key: str, v: str) -> str:
    if not _NAME.match(v or ""):
        raise BlockOptionError(f"{key}={v!r} must be a file stem of letters, digits, - _ .")
    return v


#: Option -> checker turning the written value into its Python value.
OPTIONS = {
    "view": _choice(*VIEWS), "unroll": _int(1, 100), "values": _bool, "grad": _text,
    "precision": _int(1, 12), "file": _text, "show": _choice(*SHOWS), "title": _text,
    "download": _name, "max_columns": _int(2, MAX_COLUMNS), "seed": _int(0, 2**31),
    "orient": _choice("horizontal", "vertical"), "narrow": _narrow,
}


def parse_options(inputs: dict[str, str | None]) -> dict[str, object]:
    """Check the options of a block and convert their values (a bare flag is None).

    Example:
        >>> parse_options({"view": "unrolled", "unroll": "4", "values": None})
        {'view': 'unrolled', 'unroll': 4, 'values': True}
        >>> parse_options({"colour": "red"})
        Traceback (most recent call last):
        ...
        rnnviz.site.blocks.BlockOptionError: unknown option 'colour'; known options: view, ...
    """
    out: dict[str, object] = {}
    for key, value in inputs.items():
        if key not in OPTIONS:
            raise BlockOptionError(f"unknown option '{key}'; known options: " + ", ".join(OPTIONS))
        out[key] = OPTIONS[key](key, value)
    view = out.get("view", "folded")
    turned = [o for o in (out, out.get("narrow")) if isinstance(o, dict) and o.get("orient") == "vertical"]
    if turned and view in ("cell", "cell-unrolled"):
        raise BlockOptionError(f"orient=vertical turns the unrolled view (time runs down), not view={view}; "
                               "the cell views have no vertical layout")
    return out


def parse_header(text: str) -> dict[str, str | None]:
    """The options written after the block's name, as the fence writes them (braces optional).

    Example:
        >>> parse_header('{view=unrolled unroll=4 values title="Two steps"}')
        {'view': 'unrolled', 'unroll': '4', 'values': None, 'title': 'Two steps'}
        >>> parse_header("")
        {}
    """
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    try:
        words = shlex.split(text)
    except ValueError as err:  # an unclosed quote
        raise BlockOptionError(f"cannot read the options {text!r}: {err}") from None
    out: dict[str, str | None] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not key:
            raise BlockOptionError(f"'{word}' is no option; write key=value, as in view=unrolled")
        out[key] = value if eq else None
    return out


def read_source(src: str, opts: dict, base_dir: Path) -> tuple[str, str]:
    """(file name for messages, text): the block, after the ``file=`` contents (relative to ``base_dir``)."""
    if "file" not in opts:
        return BLOCK, src
    text = read_file_option(str(opts["file"]), base_dir)
    return str(opts["file"]), text + ("\n" + src if src.strip() else "")


def read_file_option(name: str, root: Path) -> str:
    """The text of ``file=NAME``: a regular file of at most MAX_INPUT_BYTES inside ``root``.

    A page must not publish what lies outside the site (``file=../../etc/passwd``,
    ``file=/proc/self/environ``), nor stop the build on a device or a pipe (``file=/dev/zero``);
    the error never quotes such a file.
    """
    root = Path(root).resolve()
    path = (root / name).resolve()
    if path != root and root not in path.parents:
        raise RnnvizError(f"file={name} is outside the folder rnnviz reads block files from ({root})",
                          hint="give a path inside it, or set the plugin's files_root option")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a pipe must not block the build
    except OSError as err:
        raise RnnvizError(f"cannot read file={name}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RnnvizError(f"file={name} is not a regular file")
        data = fh.read(MAX_INPUT_BYTES + 1)
    if info.st_size > MAX_INPUT_BYTES or len(data) > MAX_INPUT_BYTES:
        raise RnnvizError(f"file={name} is larger than {MAX_INPUT_BYTES // 1_000_000} MB", hint="a limit of rnnviz")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RnnvizError(f"file={name} is not a UTF-8 text file ({e.reason} at byte {e.start})") from None


_STAMP: list[str | None] = [None]


def _code_stamp() -> str:
    """Changes whenever rnnviz's own code changes, so a new version never reuses old drawings.

    Every module of the package counts (a change to the diagrams or the numbers changes
    what a block shows). It is worked out once, and again after :func:`forget_code_stamp`,
    which the MkDocs plugin calls when a build starts: a build stats the files once, not
    once per block.
    """
    if _STAMP[0] is None:
        package = Path(__file__).resolve().parent.parent
        files = sorted(package.rglob("*.py"))
        _STAMP[0] = ";".join(f"{f.relative_to(package).as_posix()}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                             for f in files)
    return _STAMP[0]


def forget_code_stamp() -> None:
    """Work the code stamp out again on next use (rnnviz's code may have changed since)."""
    _STAMP[0] = None


#: While a site builds, the SVG of every diagram drawn so far (:meth:`Diagram.svg`'s ``memo``):
#: a page and its download files, or two pages, that show one picture run Graphviz for it once.
#: None outside a build; the MkDocs plugin sets and clears it.
SVG_MEMO: dict | None = None


def cache_key(text: str, opts: dict) -> str:
    """A hash of everything that decides a block's HTML: rnnviz's version and code, text, options."""
    blob = json.dumps([version(), _code_stamp(), text, sorted((k, str(v)) for k, v in opts.items())])
    return hashlib.sha256(blob.encode()).hexdigest()


def load(name: str, text: str):
    """The model of a block (``name`` is the file its errors point into)."""
    from ..language import load_model

    return load_model(text, name)


def render(model, opts: dict, *, narrow: bool = False) -> str:
    """The HTML of one block, with ids prefixed by :data:`PLACEHOLDER`.

    ``narrow``: the page ships rnnviz.css (a site, not a notebook), so a diagram too small
    to read on a phone may come with a second drawing for narrow columns (:func:`narrow_pair`).
    """
    from . import htmlblocks

    show = opts.get("show", "diagram")
    precision = int(opts.get("precision", 3))
    if show == "math":
        return htmlblocks.math_html(model)
    if show == "gates":
        from ..language.gates import analyze

        found = analyze(model)
        return htmlblocks.gates_html(model, found.roles, found.cell_state)
    if show == "legend":
        return htmlblocks.legend_html(model)
    if show == "params":
        from ..numeric.shapes import parameter_shapes

        return htmlblocks.params_html(model, parameter_shapes(model))
    if show in ("table", "plot", "gradnorms"):
        from ..numeric.forward_pass import forward

        trace = forward(model, steps=opts.get("unroll"), seed=int(opts.get("seed", 0)))
        if model.phases is not None and show == "gradnorms":
            return _phased_gradnorms(model, trace, opts, precision)
        if model.phases is not None and show == "plot":
            from ..diagrams.plot import plot_phases

            return htmlblocks.plot_html(plot_phases(trace), PLACEHOLDER)
        if show == "table":
            return htmlblocks.table_html(model, trace, precision=precision)
        if show == "gradnorms":
            from ..numeric.grad import recurrent_spectra, state_grad_norms

            if "grad" not in opts:
                raise BlockOptionError("show=gradnorms needs grad=TARGET, as in grad=h[3]")
            from ..diagrams.plot import plot_grad_norms

            target = str(opts["grad"])
            norms = state_grad_norms(model, trace, target)
            table = htmlblocks.gradnorms_html(model, norms, recurrent_spectra(model, trace), target,
                                              precision=precision)
            return table + htmlblocks.plot_html(plot_grad_norms(norms, target, trace), PLACEHOLDER)
        from ..diagrams.plot import plot_steps

        return htmlblocks.plot_html(plot_steps(trace), PLACEHOLDER)
    if show == "downloads":
        return ""
    drawn = diagram(model, opts)
    svg = _inline(drawn, model, PLACEHOLDER)
    return narrow_pair(model, opts, drawn, svg) if narrow else svg


def _inline(drawn, model, prefix: str, extra: str = "") -> str:
    """A diagram as inline SVG: ids prefixed, each step marked for the step slider."""
    from ..diagrams.svginline import inline_svg

    svg = drawn.svg(SVG_MEMO)
    if drawn.view == "unrolled" and model.phases is None:  # each step marked, for the page's step slider
        from ..diagrams.frames import stepped_svg

        svg = stepped_svg(svg)
    svg = inline_svg(_without_id_titles(svg), prefix, classes=("rnnviz-svg",))
    return re.sub(r"<svg\b", f"<svg {extra}", svg, count=1) if extra else svg


#: The text column of a phone (a 400 px wide screen less the page's margins, as MkDocs
#: Material lays it out), and the smallest diagram text that reads there, in CSS pixels.
PHONE_COLUMN_PX = 368
READABLE_PX = 8.0
#: A narrow copy takes over below its block's breakpoint, rounded up to a multiple of
#: NARROW_STEP_PX from NARROW_MIN_PX to NARROW_MAX_PX; rnnviz.css has a rule for each.
NARROW_STEP_PX = 40
NARROW_MIN_PX = 320
NARROW_MAX_PX = 1400


def narrow_breakpoint(svg: str) -> int | None:
    """The column width (CSS px, rounded up to a step) below which ``svg``'s smallest text is
    under :data:`READABLE_PX`; None for a drawing without text.

    Example:
        >>> narrow_breakpoint('<svg viewBox="0 0 700 100" style="width:700pt"><text font-size="11">W</text></svg>')
        520
    """
    from ..diagrams.svginline import svg_smallest_text

    found = svg_smallest_text(svg)
    if found is None:
        return None
    font, box = found
    need = READABLE_PX * box / font  # rendered width at which the smallest text is READABLE_PX
    step = -(-int(need) // NARROW_STEP_PX) * NARROW_STEP_PX
    return max(NARROW_MIN_PX, min(NARROW_MAX_PX, step))


def narrow_pair(model, opts: dict, drawn, svg: str) -> str:
    """``svg``, or ``svg`` and a copy for narrow columns, which rnnviz.css shows instead below
    the column width where ``svg``'s text would fall under :data:`READABLE_PX`.

    ``narrow=auto`` (the default) gives an unrolled view drawn across the page, whose text
    is too small on a phone, its vertical layout (time runs down), when that reads larger;
    ``narrow="unroll=2 values=false"`` draws the copy with these options instead (and always
    ships it); ``narrow=off`` never. The copy's ids have a prefix of their own, and it is
    left out of the site's search index (the words are the wide drawing's).
    """
    from ..diagrams.svginline import svg_text_px

    mode = opts.get("narrow", "auto")
    wide_px = svg_text_px(svg, PHONE_COLUMN_PX)
    if mode == "off" or wide_px is None:
        return svg
    if mode == "auto":
        if drawn.view != "unrolled" or opts.get("orient", "horizontal") != "horizontal" or wide_px >= READABLE_PX:
            return svg
        mode = {"orient": "vertical"}
    try:
        other = _inline(diagram(model, {**opts, **mode}), model, PLACEHOLDER + "n", 'data-search-exclude=""')
    except RnnvizError as err:
        if opts.get("narrow", "auto") == "auto":
            return svg  # the wide drawing alone, as before there were copies
        said = " ".join(f"{k}={v}" for k, v in mode.items())
        raise BlockOptionError(f'narrow="{said}": the copy for narrow screens cannot be drawn: {err.message}') from None
    tall_px = svg_text_px(other, PHONE_COLUMN_PX)
    if opts.get("narrow", "auto") == "auto" and (tall_px is None or tall_px < wide_px * 1.05):
        return svg  # the vertical layout reads no better on a phone: one drawing
    from ..diagrams.svginline import svg_width_pt

    below = narrow_breakpoint(svg)
    # A query container has no width of its own contents: where the page sizes the block by
    # what it holds (beside text, in a flex row), it asks for the wide drawing's width.
    drawn_px = round((svg_width_pt(svg) or 0) * 4 / 3)
    steps, fewer = opts.get("unroll"), mode.get("unroll")
    if steps and fewer and fewer < steps:  # say so: the page around it may speak of every step
        other += (f'<p class="rnnviz-narrow-note" data-search-exclude="">Steps 1 to {fewer} of {steps} on a '
                  f"narrow screen; a wider one shows all {steps}.</p>")
    return (f'<div class="rnnviz-pair rnnviz-below-{below}" style="contain-intrinsic-inline-size:{drawn_px}px">'
            f'<div class="rnnviz-wide">{svg}</div><div class="rnnviz-tall">{other}</div></div>')


def _phased_gradnorms(model, trace, opts: dict, precision: int) -> str:
    """An encoder-decoder's show=gradnorms: a table per phase, each over its own steps (the encoder's
    t = 0..T, the decoder's t = 0..T'), the recurrent weights' spectra, then both phases on one plot."""
    from . import htmlblocks
    from ..diagrams.plot import plot_grad_norms_phased
    from ..numeric.grad import phased_state_grad_norms, recurrent_spectra

    if "grad" not in opts:
        raise BlockOptionError("show=gradnorms needs grad=TARGET, as in grad=o[2] (a decoder step)")
    target = str(opts["grad"])
    norms = phased_state_grad_norms(model, trace, target)
    spectra = recurrent_spectra(model, trace)
    steps = {"encoder": ("T", trace.steps), "decoder": ("T'", trace.decoder_steps)}
    tables = "".join(
        htmlblocks.gradnorms_html(model, mine, {}, target, precision=precision,
                                  caption=rf"\text{{{phase}: }} t = 0, \ldots, {steps[phase][0]} = {steps[phase][1]}")
        for phase, mine in norms.items() if mine)
    return (tables + htmlblocks.spectra_html(model, spectra, precision=precision)
            + htmlblocks.plot_html(plot_grad_norms_phased(norms, target, trace, spectra), PLACEHOLDER))


_ID_TITLE = re.compile(r'(<g id="[^"]*" class="(?:node|edge)\b[^"]*"[^>]*>\s*)<title>[^<]*</title>')


def _without_id_titles(svg: str) -> str:
    """Drop the ``<title>`` Graphviz gives each node and edge: it holds the internal id
    (``x@1->h@1``), which a page's search index would read as text. Hovering still
    shows each one's tooltip, said as a reader says it ("x at t = 1 → h at t = 1 (U)").

    Example:
        >>> _without_id_titles('<g id="e1" class="edge" data-step="1"><title>x@1&#45;&gt;h@1</title><a xlink:title="x → h"/></g>')
        '<g id="e1" class="edge" data-step="1"><a xlink:title="x → h"/></g>'
    """
    return _ID_TITLE.sub(r"\1", svg)


#: While a site builds, the diagram of each model and set of options drawn so far: a page's
#: picture and its download (``show`` and ``download`` aside, the same options) are one
#: diagram, built once. None outside a build; the MkDocs plugin sets and clears it.
DIAGRAM_MEMO: dict | None = None


def diagram(model, opts: dict):
    """The :class:`~rnnviz.diagrams.diagram.Diagram` that a block's options ask for."""
    if DIAGRAM_MEMO is None:
        return _diagram(model, opts)
    key = (id(model), tuple(sorted((k, str(v)) for k, v in opts.items() if k not in ("show", "download"))))
    if key not in DIAGRAM_MEMO:
        DIAGRAM_MEMO[key] = (model, _diagram(model, opts))  # the model kept alive: its id stays its own
    return DIAGRAM_MEMO[key][1]


def _diagram(model, opts: dict):
    from ..diagrams.diagram import draw

    steps = int(opts.get("unroll", 3))
    kw: dict = {"precision": int(opts.get("precision", 3))}
    if "max_columns" in opts:
        kw["max_columns"] = int(opts["max_columns"])
    if "orient" in opts:
        kw["orient"] = str(opts["orient"])
    if "title" in opts:
        kw["title"] = str(opts["title"])
    if opts.get("values") or opts.get("grad"):
        from ..numeric.forward_pass import forward

        # As `rnnviz draw --values` does: without unroll=, the steps of the file's sequences (an
        # encoder-decoder's T and T'), and the trace itself, which holds both phases' steps.
        trace = forward(model, steps=opts.get("unroll"), seed=int(opts.get("seed", 0)))
        steps = trace.steps
        kw["values"] = trace
        if opts.get("grad"):
            from ..numeric.grad import gradients

            kw["grads"] = gradients(model, trace, str(opts["grad"]))
    return draw(model, view=str(opts.get("view", "folded")), steps=steps, **kw)


def error_message(err: RnnvizError, where: str, first_line: int | None, opts: dict) -> str:
    """The error of a block as ``page:line:col: message``, its line with a caret, and the hint.

    ``first_line`` is the page line just before the block's text (the fence or directive
    line), when known. An error in a ``file=`` names that file's own line instead.

    Example:
        >>> try:
        ...     load(BLOCK, "h[t] = tahn(W h[t-1])")
        ... except RnnvizError as err:
        ...     print(error_message(err, "index.md", 6, {}).splitlines()[0])
        index.md:7:8: unknown function 'tahn'; did you mean tanh?
    """
    span = err.span
    if first_line is not None and span is not None and span.file == BLOCK and "file" not in opts:
        head = f"{where}:{first_line + span.line}:{span.column}: {err.message}"
        rest = [x for x in (err.excerpt(), f"  hint: {err.hint}" if err.hint else "") if x]
        return "\n".join([head, *rest])
    line = f":{first_line + 1}" if first_line is not None else ""
    return f"{where}{line}: rnnviz block: {err.format()}"


def error_box(message: str) -> str:
    """The box a page shows in place of a block that could not be drawn."""
    return ('<div class="admonition failure rnnviz-error"><p class="admonition-title">'
            f'rnnviz could not draw this block</p><pre><code>{html.escape(message)}</code></pre></div>')


def with_prefix(body: str, key: str, used: set[str]) -> str:
    """``body`` with its ids prefixed uniquely among the prefixes ``used`` on the page.

    Two blocks with the same content on one page get different prefixes.
    """
    prefix = f"r{key[:8]}"
    n = 1
    while prefix in used:
        n += 1
        prefix = f"r{key[:8]}-{n}"
    used.add(prefix)
    return body.replace(PLACEHOLDER, prefix)


def wrap(body: str, opts: dict, links: str = "") -> str:
    """A block's HTML in its ``<div>``, with its title (a diagram has its own) and ``links`` under it."""
    show = opts.get("show", "diagram")
    title = (f'<p class="rnnviz-title">{html.escape(str(opts["title"]))}</p>'
             if "title" in opts and show != "diagram" else "")
    return f'<div class="rnnviz rnnviz-{show}">{title}{body}{links}</div>'


def finish(body: str, key: str, used: set[str], opts: dict, links: str = "") -> str:
    """:func:`with_prefix` then :func:`wrap`: a rendered block ready for the page."""
    return wrap(with_prefix(body, key, used), opts, links)
