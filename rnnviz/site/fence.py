"""The ``rnnviz`` Markdown fence: a ``pymdownx.superfences`` custom fence that draws, runs and writes HTML.

The fence is the core: a ``pymdownx.superfences`` custom fence whose block holds
equations (and values) and whose options in braces say what to show::

    ```rnnviz {view=unrolled unroll=4 values=true}
    h[t] = tanh(W h[t-1] + U x[t])
    ```

becomes an inline SVG at build time. ``show=`` picks something else than a diagram
(``math``, ``table``, ``plot``, ``params``, ``gates``, ``downloads``, ``legend``), ``file=`` reads
the equations from a file (relative to the folder of ``mkdocs.yml``). The plugin
(``plugins: [rnnviz]``) only registers the fence, ships the CSS and an offline copy
of KaTeX, and writes the download files. An unknown option stops the build; a block
with bad equations logs a warning (so ``mkdocs build --strict`` fails, naming the page
and line) and shows an error box in the page. Results are cached by content hash.
The options, the drawing and the error messages are :mod:`rnnviz.site.blocks`, which
the Sphinx directive and the Jupyter magic share; this module is the MkDocs side of it.

Example:
    >>> import markdown
    >>> md = markdown.Markdown(extensions=["pymdownx.superfences"], extension_configs={
    ...     "pymdownx.superfences": {"custom_fences": [FENCE]}})
    >>> out = md.convert("```rnnviz {show=math}\\nh[t] = tanh(W h[t-1])\\n```")
    >>> "\\\\tanh" in out and 'class="arithmatex' in out
    True
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from pymdownx.superfences import SuperFencesException

from ..errors import RnnvizError
from . import blocks
from .blocks import BLOCK as _BLOCK
from .blocks import ASSETS, OPTIONS, BlockOptionError

try:  # Inside MkDocs an unknown option aborts the build with a clean message.
    from mkdocs.exceptions import PluginError as _BuildError
except ImportError:  # pragma: no cover - the fence also works without MkDocs
    _BuildError = Exception  # type: ignore[misc,assignment]

__all__ = ["FENCE", "FenceOptionError", "fence_format", "fence_validator", "parse_options", "ASSETS", "OPTIONS"]

log = logging.getLogger("mkdocs.plugins.rnnviz")

class FenceOptionError(SuperFencesException, _BuildError):
    """An unknown option or a bad option value in a fence header (stops the build)."""


def parse_options(inputs: dict[str, str | None]) -> dict[str, object]:
    """Check the options of a fence header and convert their values (:func:`blocks.parse_options`).

    Example:
        >>> parse_options({"view": "unrolled", "unroll": "4", "values": None})
        {'view': 'unrolled', 'unroll': 4, 'values': True}
        >>> parse_options({"colour": "red"})
        Traceback (most recent call last):
        ...
        rnnviz.site.fence.FenceOptionError: rnnviz fence: unknown option 'colour'; known options: ...
    """
    try:
        return blocks.parse_options(inputs)
    except BlockOptionError as err:
        raise FenceOptionError(f"rnnviz fence: {err.message}") from None


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
        self.files_root: Path | None = None  # where file= may read; None: base_dir
        self.block_lines: dict[str, list[int]] = {}
        self.block_seen: dict[str, int] = {}  # block text -> how many blocks with it were formatted
        self.downloads: dict[str, tuple[str, str, dict]] = {}
        self.fullsize: dict[str, str] = {}  # file name -> stand-alone SVG of a wide diagram
        self.memory: dict[str, str] = {}
        #: While a site builds, the model of each block text read so far ((file name, text) ->
        #: Model); None outside a build. The plugin sets and clears it.
        self.models: dict[tuple[str, str], object] | None = None
        self.renders = 0  # how many blocks were really rendered (not from the cache)
        #: Cache key -> the future HTML of a block that a worker process renders ahead of its
        #: page (:mod:`rnnviz.site.worker`); the plugin fills it before the pages are built.
        self.ahead: dict = {}


CONTEXT = _Context()


def _source_of(src: str, opts: dict) -> tuple[str, str]:
    """(file name for messages, text): the block, after the ``file=`` contents if any."""
    if "file" not in opts:
        return _BLOCK, src
    return str(opts["file"]), read_block_file(str(opts["file"])) + ("\n" + src if src.strip() else "")


def read_block_file(name: str) -> str:
    """The text of ``file=NAME``, read by :func:`rnnviz.site.blocks.read_file_option` inside the
    plugin's ``files_root`` (the folder of ``mkdocs.yml`` by default)."""
    return blocks.read_file_option(name, CONTEXT.files_root or CONTEXT.base_dir)


