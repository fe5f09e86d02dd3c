"""Public names of a package that load their module on first use (PEP 562).

Drawing a diagram must not pay for numpy or matplotlib, so the packages list what
they offer here and import a module only when one of its names is asked for.

Example:
    >>> getattr_, dir_ = lazy_exports("rnnviz.numeric", {"forward": "forward_pass"}, ["Trace"])
    >>> getattr_("forward").__module__
    'rnnviz.numeric.forward_pass'
    >>> dir_()
    ['Trace', 'forward']
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: dict[str, str | tuple[str, str]],
                 eager: Iterable[str] = ()) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``names`` maps a public name to the module (relative to ``package``) that
    defines it, or to ``(module, attribute)`` where the name differs; ``eager``
    lists the names the package imports itself, for ``__dir__``.
    """

    def __getattr__(name: str) -> object:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = target if isinstance(target, tuple) else (target, name)
        value = getattr(importlib.import_module(f".{module}", package), attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*names, *eager})

    return __getattr__, __dir__
