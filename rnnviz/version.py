"""The version of rnnviz: written once, in ``pyproject.toml``, and read from there on first use.

An installed rnnviz (a wheel, pipx) reads it from its package metadata, which the build
took from ``pyproject.toml``. A source checkout reads the ``pyproject.toml`` beside the
package, so an editable install never shows a number that pyproject.toml has left behind.
Either is read only when asked for (``rnnviz --version``, ``rnnviz.__version__``, the site):
``import rnnviz`` does not pay for ``importlib.metadata``.

Example:
    >>> import rnnviz
    >>> from rnnviz.version import version
    >>> rnnviz.__version__ == version()
    True
    >>> version().count(".") >= 2
    True
"""

from __future__ import annotations

import os
import re

__all__ = ["version", "version_in_pyproject"]

#: Where a source checkout keeps pyproject.toml: the folder above the package.
_PYPROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")
_cached: str | None = None


def version_in_pyproject(text: str) -> str | None:
    """The ``version`` of the ``[project]`` table of ``text`` when it is rnnviz's, else None.

    Example:
        >>> version_in_pyproject('[project]\\nname = "rnnviz"\\nversion = "1.2.3"\\n[tool.x]\\nversion = "9"\\n')
        '1.2.3'
        >>> version_in_pyproject('[project]\\nname = "other"\\nversion = "1.0"\\n') is None
        True
    """
    table = re.search(r"(?ms)^\[project\][ \t]*$(.*?)(?=^\[|\Z)", text)
    if table is None or not re.search(r'(?m)^name\s*=\s*"rnnviz"\s*$', table.group(1)):
        return None
    found = re.search(r'(?m)^version\s*=\s*"([^"]+)"\s*$', table.group(1))
    return found.group(1) if found else None


def version() -> str:
    """rnnviz's version: the checkout's pyproject.toml, else the installed metadata."""
    global _cached
    if _cached is None:
        try:
            with open(_PYPROJECT, encoding="utf-8") as f:
                _cached = version_in_pyproject(f.read())
        except OSError:
            _cached = None
        if _cached is None:
            from importlib.metadata import PackageNotFoundError
            from importlib.metadata import version as installed_version

            try:
                _cached = installed_version("rnnviz")
            except PackageNotFoundError:  # copied in by hand, never installed
                _cached = "0+unknown"
    return _cached


def __getattr__(name: str) -> str:  # PEP 562: ``__version__`` is computed on first use
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