_key = blocks.cache_key
_render = blocks.render


def _load(name: str, text: str):
    """The model of a block, read once per build for each text: a site shows one model in
    many blocks (its equations, its diagrams, its table, its plot) and downloads, and
    reading it is most of what a block that is not a picture costs (24 texts for 204
    blocks and downloads in the project's own site). Nothing downstream changes a model;
    what it remembers about itself (:meth:`Model.memo`) is then worked out once too."""
    models = CONTEXT.models
    if models is None:
        return blocks.load(name, text)
    key = (name, text)
    if key not in models:
        models[key] = blocks.load(name, text)  # an error is raised again for every block that has it
    return models[key]


_diagram = blocks.diagram


#: The last line of a cached block: a file without it was cut short and is rendered again.
_CACHE_END = "\n<!-- rnnviz cache entry end -->\n"


def _cached(key: str, make) -> str:
    if key in CONTEXT.memory:
        return CONTEXT.memory[key]
    path = CONTEXT.cache_dir / f"{key}.html" if CONTEXT.cache_dir else None
    out = cache_entry(key)
    if out is None:
        out = _from_worker(key)
        if out is None:
            out = make()
        CONTEXT.renders += 1
        if path is not None:
            cache_write(path, out + _CACHE_END)
    CONTEXT.memory[key] = out
    return out


