"""The Sphinx extension: ``.. rnnviz::`` in reStructuredText and ```` ```{rnnviz} ```` in MyST Markdown.

In ``conf.py``::

    extensions = ["rnnviz.sphinx"]          # and "myst_parser" for Markdown pages

then, in a page::

    .. rnnviz:: view=unrolled unroll=4
       :values:

       h[t] = tanh(W h[t-1] + U x[t])

The options are those of the MkDocs fence (:mod:`rnnviz.site.blocks` checks and
renders both), written after the directive's name as on a fence line, as directive
options (``:view: unrolled``), or both. ``file=`` is relative to the folder of
``conf.py``. A bad option is an error at the directive's line; bad equations are a
warning ``page:line:col: message`` with the line and a caret (so ``sphinx-build -W``
fails, naming the file and line) and an error box in the page. The CSS, JS and an
offline KaTeX copy (``rnnviz_katex = False`` leaves KaTeX out) go to ``_static/rnnviz/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..errors import RnnvizError
from ..version import version
from . import blocks

__all__ = ["RnnvizDirective", "setup"]

log = logging.getLogger(__name__)

_CSS = ["rnnviz/rnnviz.css"]
_JS = ["rnnviz/rnnviz.js", "rnnviz/rnnviz-steps.js"]
_KATEX_CSS = ["rnnviz/katex.min.css"]
_KATEX_JS = ["rnnviz/katex.min.js", "rnnviz/rnnviz-math.js"]


def _flag_or_text(value: str | None) -> str | None:
    """A directive option's text; a bare ``:values:`` is None, as a bare word on a fence line."""
    return value.strip() or None if value is not None else None


class RnnvizDirective(SphinxDirective):
    """``.. rnnviz:: [options]``: equations in the content, drawn (or run) at build time."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {key: _flag_or_text for key in blocks.OPTIONS}

    def _where(self) -> str:
        """The page as the build names it, relative to the folder of conf.py."""
        source = self.state.document.current_source or self.env.doc2path(self.env.docname)
        try:
            return os.path.relpath(source, self.env.srcdir)
        except ValueError:  # another drive on Windows
            return str(source)

    def _line_before_content(self) -> int:
        """The page line (1-based) just before the block's first line of equations.

        reST gives the content's 0-based line in the page; MyST gives its offset below
        the fence line (``lineno``), after the ``:key: value`` lines.
        """
        if type(self.state).__module__.startswith("myst_parser"):
            return self.lineno + self.content_offset
        return self.content_offset

    def run(self) -> list[nodes.Node]:
        try:
            inputs = blocks.parse_header(self.arguments[0]) if self.arguments else {}
            inputs.update(self.options)
            opts = blocks.parse_options(inputs)
            if "download" in opts:
                raise blocks.BlockOptionError("download= is for MkDocs sites; Sphinx pages show the diagram only")
            name, text = blocks.read_source("\n".join(self.content), opts, Path(self.env.srcdir))
            key = blocks.cache_key(text, opts)
            body = blocks.render(blocks.load(name, text), opts, narrow=True)
        except blocks.BlockOptionError as err:
            raise self.error(f"rnnviz: {err.message}") from None
        except RnnvizError as err:
            msg = blocks.error_message(err, self._where(), self._line_before_content(), opts)
            log.warning(msg, type="rnnviz", subtype="block")
            return [nodes.raw("", blocks.error_box(msg), format="html")]
        used = self.state.document.__dict__.setdefault("_rnnviz_prefixes", set())
        return [nodes.raw("", blocks.finish(body, key, used, opts), format="html")]


def _add_assets(app) -> None:
    if app.builder.format != "html":
        return
    files = _CSS + _JS + (_KATEX_CSS + _KATEX_JS if app.config.rnnviz_katex else [])
    for path in files:
        (app.add_css_file if path.endswith(".css") else app.add_js_file)(path)


def _copy_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "rnnviz"
    dest.mkdir(parents=True, exist_ok=True)
    for path in blocks.ASSETS.iterdir():
        if path.is_file() and (app.config.rnnviz_katex or not path.name.lower().startswith("katex")):
            shutil.copyfile(path, dest / path.name)


def setup(app) -> dict:
    """Sphinx's entry point (``extensions = ["rnnviz.sphinx"]``)."""
    app.add_config_value("rnnviz_katex", True, "html")
    app.add_directive("rnnviz", RnnvizDirective)
    app.connect("builder-inited", _add_assets)
    app.connect("build-finished", _copy_assets)
    return {"version": version(), "parallel_read_safe": True, "parallel_write_safe": True}
