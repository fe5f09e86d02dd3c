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

__all__ = ["ASSETS", "BLOCK", "BlockOptionError", "OPTIONS", "PLACEHOLDER", "SHOWS", "VIEWS", "cache_key",
           "diagram", "error_box", "error_message", "finish", "load", "parse_header", "parse_options",
           "read_source", "render", "with_prefix", "wrap"]

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


def _name(key: str, v: str) -> str:
    if not _NAME.match(v or ""):
        raise BlockOptionError(f"{key}={v!r} must be a file stem of letters, digits, - _ .")
    return v


#: Option -> checker turning the written value into its Python value.
OPTIONS = {
    "view": _choice(*VIEWS), "unroll": _int(1, 100), "values": _bool, "grad": _text,
    "precision": _int(1, 12), "file": _text, "show": _choice(*SHOWS), "title": _text,
    "download": _name, "max_columns": _int(2, MAX_COLUMNS), "seed": _int(0, 2**31),
    "orient": _choice("horizontal", "vertical"),
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


def render(model, opts: dict) -> str:
    """The HTML of one block, with ids prefixed by :data:`PLACEHOLDER`."""
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
            raise BlockOptionError("show=gradnorms tabulates one sequence's steps; an encoder-decoder runs two (the "
                                   "encoder's T steps, then the decoder's T'): rnnviz plot --grad-norms draws "
                                   "each phase's, and view=unrolled with grad=TARGET the gradient through both")
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
    from ..diagrams.svginline import inline_svg

    drawn = diagram(model, opts)
    svg = drawn.svg(SVG_MEMO)
    if drawn.view == "unrolled" and model.phases is None:  # each step marked, for the page's step slider
        from ..diagrams.frames import stepped_svg

        svg = stepped_svg(svg)
    return inline_svg(_without_id_titles(svg), PLACEHOLDER, classes=("rnnviz-svg",))


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

        trace = forward(model, steps=steps, seed=int(opts.get("seed", 0)))
        kw["values"] = {(n, t): trace.value(n, t) for n in trace.names
                        for t in range(-4, trace.steps + 1) if trace.has(n, t)}
        if opts.get("grad"):
            from ..numeric.grad import gradients

            kw["grads"] = gradients(model, trace, str(opts["grad"])).nodes
            kw["grad_target"] = str(opts["grad"])
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
