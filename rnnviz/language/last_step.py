"""Reads of the last step, ``h_T``, ``h_{\\tau}``, ``h^{(T)}``, ``h[T]``: refused with a position, never a new name.

Chapter 10 of the *Deep Learning* book reads the last step of a sequence (``c = h_T``,
``o = V h^{(\\tau)} + c``). Until rnnviz gives these a meaning, reading them as a parameter
called ``h_T`` or a product ``h T`` would silently change the model, so each is an error
at its position.

Example:
    >>> from rnnviz.language import load_model
    >>> try:
    ...     load_model("h_t = tanh(W h_{t-1} + U x_t)\\ny_t = V h_T")
    ... except Exception as e:
    ...     print(e.message)
    'h_T' reads h at the last step T, which rnnviz does not support yet
"""

from __future__ import annotations

from ..errors import ParseError, Span
from . import syntax as S
from .model_syntax import refs

__all__ = ["LAST_STEP_WORDS", "last_step_error", "check_last_step"]

#: How texts name the last step of a sequence.
LAST_STEP_WORDS = ("T", "tau")

_HINT = ("equations read steps relative to t (h_t, h_{t-1}); a sequence's last step as a value "
         "of its own is not part of the language yet")


def last_step_error(spelling: str, base: str, span: Span | None) -> ParseError:
    word = "τ" if "tau" in spelling else "T"
    return ParseError(f"'{spelling}' reads {base} at the last step {word}, "
                      "which rnnviz does not support yet", span, hint=_HINT)


def check_last_step(stmts, computed: set[str], timed: set[str], err) -> None:
    """Raise at the first ``h_T`` / ``h_{\\tau}`` whose ``h`` is computed or read at a time.

    ``err(message, span, hint=...)`` makes the error (with the source text attached).
    """
    for s in stmts:
        if isinstance(s, S.Assign):
            for node in (s.rhs, *s.earlier):
                _bracketed_last(node, err)
    for s in stmts:
        nodes = []
        if isinstance(s, S.Assign):
            nodes = [s.rhs, *s.earlier]
        for node in nodes:
            for name, _ in refs(node):
                if name.time is None and name.subs and name.subs[-1] in LAST_STEP_WORDS:
                    base = name.without_last_sub().canonical
                    if base in computed or base in timed:
                        e = last_step_error(f"{base}_{name.subs[-1]}", base, name.span)
                        raise err(e.message, name.span, hint=e.hint)


def _bracketed_last(node, err) -> None:
    """``h[T]``: the grammar reads ``[T]`` as a bracket after ``h``; it is the last step, not a product."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, S.BinOp):
            right = n.right
            while isinstance(right, S.BinOp) and right.op == "prod":
                right = right.left
            if n.op == "prod" and isinstance(right, S.Bracket) and len(right.items) == 1 and \
                    isinstance(right.items[0], S.Ref):
                inner = right.items[0].name
                if inner.base in LAST_STEP_WORDS and not inner.subs and not inner.sups and inner.time is None:
                    left = n.left
                    while isinstance(left, S.BinOp) and left.op == "prod":
                        left = left.right
                    base = left.name.canonical if isinstance(left, S.Ref) else "a variable"
                    e = last_step_error(f"{base}[{inner.base}]", base, right.span)
                    raise err(e.message, right.span, hint="a step relative to t is written with a lowercase t, "
                                                          f"as in {base}[t]; T is an ordinary name, such as a matrix")
            stack.extend([n.left, n.right])
        elif isinstance(n, S.Call):
            stack.append(n.arg)
        elif isinstance(n, S.Neg):
            stack.append(n.operand)
        elif isinstance(n, S.Bracket):
            stack.extend(n.items)
