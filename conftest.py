"""pytest's settings for the whole checkout (the tests' own fixtures are in tests/conftest.py).

The doctests of rnnviz/ import every module. The Sphinx extension needs Sphinx, which only
the ``test`` and ``sphinx`` extras install: with the ``docs`` extra alone, its two modules
are left out of the collection instead of failing it (``make test`` installs Sphinx, so
there they always run).
"""

from __future__ import annotations

import importlib.util

collect_ignore = ["rnnviz/sphinx.py", "rnnviz/site/sphinx.py"] if importlib.util.find_spec("sphinx") is None else []
