"""The lexer's regular expressions, compiled ahead of time for the Python that generated them.

The lexer of the grammar (lark's contextual lexer) compiles one large alternation of
terminals per parser state the first time it meets that state, plus every terminal
once more to look for keywords it swallows: about 50 ``re.compile`` calls on a first
parse, each through the ``re`` module's pure-Python parser and compiler. That was the
largest single cost of a short command such as ``rnnviz draw``.

``scripts/generate_parser.py`` records, for every pattern the lexer can compile, what
``re`` would hand to the C engine (``_sre.compile``: flags, the compiled code, the
groups) in ``_regex_cache.py``. :data:`CACHED_RE` stands in for the ``re`` module in the
lexer: a pattern found there is built from that record, anything else (another Python
version, another engine, a pattern the grammar did not have) by ``re.compile``, so the
cache can only save time, never change what matches.

Example:
    >>> import re
    >>> CACHED_RE.compile(r"[a-z]+").match("abc1").group(0)
    'abc'
    >>> CACHED_RE.match(r"\\d+", "42x").group(0), CACHED_RE.error is re.error
    ('42', True)
"""

from __future__ import annotations

import re
import sys

__all__ = ["CACHED_RE", "engine_key"]


def engine_key() -> tuple:
    """What the recorded code depends on: the Python implementation and version, and the
    version and code word size of its regular-expression engine."""
    import _sre

    return (sys.implementation.name, sys.version_info[0], sys.version_info[1], _sre.MAGIC, _sre.CODESIZE)


class _CachedRe:
    """The part of the ``re`` module the lexer uses (``compile``, ``match``, ``error``)."""

    error = re.error

    def __init__(self) -> None:
        self._table: dict | None = None
        self._code: object = None
        self._compiled: dict[tuple[str, int], re.Pattern] = {}

    def _load(self) -> dict:
        if self._table is None:
            try:
                from . import _regex_cache as cache
            except ImportError:  # pragma: no cover - the generated file is part of the package
                self._table = {}
                return self._table
            if cache.KEY != engine_key():
                self._table = {}
            else:
                import array
                import base64
                import zlib

                code = array.array(cache.TYPECODE)
                code.frombytes(zlib.decompress(base64.b64decode(cache.CODE)))
                if sys.byteorder != cache.BYTEORDER:
                    code.byteswap()
                self._code = code
                self._table = cache.ENTRIES
        return self._table

    def compile(self, pattern, flags: int = 0) -> re.Pattern:
        key = (pattern, int(flags))
        found = self._compiled.get(key)
        if found is not None:
            return found
        entry = self._load().get(key) if isinstance(pattern, str) else None
        compiled = None
        if entry is not None:
            import _sre

            final_flags, start, length, groups, groupindex = entry
            indexgroup = [None] * (groups + 1)
            for name, i in groupindex:
                indexgroup[i] = name
            try:
                compiled = _sre.compile(pattern, final_flags, self._code[start:start + length].tolist(),
                                        groups, dict(groupindex), tuple(indexgroup))
            except (RuntimeError, TypeError, ValueError):  # pragma: no cover - a record the engine refuses
                compiled = None
        if compiled is None:
            compiled = re.compile(pattern, flags)
        self._compiled[key] = compiled
        return compiled

    def match(self, pattern, string, flags: int = 0):
        return self.compile(pattern, flags).match(string)


#: Stands in for the ``re`` module in the lexer (see the module's docstring).
CACHED_RE = _CachedRe()
