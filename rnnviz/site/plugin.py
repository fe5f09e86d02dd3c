"""The MkDocs plugin ``rnnviz``: registers the fence, ships CSS, JS and KaTeX, writes downloads.

Two lines of ``mkdocs.yml`` are enough::

    plugins:
      - rnnviz

Options: ``katex`` (default true: typeset ``$...$`` math with the KaTeX copy shipped in
rnnviz, no CDN), ``cache`` (default true) and ``cache_dir`` (default ``.cache/rnnviz``,
relative to ``mkdocs.yml``), ``dpi`` of the PNG downloads (default 200), ``files_root`` (default
``.``, the folder of ``mkdocs.yml``: the folder whose files ``file=`` may read).

Example:
    >>> plugin = RnnvizPlugin()
    >>> sorted(dict(plugin.config_scheme))
    ['cache', 'cache_dir', 'dpi', 'files_root', 'katex']
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from ..errors import RnnvizError
from ..io import write_atomic
from . import blocks, fence

__all__ = ["RnnvizPlugin", "fence_lines"]

_FENCE_START = re.compile(r"^(?P<indent>[ \t>]*)(?P<fence>`{3,}|~{3,})[ \t]*\.?rnnviz\b.*$")
_CSS = ["assets/rnnviz/rnnviz.css"]
_JS = ["assets/rnnviz/rnnviz.js", "assets/rnnviz/rnnviz-steps.js"]
_KATEX_CSS = ["assets/rnnviz/katex.min.css"]
_KATEX_JS = ["assets/rnnviz/katex.min.js", "assets/rnnviz/rnnviz-math.js"]


def _fences(markdown: str):
    """(1-based start line, header after the fence's name, block text) of every rnnviz fence,
    the block's lines without the fence's indent (or quote marks)."""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE_START.match(lines[i])
        if not m:
            i += 1
            continue
        start, close, indent = i + 1, m.group("fence"), len(m.group("indent"))
        header = lines[i][m.end("fence"):].strip().lstrip(".")[len("rnnviz"):].strip()
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(close):
            body.append(lines[i][indent:])
            i += 1
        yield start, header, "\n".join(body)
        i += 1


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(header after the fence's name, block text) of every rnnviz fence of ``markdown``.

    Example:
        >>> fenced_blocks("```rnnviz {view=cell download=x}\\nh[t] = W h[t-1]\\n```\\n")
        [('{view=cell download=x}', 'h[t] = W h[t-1]')]
    """
    return [(header, body) for _, header, body in _fences(markdown)]


def fence_lines(markdown: str) -> dict[str, list[int]]:
    """Block text (stripped) -> the 1-based page lines where rnnviz fences with it start.

    Example:
        >>> fence_lines("# A\\n\\n```rnnviz\\nh[t] = W h[t-1]\\n```\\n")
        {'h[t] = W h[t-1]': [3]}
    """
    out: dict[str, list[int]] = {}
    for start, _, body in _fences(markdown):
        out.setdefault(body.strip(), []).append(start)
    return out


class RnnvizPlugin(BasePlugin):
    """Registers the ``rnnviz`` fence; ships the CSS (and KaTeX); writes download files."""

    config_scheme = (
        ("katex", c.Type(bool, default=True)),
        ("cache", c.Type(bool, default=True)),
        ("cache_dir", c.Type(str, default=".cache/rnnviz")),
        ("dpi", c.Type(int, default=200)),
        ("files_root", c.Type(str, default=".")),
    )

    def on_config(self, config, **kwargs):
        exts = config.markdown_extensions
        mdx = config.mdx_configs
        if "pymdownx.superfences" not in exts:
            exts.append("pymdownx.superfences")
        fences = mdx.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
        if not any(f.get("name") == "rnnviz" for f in fences):
            fences.append(dict(fence.FENCE))
        base = Path(config.config_file_path or ".").resolve().parent
        fence.CONTEXT.base_dir = base
        fence.CONTEXT.files_root = (base / self.config["files_root"]).resolve()
        fence.CONTEXT.cache_dir = (base / self.config["cache_dir"]) if self.config["cache"] else None
        blocks.forget_code_stamp()  # rnnviz's code may have changed since the last build
        blocks.SVG_MEMO = {}  # each picture drawn once in this build
        fence.CONTEXT.models = {}  # and each block text read once
        blocks.DIAGRAM_MEMO = {}  # and each diagram built once
        self._stop_downloads()  # a build stopped half-way (mkdocs serve) leaves nothing behind
        fence.CONTEXT.downloads = {}
        fence.CONTEXT.fullsize = {}
        extra_css = list(_CSS)
        if self.config["katex"]:
            if "pymdownx.arithmatex" not in exts:
                exts.append("pymdownx.arithmatex")
            mdx.setdefault("pymdownx.arithmatex", {})["generic"] = True
            extra_css = _KATEX_CSS + extra_css
            for js in _KATEX_JS:
                if js not in config.extra_javascript:
                    config.extra_javascript.append(js)
        for js in _JS:
            if js not in config.extra_javascript:
                config.extra_javascript.append(js)
        for css in extra_css:
            if css not in config.extra_css:
                config.extra_css.append(css)
        return config

    def on_files(self, files, config, **kwargs):
        fences = list(_page_fences(files))  # the pages' sources, read once for both
        self._foresee_plots(fences)
        self._foresee_downloads(fences)
        return files

    def on_page_markdown(self, markdown, page, config, files, **kwargs):
        fence.CONTEXT.page = page.file.src_uri
        fence.CONTEXT.page_url = page.url
        fence.CONTEXT.block_lines = fence_lines(markdown)
        fence.CONTEXT.block_seen = {}
        return markdown

    def on_page_content(self, html, page, config, files, **kwargs):
        # The page's downloads start drawing now, in Graphviz processes on the other core,
        # while the next pages (and their plots) are built.
        self._start_downloads()
        return html

    def on_post_template(self, output_content, template_name, config, **kwargs):
        """The pages made from templates alone (404) have no math either."""
        return self.on_post_page(output_content, None, config)

    def on_post_page(self, output, page, config, **kwargs):
        """A page with no math loads no KaTeX: its scripts and style sheet are taken out."""
        if not self.config["katex"] or 'class="arithmatex' in output:
            return output
        for asset in _KATEX_CSS + _KATEX_JS:
            name = re.escape(asset.rsplit("/", 1)[1])
            output = re.sub(rf'\s*<link[^>]*href="[^"]*{name}"[^>]*>', "", output)
            output = re.sub(rf'\s*<script[^>]*src="[^"]*{name}"[^>]*>\s*</script>', "", output)
        return output

    def on_env(self, env, config, files, **kwargs):
        self._stop_worker()  # every page is built: what the worker has left, nobody takes
        return env

    def on_post_build(self, config, **kwargs):
        site = Path(config.site_dir)
        dest = site / "assets" / "rnnviz"
        dest.mkdir(parents=True, exist_ok=True)
        for path in fence.ASSETS.iterdir():
            if path.is_file() and (self.config["katex"] or not path.name.lower().startswith("katex")):
                shutil.copyfile(path, dest / path.name)
        if fence.CONTEXT.fullsize:
            full = site / fence.FULL_SIZE_DIR
            full.mkdir(parents=True, exist_ok=True)
            for name, svg in fence.CONTEXT.fullsize.items():
                (full / name).write_text(svg, encoding="utf-8")
        self._write_downloads(site / "downloads")
        fence.CONTEXT.page = None
        blocks.SVG_MEMO = None
        blocks.DIAGRAM_MEMO = None
        fence.CONTEXT.models = None

    def on_build_error(self, error, **kwargs):
        self._stop_worker()
        self._stop_downloads()
        blocks.SVG_MEMO = None
        blocks.DIAGRAM_MEMO = None
        fence.CONTEXT.models = None

    def _foresee_plots(self, fences) -> None:
        """Hand the pages' plot blocks to a worker process, which draws them while the pages are built.

        matplotlib is most of what a cold build spends in its own process (the project's site:
        13 plots, about 7 s of 15), one block after the other; the worker (:mod:`rnnviz.site.worker`)
        draws them on the other core. ``fences`` (:func:`_page_fences`) are read for
        ``show=plot`` or ``show=gradnorms`` blocks that the cache does not hold; each page still
        renders its own blocks, and takes the worker's HTML only for a block with the very same
        text and options (the cache key), so a fence read wrongly here costs a plot nobody takes.
        """
        self._stop_worker()
        jobs = {}
        for name, text, opts in fences:
            if opts.get("show") in _AHEAD:
                key = fence._key(text, opts)
                if key not in jobs and fence.cache_entry(key) is None:
                    jobs[key] = (name, text, opts)
        if len(jobs) < _AHEAD_MIN:
            return
        from .worker import BlockWorker

        try:
            self._worker = BlockWorker()
        except OSError as err:  # no second process: the pages draw their plots themselves
            fence.log.debug("rnnviz: no worker process (%s)", err)
            return
        fence.CONTEXT.ahead = {key: self._worker.submit(*job) for key, job in jobs.items()}
        self._ahead = list(fence.CONTEXT.ahead.values())

    def _stop_worker(self) -> None:
        worker = self.__dict__.pop("_worker", None)
        fence.CONTEXT.ahead = {}
        if worker is not None:
            worker.close()
            jobs = self.__dict__.pop("_ahead", [])
            drawn = sum(1 for job in jobs if not job.cancelled() and job.result() is not None)
            fence.log.debug("rnnviz: %d of %d plots drawn ahead by the worker process", drawn, len(jobs))

    def _foresee_downloads(self, fences) -> None:
        """Start drawing, before any page is built, the downloads that the pages' fences ask for.

        Most downloads of a site are listed on one page (the project's: "For teachers", late
        in its navigation): drawn only once that page is built, their PNG files (most of a
        build's Graphviz time) would be left to draw after the last page. ``fences``
        (:func:`_page_fences`) are read for ``download=``, and those drawings start at once in the
        download pool, the largest first. What the fences register when their pages are built
        still decides what is written: a drawing foreseen here is used only by a download
        that shows that very picture, and a fence read wrongly here (one quoted inside a
        code example, say) costs a drawing that nobody takes.
        """
        state = self.__dict__.setdefault("_downloads", {})
        foreseen = []
        for name, text, opts in fences:
            if "download" not in opts:
                continue
            try:
                todo = [ext for ext, _, whole in self._cached_files(text, opts, read=False) if not whole]
                if todo:
                    diagram = fence._diagram(fence._load(name, text), opts)
                    foreseen.append(((name, text, _opts_key(opts)), diagram, todo))
            except Exception:  # the fence says what is wrong when its page is built
                continue
        drawings = state.setdefault("_foreseen", {})
        for key, diagram, todo in sorted(foreseen, key=lambda kdt: -len(kdt[1].dot())):  # the largest first
            drawings[key] = diagram
            self._draw(diagram, todo)

    def _cached_files(self, text: str, opts: dict, *, read: bool = True) -> list:
        """(ext, cached file, bytes of the cached file or None) of each format of a download
        (without ``read``: True in place of the bytes)."""
        key = fence._key(text, {**opts, "dpi": self.config["dpi"]})
        files = []
        for ext in ("svg", "png", "pdf"):
            cached = fence.CONTEXT.cache_dir / f"{key}.{ext}" if fence.CONTEXT.cache_dir else None
            if cached is not None and _complete(cached, ext):  # a whole file, not a cut-short copy
                files.append((ext, cached, cached.read_bytes() if read else True))
            else:
                files.append((ext, cached, None))
        return files

    def _draw(self, diagram, todo: list[str]):
        """The rendering of ``diagram`` in the formats ``todo``, started in the download pool
        unless one of the same picture is there already."""
        if self.__dict__.get("_pool") is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rnnviz-download")
        jobs = self.__dict__.setdefault("_downloads", {}).setdefault("_jobs", {})  # (DOT, title, formats) ->
        same = (diagram.dot(), diagram.alt, tuple(todo))
        if same not in jobs:
            jobs[same] = self._pool.submit(_render_files, diagram, list(todo), self.config["dpi"], blocks.SVG_MEMO)
        return jobs[same]

    def _start_downloads(self) -> None:
        """Start drawing the downloads registered so far (SVG, PNG, PDF; cached by content hash).

        The diagrams are built here, one after the other (the parser is shared); the files
        are rendered by a pool of two threads, each running a Graphviz process, so that
        they are drawn on the other core while the pages are built. A download showing a
        diagram of a page takes that SVG, and two downloads of one picture render it once.
        """
        state = self.__dict__.setdefault("_downloads", {})
        if "_failed" in state:
            return
        foreseen = state.get("_foreseen", {})
        for name, (file, text, opts, _page) in sorted(fence.CONTEXT.downloads.items()):
            if name in state:
                continue
            files = self._cached_files(text, opts)
            state[name] = (files, None)
            if all(data is not None for _, _, data in files):
                continue
            try:
                diagram = foreseen.get((file, text, _opts_key(opts))) or fence._diagram(fence._load(file, text), opts)
            except RnnvizError as err:
                state[name] = (files, err)
                continue
            except ImportError as err:  # a part of rnnviz this version does not have yet
                state["_failed"] = ([], err)
                return
            except Exception as err:  # a bug: name the download, keep building the rest
                state[name] = (files, err)
                continue
            state[name] = (files, self._draw(diagram, [ext for ext, _, data in files if data is None]))

    def _stop_downloads(self) -> None:
        pool = self.__dict__.pop("_pool", None)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.__dict__.pop("_downloads", None)

    def _write_downloads(self, folder: Path) -> None:
        """Write the SVG, PNG and PDF of every block with ``download=NAME``, in name order."""
        if not fence.CONTEXT.downloads:
            self._stop_downloads()
            return
        self._start_downloads()  # any not started yet
        state = self.__dict__.get("_downloads", {})
        try:
            if "_failed" in state:
                fence.log.info("rnnviz: no download files: %s", state["_failed"][1])
                return
            folder.mkdir(parents=True, exist_ok=True)
            for name in sorted(fence.CONTEXT.downloads):
                files, job = state[name]  # job: None (all cached), the failure, or the rendering
                try:
                    if isinstance(job, BaseException):
                        raise job
                    rendered = job.result() if job is not None else {}
                except RnnvizError as err:
                    raise PluginError(f"rnnviz: download '{name}': {err.format()}") from None
                except ImportError as err:
                    fence.log.info("rnnviz: no download files: %s", err)
                    return
                except Exception as err:  # a bug: name the download, keep building the rest
                    fence.log.warning("rnnviz: download '%s' failed: %s: %s", name, type(err).__name__, err)
                    continue
                for ext, cached, data in files:
                    if data is None:
                        data = rendered[ext]
                        if cached is not None:
                            fence.cache_write(cached, data)  # whole, or not at all
                    write_atomic(folder / f"{name}.{ext}", data)
        finally:
            self._stop_downloads()


def _page_fences(files):
    """(file name, text, options) of every rnnviz fence in the pages' sources, read before any
    page is built. A source that cannot be read and a fence whose options or ``file=`` are wrong
    are left out: the fence says what is wrong when its page is built."""
    for file in files.documentation_pages():
        try:
            source = file.content_string
        except (OSError, UnicodeDecodeError):
            continue
        if "rnnviz" not in source:
            continue
        for header, body in fenced_blocks(source):
            try:
                opts = blocks.parse_options(blocks.parse_header(header))
                yield (*fence._source_of(body, opts), opts)
            except Exception:
                continue


#: The blocks that a worker process draws ahead of their pages: the plots (matplotlib).
_AHEAD = ("plot", "gradnorms")
#: Fewer plots than this are drawn in the pages' process: starting the worker (Python,
#: numpy, matplotlib: about a second of the other core) would cost more than it saves.
_AHEAD_MIN = 2


def _opts_key(opts: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in opts.items()))


def _render_files(diagram, formats: list[str], dpi: int, memo: dict | None = None) -> dict[str, bytes]:
    """The bytes of ``diagram`` in each of ``formats`` (run in a thread of the download pool);
    its SVG comes from ``memo`` when a page has drawn it."""
    if "svg" in formats:
        diagram.svg(memo)
    return {ext: diagram.render(ext, dpi=dpi) for ext in formats}


#: How a whole file of each download format ends (a cut-short copy does not).
_ENDINGS = {"svg": (b"</svg>",), "png": (b"IEND\xaeB`\x82",), "pdf": (b"%%EOF",)}


def _complete(path: Path, ext: str) -> bool:
    """Whether the cached ``path`` is a whole file of its format (an old build may have been
    stopped while copying it)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 64))
            tail = fh.read().rstrip()
    except OSError:
        return False
    return size > 0 and any(tail.endswith(end) for end in _ENDINGS[ext])
