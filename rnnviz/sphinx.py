"""``extensions = ["rnnviz.sphinx"]`` in a Sphinx ``conf.py``: the ``rnnviz`` directive (:mod:`rnnviz.site.sphinx`)."""

from __future__ import annotations

from .site.sphinx import RnnvizDirective, setup

__all__ = ["RnnvizDirective", "setup"]
