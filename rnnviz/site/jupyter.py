"""rnnviz in Jupyter: ``%load_ext rnnviz`` adds the ``%%rnnviz`` cell magic, and a model shows itself.

In a notebook::

    %load_ext rnnviz

    %%rnnviz view=unrolled unroll=4 values
    h[t] = relu(V h[t-1] + W x[t])
    V = -3, W = 3, h[0] = 0, x = [2, 3, 1]

draws the cell's equations inline. The options are those of the site's blocks
(:mod:`rnnviz.site.blocks`): ``view``, ``unroll``, ``values``, ``grad``, ``title``,
``precision``, ``seed``, and ``show=table`` (the forward pass of ``rnnviz run`` as a
table), ``math``, ``plot``, ``params``, ``gates``, ``gradnorms``. A mistake prints
``<cell>:line:col: message`` with a caret (line 1 is the ``%%rnnviz`` line), no traceback.
A :class:`~rnnviz.language.Model` left at the end of a cell shows its equations typeset
and its folded diagram (:func:`model_html`). IPython is imported only by the magic.

Example:
    >>> import rnnviz
    >>> html = model_html(rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])"))
    >>> "\\\\tanh" in html and "<svg" in html
    True
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import RnnvizError
from . import blocks

__all__ = ["load_ipython_extension", "model_html", "cell_html", "rnnviz_magic"]

#: The name of a cell in error messages.
CELL = "<cell>"
#: Id prefixes used in this kernel: every output in a notebook's page has ids of its own.
_USED: set[str] = set()
#: Options that make files for a site and mean nothing in a notebook.
_SITE_ONLY = ("download",)
#: Graphviz wraps nodes in links (for their tooltips); notebooks underline links.
_STYLE = "<style>.rnnviz svg a, .rnnviz svg a:hover { text-decoration: none; border: 0; }</style>"


class _HTML:
    """An output that is its HTML (what ``IPython.display.HTML`` does, without importing IPython)."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return "<rnnviz output: HTML>"


def model_html(model) -> str:
    """A model as its equations typeset and its folded diagram (the diagram is left out without Graphviz)."""
    math = blocks.finish(blocks.render(model, {"show": "math"}), blocks.cache_key(model.source, {}), _USED,
                         {"show": "math"})
    try:
        svg = blocks.render(model, {})
    except RnnvizError as err:  # no Graphviz here: the equations still show
        return math + f'<p class="rnnviz-note">(no diagram: {err.message})</p>'
    return _STYLE + math + blocks.finish(svg, blocks.cache_key(model.source, {"view": "folded"}), _USED, {})


def cell_html(line: str, cell: str) -> str:
    """The HTML of a ``%%rnnviz`` cell: ``line`` holds the options, ``cell`` the equations.

    Raises:
        BlockOptionError: an unknown option or a bad value.
        RnnvizError: the equations (or the values) cannot be read or run.
    """
    opts = blocks.parse_options(blocks.parse_header(line))
    for key in _SITE_ONLY:
        if key in opts:
            raise blocks.BlockOptionError(f"{key}= makes files for a site; in a notebook save a "
                                          "diagram with rnnviz.draw(...).save(path)")
    name, text = blocks.read_source(cell, opts, Path.cwd())
    body = blocks.render(blocks.load(name, text), opts)
    return _STYLE + blocks.finish(body, blocks.cache_key(text, opts), _USED, opts)


def rnnviz_magic(line: str, cell: str):
    """``%%rnnviz [options]``: draw (or run) the cell's equations and show the result inline."""
    try:
        return _HTML(cell_html(line, cell))
    except blocks.BlockOptionError as err:
        print(f"%%rnnviz: {err.message}", file=sys.stderr)
    except RnnvizError as err:
        print(blocks.error_message(err, CELL, 1, blocks.parse_header(line) if "file=" in line else {}),
              file=sys.stderr)
    return None


def load_ipython_extension(ipython) -> None:
    """Register the ``%%rnnviz`` cell magic (``%load_ext rnnviz`` calls this); models show themselves."""
    from ..language.model import Model

    if Model.html_renderer is None:
        Model.html_renderer = model_html
    ipython.register_magic_function(rnnviz_magic, magic_kind="cell", magic_name="rnnviz")
