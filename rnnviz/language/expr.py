"""The model's expression trees: one per equation, shared by every view and pass.

Leaves are variables read with a delay (:class:`Var`), parameters (:class:`Param`)
and numbers (:class:`Num`). Inner nodes are function calls and the operators of
the language. The variable diagrams summarise these trees, the operation
diagrams draw them node for node, the forward pass evaluates them and backprop
walks them in reverse.

Example:
    >>> e = Add(Prod(Param("W"), Var("h", 1)), Prod(Param("U"), Var("x", 0)))
    >>> [type(n).__name__ for n in walk(e)]
    ['Add', 'Prod', 'Param', 'Var', 'Prod', 'Param', 'Var']
    >>> to_text(e)
    'W h[t-1] + U x[t]'
"""

from __future__ import annotations

from collections.abc import Iterator
from .._dataclasses import dataclass, field

from ..errors import Span

__all__ = [
    "Expr", "Num", "Var", "Param", "Call", "Prod", "EMul", "Add", "Sub", "Neg", "Concat",
    "FUNCTIONS", "REDUCTIONS", "LOSS_PARTS", "walk", "children", "to_text", "call_arguments",
]

_SPAN = dict(default=None, compare=False, repr=False)

#: The functions of the language, by canonical name.
FUNCTIONS = ("tanh", "sigmoid", "relu", "softmax", "exp", "log", "identity", "square", "sumsq",
             "sum", "logsoftmax", "onehot")
#: Functions that reduce a vector to a number (``sumsq``, the squared norm of a loss; ``sum``, the
#: sum of a cross-entropy's terms).
REDUCTIONS = ("sumsq", "sum")
#: Functions the language writes for a cross-entropy loss (see ``cross_entropy`` in docs/language.md):
#: ``cross_entropy(o, y)`` is ``-sum(onehot(y) * logsoftmax(o))``, ``-\log p_{y}`` is
#: ``-log(sum(onehot(y) * p))``; ``onehot`` turns a class index into its one-hot vector.
LOSS_PARTS = ("sum", "logsoftmax", "onehot")


class Expr:
    """Base of expression nodes; every node has a ``span`` (not compared)."""

    span: Span | None


@dataclass(frozen=True)
class Num(Expr):
    """A number; in ``1 - z[t]`` it broadcasts to a vector of ones."""

    value: float
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Var(Expr):
    """A variable (input or computed) read at ``t - delay``; delay < 0 reads ahead."""

    name: str
    delay: int = 0
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Param(Expr):
    """A parameter: a weight matrix, a bias, a scalar."""

    name: str
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Call(Expr):
    """``func(arg)``: one of :data:`FUNCTIONS`, or a generic activation (``generic``)."""

    func: str
    arg: Expr
    generic: bool = False
    span: Span | None = field(**_SPAN)
    #: An abstract transition ``f(x_t, h_{t-1}; theta)``: ``arg`` is a :class:`Concat` of its
    #: arguments, the last ``params`` of which followed the ``;``. It has no numbers.
    abstract: bool = False
    params: int = 0

    @property
    def arguments(self) -> tuple["Expr", ...]:
        """The arguments as written: one, or those of an abstract transition."""
        return self.arg.items if self.abstract and isinstance(self.arg, Concat) else (self.arg,)


@dataclass(frozen=True)
class Prod(Expr):
    """A product as books write it: matrix times vector (either order), scaling
    where one side is a scalar, element-wise where both are vectors of one size."""

    left: Expr
    right: Expr
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class EMul(Expr):
    """Element-wise product (``*``, ``\\odot``, ``\\circ``); scalars broadcast."""

    left: Expr
    right: Expr
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Add(Expr):
    left: Expr
    right: Expr
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Sub(Expr):
    left: Expr
    right: Expr
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Concat(Expr):
    """Concatenation of vectors, ``[h[t-1], x[t]]``."""

    items: tuple[Expr, ...]
    span: Span | None = field(**_SPAN)


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``e``, left to right."""
    if isinstance(e, (Prod, EMul, Add, Sub)):
        return (e.left, e.right)
    if isinstance(e, Call):
        return (e.arg,)
    if isinstance(e, Neg):
        return (e.operand,)
    if isinstance(e, Concat):
        return e.items
    return ()


def walk(e: Expr) -> Iterator[Expr]:
    """Every node of ``e`` in pre-order (parents before children, left to right)."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


_PREC = {Add: 1, Sub: 1, Neg: 2, EMul: 3, Prod: 4}


def call_arguments(e: Call, show) -> str:
    """The arguments of a call as written, each shown by ``show``: ``x[t], h[t-1]; theta``."""
    args = [show(a) for a in e.arguments]
    if e.abstract and e.params:
        head, tail = args[:len(args) - e.params], args[len(args) - e.params:]
        return ", ".join(head) + "; " + ", ".join(tail)
    return ", ".join(args)


def to_text(e: Expr, _parent: int = 0) -> str:
    """Plain-text spelling of an expression, in the input language."""
    if isinstance(e, Num):
        v = e.value
        s = str(int(v)) if float(v).is_integer() else repr(v)
        return s
    if isinstance(e, Var):
        if e.delay == 0:
            return f"{e.name}[t]"
        return f"{e.name}[t{-e.delay:+d}]"
    if isinstance(e, Param):
        return e.name
    if isinstance(e, Call):
        return f"{e.func}({call_arguments(e, to_text)})"
    if isinstance(e, Concat):
        return "[" + ", ".join(to_text(i) for i in e.items) + "]"
    prec = _PREC[type(e)]
    if isinstance(e, Neg):
        s = "-" + to_text(e.operand, prec)
    else:
        op = {Add: " + ", Sub: " - ", EMul: " * ", Prod: " "}[type(e)]
        # Products associate to the right, sums to the left.
        lp, rp = (prec + 1, prec) if isinstance(e, Prod) else (prec, prec + 1)
        s = to_text(e.left, lp) + op + to_text(e.right, rp)
    return f"({s})" if prec < _parent else s