def cache_entry(key: str) -> str | None:
    """The cached HTML of a block, or None: no cache, no entry, or one cut short or garbled."""
    if CONTEXT.cache_dir is None:
        return None
    try:
        entry = (CONTEXT.cache_dir / f"{key}.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # not there, unreadable, or garbled: render it
        return None
    return entry[: -len(_CACHE_END)] if entry.endswith(_CACHE_END) else None


def _from_worker(key: str) -> str | None:
    """The HTML a worker process rendered for this block, or None: it was not asked to, it has not
    started on it yet (the block is then drawn here, which is quicker than waiting), or it could
    not draw it cleanly (drawn here again, so that its messages are the page's)."""
    job = CONTEXT.ahead.pop(key, None)
    if job is None or job.cancel():
        return None
    try:
        return job.result()
    except Exception:  # pragma: no cover - the feeder sets a result whatever happens
        return None


def cache_write(path: Path, data: str | bytes) -> None:
    """Write a cache entry whole (temporary file and rename); a folder that cannot be written
    turns the cache off for this build, with one warning, and the blocks render without it."""
    from ..io import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as err:
        if CONTEXT.cache_dir is not None:
            log.warning("rnnviz: cannot write the cache folder %s (%s); building without the cache",
                        CONTEXT.cache_dir, err.strerror or err)
        CONTEXT.cache_dir = None


def _error_box(err: RnnvizError, src: str, opts: dict) -> str:
    """Log a warning naming the page and line (fails ``--strict``); return an error box."""
    starts = CONTEXT.block_lines.get(src.strip())
    if starts:  # the n-th block with this text on the page starts at the n-th of these lines
        nth = CONTEXT.block_seen.get(src.strip(), 1) - 1
        starts = starts[min(nth, len(starts) - 1):]
    msg = blocks.error_message(err, CONTEXT.page or _BLOCK, starts[0] if starts else None, opts)
    log.warning(msg)
    return blocks.error_box(msg)


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
    """A link to ``svg`` at full size when it is wide (the plugin writes the file); of a block
    with a copy for narrow screens, the wide drawing (the one in the download files)."""
    from ..diagrams.svginline import first_svg, standalone_svg, svg_width_pt

    svg = first_svg(svg)
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


def _thumbnail(name: str) -> str:
    """A small picture of a download (its SVG, on a white card), linking to it."""
    src = f"{_site_rel('downloads')}/{name}.svg"
    return (f'<a class="rnnviz-thumb" href="{src}" title="{html.escape(name)}.svg at its full size">'
            f'<img src="{src}" alt="the diagram {html.escape(name)}" loading="lazy"></a>')


def _drawing(text: str, opts: dict) -> tuple:
    """What a download file shows: the equations and the options that change the picture."""
    return text.strip(), sorted((k, str(v)) for k, v in opts.items()
                                if k not in ("show", "title", "download", "narrow"))


def _register_download(stem: str, name: str, text: str, opts: dict) -> None:
    """Remember a download; one stem for two different pictures is a mistake (fails --strict)."""
    opts = {k: v for k, v in opts.items() if k != "narrow"}  # the files hold the wide drawing only
    old = CONTEXT.downloads.get(stem)
    if old is None:
        CONTEXT.downloads[stem] = (name, text, opts, CONTEXT.page or _BLOCK)
    elif _drawing(old[1], old[2]) != _drawing(text, opts):  # the first one keeps the name
        log.warning("%s: rnnviz download=%s is already used for a different diagram (on %s); "
                    "the files would show only one of them", CONTEXT.page or _BLOCK, stem, old[3])


def fence_format(src, language, class_name, options, md, **kwargs) -> str:
    """superfences formatter: the block's HTML (diagram, math, table...) or an error box."""
    opts = dict(options or {})
    CONTEXT.block_seen[src.strip()] = CONTEXT.block_seen.get(src.strip(), 0) + 1
    try:
        name, text = _source_of(src, opts)
        key = _key(text, opts)
        body = _cached(key, lambda: _render(_load(name, text), opts, narrow=True))
        if "download" in opts:
            _register_download(str(opts["download"]), name, text, opts)
    except BlockOptionError as err:  # an option that only the block's content shows wrong
        raise FenceOptionError(f"rnnviz fence: {err.message}") from None
    except RnnvizError as err:
        return _error_box(err, src, opts)
    except ImportError as err:  # a part of rnnviz this version does not have yet
        log.info("rnnviz block on %s: %s", CONTEXT.page or "page", err)
        return f'<div class="admonition note rnnviz-missing"><p>Not available yet: {html.escape(str(err))}</p></div>'
    except Exception as err:  # a bug in rnnviz: still one page, one line, one box, not a dead build
        bug = RnnvizError(f"internal error ({type(err).__name__}: {err}); please report it with this block")
        log.debug("rnnviz block failed", exc_info=True)
        return _error_box(bug, src, opts)
    # Two blocks with the same content on one page must not share ids.
    body = blocks.with_prefix(body, key, md.__dict__.setdefault("_rnnviz_prefixes", set()))
    full = _full_size(key, body) if opts.get("show", "diagram") == "diagram" else ""
    links = _links(str(opts["download"])) if "download" in opts else ""
    if opts.get("show") == "downloads" and "download" in opts:
        body = _thumbnail(str(opts["download"])) + body  # a list of downloads shows what they hold
    if full:
        links = (links.replace('<p class="rnnviz-links">', f'<p class="rnnviz-links">{full} &middot; ', 1)
                 if links else f'<p class="rnnviz-links">{full}</p>')
    return blocks.wrap(body, opts, links)


#: The custom fence entry for ``pymdownx.superfences``' ``custom_fences``.
FENCE = {"name": "rnnviz", "class": "rnnviz", "format": fence_format, "validator": fence_validator}
