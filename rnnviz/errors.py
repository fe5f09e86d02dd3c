"""Errors that rnnviz reports to its users.

Every error a user can cause derives from :class:`RnnvizError`. An error that
points into an input file carries a :class:`Span` (file, line, column) and the
text of that line, so that it can be shown the way compilers show errors::

    model.rnn:2:9: unknown function 'tahn'; did you mean 'tanh'?
      h[t] = tahn(W h[t-1] + U x[t])
             ^^^^

Example:
    >>> from rnnviz.errors import RnnvizError, Span
    >>> err = RnnvizError("something is off", Span("a.rnn", 1, 3, 1, 5), source="x = yy")
    >>> print(err.format())
    a.rnn:1:3: something is off
      x = yy
        ^^
"""

from __future__ import annotations

from ._dataclasses import dataclass

__all__ = [
    "Span",
    "RnnvizError",
    "ParseError",
    "ModelError",
    "ShapeError",
    "ValueSpecError",
    "NumericError",
    "UsageError",
    "RenderError",
]


@dataclass(frozen=True)
class Span:
    """A place in an input file: 1-based line and column, end exclusive.

    ``end_line``/``end_column`` may equal the start for a point.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class RnnvizError(Exception):
    """Base of every error rnnviz reports to a user.

    Args:
        message: what went wrong, in plain words.
        span: where, when the error points into an input.
        source: the whole text of the input the span points into.
        hint: an optional second line of advice.
    """

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.source = source
        self.hint = hint

    def with_source(self, source: str) -> "RnnvizError":
        """Attach the input text, if not already attached, and return self."""
        if self.source is None:
            self.source = source
        return self

    def excerpt(self) -> str:
        """The offending line with a caret (or carets) under the span."""
        if self.span is None or self.source is None:
            return ""
        lines = self.source.splitlines() or [""]
        if not 1 <= self.span.line <= len(lines):
            return ""
        text = lines[self.span.line - 1].expandtabs(1)
        start = max(self.span.column, 1)
        if self.span.end_line == self.span.line and self.span.end_column > start:
            width = min(self.span.end_column, len(text) + 1) - start
        else:
            width = 1
        width = max(width, 1)
        return f"  {text}\n  {' ' * (start - 1)}{'^' * width}"

    def format(self) -> str:
        """The message as shown on the command line: place, message, excerpt, hint."""
        head = f"{self.span}: {self.message}" if self.span else self.message
        parts = [head]
        excerpt = self.excerpt()
        if excerpt:
            parts.append(excerpt)
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.format()


class ParseError(RnnvizError, SyntaxError):
    """The text does not follow the equation language."""

    def __init__(self, message: str, span: Span | None = None, **kw) -> None:
        RnnvizError.__init__(self, message, span, **kw)


class ModelError(RnnvizError, ValueError):
    """The equations parse but do not describe a model (loops, duplicates...)."""


class ShapeError(RnnvizError, ValueError):
    """Sizes or values that do not fit together."""


class ValueSpecError(RnnvizError, ValueError):
    """A value, size or option that cannot be used."""


class NumericError(RnnvizError, ArithmeticError):
    """Overflow or NaN during a computation."""


class UsageError(RnnvizError, ValueError):
    """The command line was used wrongly (exit code 2)."""


class RenderError(RnnvizError, RuntimeError):
    """Graphviz is missing or failed."""
