"""The ``rnnviz`` Markdown fence: a ``pymdownx.superfences`` custom fence that draws, runs and writes HTML.

The fence is the core: a ``pymdownx.superfences`` custom fence whose block holds
equations (and values) and whose options in braces say what to show::

    ```rnnviz {view=unrolled unroll=4 values=true}
    h[t] = tanh(W h[t-1] + U x[t])
    ```

becomes an inline SVG at build time. ``show=`` picks something else than a diagram
(``math``, ``table``, ``plot``, ``params``, ``gates``, ``downloads``), ``file=`` reads
the equations from a file (relative to the folder of ``mkdocs.yml``). The plugin
(``plugins: [rnnviz]``) only registers the fence, ships the CSS and an offline copy
of KaTeX, and writes the download files. An unknown option stops the build; a block
with bad equations logs a warning (so ``mkdocs build --strict`` fails, naming the page
and line) and shows an error box in the page. Results are cached by content hash.

Example:
    >>> import markdown
    >>> md = markdown.Markdown(extensions=["pymdownx.superfences"], extension_configs={
    ...     "pymdownx.superfences": {"custom_fences": [FENCE]}})
    >>> out = md.convert("```rnnviz {show=math}\\nh[t] = tanh(W h[t-1])\\n```")
    >>> "\\\\tanh" in out and 'class="arithmatex' in out
    True
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
from pathlib import Path

from pymdownx.superfences import SuperFencesException

from ..errors import RnnvizError
from ..version import version

try:  # Inside MkDocs an unknown option aborts the build with a clean message.
    from mkdocs.exceptions import PluginError as _BuildError
except ImportError:  # pragma: no cover - the fence also works without MkDocs
    _BuildError = Exception  # type: ignore[misc,assignment]

__all__ = ["FENCE", "FenceOptionError", "fence_format", "fence_validator", "parse_options", "ASSETS"]

log = logging.getLogger("mkdocs.plugins.rnnviz")

#: Files shipped into ``assets/rnnviz/`` of a site.
ASSETS = Path(__file__).parent / "assets"

_VIEWS = ("folded", "unrolled", "cell", "cell-unrolled")
_SHOWS = ("diagram", "math", "table", "plot", "params", "gates", "gradnorms", "downloads")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PLACEHOLDER = "rnnvizPREFIX"
_BLOCK = "<rnnviz block>"


class FenceOptionError(SuperFencesException, _BuildError):
    """An unknown option or a bad option value in a fence header (stops the build)."""


def _int(lo: int, hi: int):
    def check(key: str, v: str) -> int:
        if not re.fullmatch(r"\d+", v or "") or not lo <= int(v) <= hi:
            raise FenceOptionError(f"rnnviz fence: {key}={v!r} must be a whole number from {lo} to {hi}")
        return int(v)
    return check


def _choice(*allowed: str):
    def check(key: str, v: str) -> str:
        if v not in allowed:
            raise FenceOptionError(f"rnnviz fence: {key}={v!r} is not one of {', '.join(allowed)}")
        return v
    return check


def _bool(key: str, v: str) -> bool:
    low = (v or "true").lower()
    if low in ("true", "yes", "1", "on", key):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise FenceOptionError(f"rnnviz fence: {key}={v!r} must be true or false")


def _text(key: str, v: str) -> str:
    if not v:
        raise FenceOptionError(f"rnnviz fence: {key} needs a value, as in {key}=\"...\"")
    return v


def _name(key: str, v: str) -> str:
    if not _NAME.match(v or ""):
        raise FenceOptionError(f"rnnviz fence: {key}={v!r} must be a file stem of letters, digits, - _ .")
    return v


#: Option -> checker turning the written value into its Python value.
OPTIONS = {
    "view": _choice(*_VIEWS), "unroll": _int(1, 100), "values": _bool, "grad": _text,
    "precision": _int(1, 12), "file": _text, "show": _choice(*_SHOWS), "title": _text,
    "download": _name, "max_columns": _int(2, 1000), "seed": _int(0, 2**31),
}


def parse_options(inputs: dict[str, str | None]) -> dict[str, object]:
    """Check the options of a fence header and convert their values.

    Example:
        >>> parse_options({"view": "unrolled", "unroll": "4", "values": None})
        {'view': 'unrolled', 'unroll': 4, 'values': True}
        >>> parse_options({"colour": "red"})
        Traceback (most recent call last):
        ...
        rnnviz.site.fence.FenceOptionError: rnnviz fence: unknown option 'colour'; known options: ...
    """
    out: dict[str, object] = {}
    for key, value in inputs.items():
        if key not in OPTIONS:
            raise FenceOptionError(f"rnnviz fence: unknown option '{key}'; known options: "
                                   + ", ".join(OPTIONS))
        out[key] = OPTIONS[key](key, value)
    return out


def fence_validator(language, inputs, options, attrs, md) -> bool:
    """superfences validator: every header option must be known and well-formed."""
    options.update(parse_options(inputs))
    return True


class _Context:
    """What the plugin tells the fence about the current build (page, folders)."""

    def __init__(self) -> None:
        self.base_dir = Path.cwd()
        self.cache_dir: Path | None = None
        self.page: str | None = None
        self.page_url = ""
        self.block_lines: dict[str, list[int]] = {}
        self.downloads: dict[str, tuple[str, str, dict]] = {}
        self.fullsize: dict[str, str] = {}  # file name -> stand-alone SVG of a wide diagram
        self.memory: dict[str, str] = {}
        self.renders = 0  # how many blocks were really rendered (not from the cache)


CONTEXT = _Context()


def _source_of(src: str, opts: dict) -> tuple[str, str]:
    """(file name for messages, text): the block, after the ``file=`` contents if any."""
    if "file" not in opts:
        return _BLOCK, src
    path = (CONTEXT.base_dir / str(opts["file"])).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RnnvizError(f"cannot read file={opts['file']}: {err.strerror}") from None
    return str(opts["file"]), text + ("\n" + src if src.strip() else "")


def _code_stamp() -> str:
    """Changes whenever rnnviz's own code changes, so a new version never reuses old drawings."""
    files = sorted(Path(__file__).parent.glob("*.py"))
    return ";".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)


def _key(text: str, opts: dict) -> str:
    blob = json.dumps([version(), _code_stamp(), text, sorted((k, str(v)) for k, v in opts.items())])
    return hashlib.sha256(blob.encode()).hexdigest()


def _load(name: str, text: str, opts: dict):
    from ..language import load_model

    return load_model(text, name)


def _render(model, opts: dict) -> str:
    """The HTML of one block, with ids prefixed by the placeholder."""
    from . import htmlblocks

    show = opts.get("show", "diagram")
    precision = int(opts.get("precision", 3))
    if show == "math":
        return htmlblocks.math_html(model)
    if show == "gates":
        from ..language.gates import analyze

        found = analyze(model)
        return htmlblocks.gates_html(model, found.roles, found.cell_state)
    if show == "params":
        from ..numeric.shapes import parameter_shapes

        return htmlblocks.params_html(model, parameter_shapes(model))
    if show in ("table", "plot", "gradnorms"):
        from ..numeric.forward_pass import forward

        trace = forward(model, steps=opts.get("unroll"), seed=int(opts.get("seed", 0)))
        if show == "table":
            return htmlblocks.table_html(model, trace, precision=precision)
        if show == "gradnorms":
            from ..numeric.grad import recurrent_spectra, state_grad_norms

            if "grad" not in opts:
                raise FenceOptionError("rnnviz fence: show=gradnorms needs grad=TARGET, as in grad=h[3]")
            from ..diagrams.plot import plot_grad_norms

            target = str(opts["grad"])
            norms = state_grad_norms(model, trace, target)
            table = htmlblocks.gradnorms_html(model, norms, recurrent_spectra(model, trace), target,
                                              precision=precision)
            return table + htmlblocks.plot_html(plot_grad_norms(norms, target, trace), _PLACEHOLDER)
        from ..diagrams.plot import plot_steps

        return htmlblocks.plot_html(plot_steps(trace), _PLACEHOLDER)
    if show == "downloads":
        return ""
    diagram = _diagram(model, opts)
    from ..diagrams.svginline import inline_svg

    svg = diagram.svg()
    if diagram.view == "unrolled":  # each step marked, for the page's step slider
        from ..diagrams.frames import stepped_svg

        svg = stepped_svg(svg)
    return inline_svg(svg, _PLACEHOLDER, classes=("rnnviz-svg",))


def _diagram(model, opts: dict):
    from ..diagrams.diagram import draw

    steps = int(opts.get("unroll", 3))
    kw: dict = {"precision": int(opts.get("precision", 3))}
    if "max_columns" in opts:
        kw["max_columns"] = int(opts["max_columns"])
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


def _cached(key: str, make) -> str:
    if key in CONTEXT.memory:
        return CONTEXT.memory[key]
    path = CONTEXT.cache_dir / f"{key}.html" if CONTEXT.cache_dir else None
    if path is not None and path.is_file():
        out = path.read_text(encoding="utf-8")
    else:
        out = make()
        CONTEXT.renders += 1
        if path is not None:
            from ..io import write_atomic

            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, out)
    CONTEXT.memory[key] = out
    return out


def _error_box(err: RnnvizError, src: str, opts: dict) -> str:
    """Log a warning naming the page and line (fails ``--strict``); return an error box."""
    where = CONTEXT.page or "<rnnviz block>"
    starts = CONTEXT.block_lines.get(src.strip())
    span = err.span
    in_block = span is not None and span.file == _BLOCK and "file" not in opts
    if starts and in_block:
        head = f"{where}:{starts[0] + span.line}:{span.column}: {err.message}"
        rest = [x for x in (err.excerpt(), f"  hint: {err.hint}" if err.hint else "") if x]
        msg = "\n".join([head, *rest])
    else:
        line = f":{starts[0]}" if starts else ""
        msg = f"{where}{line}: rnnviz block: {err.format()}"
    log.warning(msg)
    return ('<div class="admonition failure rnnviz-error"><p class="admonition-title">'
            f'rnnviz could not draw this block</p><pre><code>{html.escape(msg)}</code></pre></div>')


#: Diagrams wider than this (points) are scaled down in a page column (about 640 px
#: at a laptop width), so they get a link to the picture at full size.
FULL_SIZE_PT = 480
#: Where the full-size pictures go in the site.
FULL_SIZE_DIR = "assets/rnnviz/full"


def _site_rel(path: str) -> str:
    """``path`` (from the site root) relative to the current page's URL."""
    if not CONTEXT.page:
        return path
    url = CONTEXT.page_url
    folder = url if url.endswith("/") or not url else os.path.dirname(url)
    return os.path.relpath(path, folder.rstrip("/") or ".").replace(os.sep, "/")


def _full_size(key: str, svg: str) -> str:
    """A link to ``svg`` at full size when it is wide (the plugin writes the file)."""
    from ..diagrams.svginline import standalone_svg, svg_width_pt

    width = svg_width_pt(svg)
    if not CONTEXT.page or width is None or width <= FULL_SIZE_PT:
        return ""
    name = f"{key[:16]}.svg"
    CONTEXT.fullsize[name] = standalone_svg(svg)
    return (f'<a class="rnnviz-fullsize" href="{_site_rel(FULL_SIZE_DIR)}/{name}" target="_blank" '
            'title="The diagram alone, at its full size (zoom in your browser)">Open full size</a>')


def _links(name: str) -> str:
    rel = _site_rel("downloads")
    items = " &middot; ".join(f'<a href="{rel}/{name}.{ext}" download>{ext.upper()}</a>'
                              for ext in ("svg", "png", "pdf"))
    return f'<p class="rnnviz-links">Download <code>{html.escape(name)}</code>: {items}</p>'


def _drawing(text: str, opts: dict) -> tuple:
    """What a download file shows: the equations and the options that change the picture."""
    return text.strip(), sorted((k, str(v)) for k, v in opts.items() if k not in ("show", "title", "download"))


def _register_download(stem: str, name: str, text: str, opts: dict) -> None:
    """Remember a download; one stem for two different pictures is a mistake (fails --strict)."""
    old = CONTEXT.downloads.get(stem)
    if old is None:
        CONTEXT.downloads[stem] = (name, text, opts, CONTEXT.page or _BLOCK)
    elif _drawing(old[1], old[2]) != _drawing(text, opts):  # the first one keeps the name
        log.warning("%s: rnnviz download=%s is already used for a different diagram (on %s); "
                    "the files would show only one of them", CONTEXT.page or _BLOCK, stem, old[3])


def fence_format(src, language, class_name, options, md, **kwargs) -> str:
    """superfences formatter: the block's HTML (diagram, math, table...) or an error box."""
    opts = dict(options or {})
    try:
        name, text = _source_of(src, opts)
        key = _key(text, opts)
        model = None

        def make() -> str:
            nonlocal model
            model = _load(name, text, opts)
            return _render(model, opts)

        body = _cached(key, make)
        if "download" in opts:
            _register_download(str(opts["download"]), name, text, opts)
    except RnnvizError as err:
        return _error_box(err, src, opts)
    except ImportError as err:  # a part of rnnviz this version does not have yet
        log.info("rnnviz block on %s: %s", CONTEXT.page or "page", err)
        return f'<div class="admonition note rnnviz-missing"><p>Not available yet: {html.escape(str(err))}</p></div>'
    except FenceOptionError:
        raise
    except Exception as err:  # a bug in rnnviz: still one page, one line, one box, not a dead build
        bug = RnnvizError(f"internal error ({type(err).__name__}: {err}); please report it with this block")
        log.debug("rnnviz block failed", exc_info=True)
        return _error_box(bug, src, opts)
    # Two blocks with the same content on one page must not share ids.
    used = md.__dict__.setdefault("_rnnviz_prefixes", set())
    prefix = f"r{key[:8]}"
    n = 1
    while prefix in used:
        n += 1
        prefix = f"r{key[:8]}-{n}"
    used.add(prefix)
    body = body.replace(_PLACEHOLDER, prefix)
    title = f'<p class="rnnviz-title">{html.escape(str(opts["title"]))}</p>' if "title" in opts and \
        opts.get("show", "diagram") != "diagram" else ""
    show = opts.get("show", "diagram")
    full = _full_size(key, body) if show == "diagram" else ""
    links = _links(str(opts["download"])) if "download" in opts else ""
    if full:
        links = (links.replace('<p class="rnnviz-links">', f'<p class="rnnviz-links">{full} &middot; ', 1)
                 if links else f'<p class="rnnviz-links">{full}</p>')
    return f'<div class="rnnviz rnnviz-{show}">{title}{body}{links}</div>'


#: The custom fence entry for ``pymdownx.superfences``' ``custom_fences``.
FENCE = {"name": "rnnviz", "class": "rnnviz", "format": fence_format, "validator": fence_validator}
