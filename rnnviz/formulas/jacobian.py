"""Jacobians as symbols: derived from the equation trees, simplified, ready to print.

A Jacobian is a product or sum of named factors: a parameter acting as a
matrix (``W``, or the block of ``W`` that multiplies one item of a
concatenation), ``diag(v)``, the derivative of a function at its argument
(``diag(f'(a))``, softmax's full Jacobian), and the partial derivative of
another variable of the same step, left as a name. :class:`Deriv` applies the
chain, sum and product rules to one equation's tree; :func:`mul` and
:func:`add` drop zeros and identities as they build.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> jac = Deriv(m, ("var", "h", 1)).d(m.equation("h").expr)
    >>> [type(f).__name__ for f in jac.factors]
    ['FPrime', 'Mat']
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ModelError
from ..language import Model
from ..language import expr as E

__all__ = ["J", "Zero", "Ident", "Mat", "Diag", "Scale", "FPrime", "Partial", "ParamD", "XentD", "Mul", "Sum",
           "Stack", "ZERO", "IDENT", "mul", "add", "Deriv", "jacobian_blocks", "partials", "cross_entropy_parts",
           "RowD", "pick_parts"]


# -- Jacobian expressions -------------------------------------------------------


class J:
    """A Jacobian as a product/sum of named factors."""


@dataclass(frozen=True)
class Zero(J):
    pass


@dataclass(frozen=True)
class Ident(J):
    pass


@dataclass(frozen=True)
class Mat(J):
    """A parameter acting as a matrix; ``block`` when it multiplies a concatenation."""

    param: str
    transpose: bool = False
    block: E.Expr | None = None


@dataclass(frozen=True)
class Diag(J):
    """``diag(v)`` of an expression at the step."""

    expr: E.Expr


@dataclass(frozen=True)
class Scale(J):
    value: float


@dataclass(frozen=True)
class FPrime(J):
    """The derivative of a function at its argument: ``diag(f'(a))``, softmax's full Jacobian."""

    call: E.Call


@dataclass(frozen=True)
class Partial(J):
    """``d var / d wrt`` (``plus``: the immediate derivative), left as a name."""

    var: str


@dataclass(frozen=True)
class ParamD(J):
    """``d(W u)/dW``: a product differentiated with respect to its parameter."""

    prod: E.Expr
    param: str


@dataclass(frozen=True)
class XentD(J):
    """The derivative of a cross-entropy ``-sum(onehot(y) * logsoftmax(o))``, a row: with respect to
    its scores ``(softmax(o) - onehot(y))^T``; with respect to a target vector ``-logsoftmax(o)^T``."""

    scores: E.Expr
    target: E.Expr
    of_target: bool = False


@dataclass(frozen=True)
class RowD(J):
    """The derivative of a reduction to a number, a row: of a squared norm ``||z||^2``, ``2 z^T``;
    of a sum ``sum(v)``, ``1^T``; of an entry picked by a class index ``sum(onehot(y) * v)``
    (the book's ``\\hat{y}_{y}``), ``onehot(y)^T``."""

    kind: str  # "sumsq", "sum" or "pick"
    expr: E.Expr | None = None  # z of ||z||^2, y of the pick


def pick_parts(e: E.Expr) -> tuple[E.Expr, E.Expr] | None:
    """(class index, vector) of ``sum(onehot(y) * v)``, the tree ``\\hat{y}_{y_t}`` is read as."""
    if (isinstance(e, E.Call) and e.func == "sum" and not e.generic and isinstance(e.arg, E.EMul)
            and isinstance(e.arg.left, E.Call) and e.arg.left.func == "onehot" and not e.arg.left.generic):
        return e.arg.left.arg, e.arg.right
    return None


def cross_entropy_parts(e: E.Expr) -> tuple[E.Expr, E.Expr] | None:
    """(scores, target) of ``-sum(onehot(y) * logsoftmax(o))``, the tree cross_entropy(o, y) is read as."""
    if not (isinstance(e, E.Neg) and isinstance(e.operand, E.Call) and e.operand.func == "sum"
            and not e.operand.generic and isinstance(e.operand.arg, E.EMul)):
        return None
    hot, logp = e.operand.arg.left, e.operand.arg.right
    if isinstance(hot, E.Call) and hot.func == "onehot" and isinstance(logp, E.Call) and logp.func == "logsoftmax":
        return logp.arg, hot.arg
    return None


@dataclass(frozen=True)
class Mul(J):
    factors: tuple[J, ...]


@dataclass(frozen=True)
class Sum(J):
    terms: tuple[tuple[int, J], ...]


@dataclass(frozen=True)
class Stack(J):
    items: tuple[J, ...]


ZERO, IDENT = Zero(), Ident()


def mul(*fs: J) -> J:
    out: list[J] = []
    sign = 1
    for f in fs:
        if isinstance(f, Zero):
            return ZERO
        if isinstance(f, Sum) and len(f.terms) == 1:  # a lone minus moves to the front
            sign *= f.terms[0][0]
            f = f.terms[0][1]
        if isinstance(f, Ident) or (isinstance(f, Scale) and f.value == 1):
            continue
        out.extend(f.factors if isinstance(f, Mul) else [f])
    prod = IDENT if not out else out[0] if len(out) == 1 else Mul(tuple(out))
    return prod if sign == 1 else Sum(((-1, prod),))


def add(*terms: tuple[int, J]) -> J:
    out: list[tuple[int, J]] = []
    for sign, t in terms:
        if isinstance(t, Zero):
            continue
        if isinstance(t, Sum):
            out.extend((sign * s, u) for s, u in t.terms)
        else:
            out.append((sign, t))
    if not out:
        return ZERO
    return out[0][1] if len(out) == 1 and out[0][0] == 1 else Sum(tuple(out))


# -- symbolic differentiation over the equation trees ---------------------------


class Deriv:
    """Derivatives of the equations at one step with respect to ``wrt``.

    ``wrt`` is ``("var", name, delay)`` (a variable read ``delay`` steps back)
    or ``("param", name)``. Computed variables of the same step that depend on
    ``wrt`` stay as :class:`Partial` names; :meth:`depends` says which.
    """

    def __init__(self, model: Model, wrt: tuple, *, hold: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.wrt = wrt
        # Variables in ``hold`` count as fixed (their own term is written separately).
        self.computed = set(model.variables) - set(hold)
        self._dep: dict[str, bool] = {}

    def leaf_hit(self, e: E.Expr) -> bool:
        if self.wrt[0] == "param":
            return isinstance(e, E.Param) and e.name == self.wrt[1]
        return isinstance(e, E.Var) and (e.name, e.delay) == self.wrt[1:]

    def depends(self, name: str) -> bool:
        if name not in self._dep:
            self._dep[name] = False  # the model has no same-step loops
            self._dep[name] = any(
                self.leaf_hit(n) or (isinstance(n, E.Var) and n.delay == 0 and n.name in self.computed
                                     and self.depends(n.name))
                for n in E.walk(self.model.equation(name).expr))
        return self._dep[name]

    def d(self, e: E.Expr) -> J:
        if self.leaf_hit(e):
            return IDENT
        if isinstance(e, E.Var):
            if e.delay == 0 and e.name in self.computed and self.depends(e.name):
                return Partial(e.name)
            return ZERO
        if isinstance(e, (E.Num, E.Param)):
            return ZERO
        if isinstance(e, E.Add):
            return add((1, self.d(e.left)), (1, self.d(e.right)))
        if isinstance(e, E.Sub):
            return add((1, self.d(e.left)), (-1, self.d(e.right)))
        xent = cross_entropy_parts(e)
        if xent is not None:  # d/do of cross_entropy(o, y) is (softmax(o) - onehot(y))^T
            scores, target = xent
            return add((1, mul(XentD(scores, target), self.d(scores))),
                       (1, mul(XentD(scores, target, True), self.d(target))))
        if isinstance(e, E.Neg):
            return add((-1, self.d(e.operand)))
        picked = pick_parts(e)
        if picked is not None:  # d/dv of v_y (a class index y picks an entry) is onehot(y)^T
            index, v = picked
            inner = self.d(v)
            return ZERO if isinstance(inner, Zero) else mul(RowD("pick", index), inner)
        if isinstance(e, E.Call) and e.func in ("sumsq", "sum") and not e.generic:
            inner = self.d(e.arg)  # d||z||^2/dz = 2 z^T, d sum(v)/dv = 1^T
            return ZERO if isinstance(inner, Zero) else mul(RowD(e.func, e.arg if e.func == "sumsq" else None), inner)
        if isinstance(e, E.Call) and e.abstract:
            raise ModelError(f"'{E.to_text(e)}' is an abstract transition: {e.func} has no derivative until "
                             "it is written out", e.span)
        if isinstance(e, E.Call):
            inner = self.d(e.arg)
            if e.func == "identity" and not e.generic:
                return inner
            return mul(FPrime(e), inner) if not isinstance(inner, Zero) else ZERO
        if isinstance(e, E.Concat):
            items = tuple(self.d(i) for i in e.items)
            return ZERO if all(isinstance(i, Zero) for i in items) else Stack(items)
        if isinstance(e, E.Prod) and isinstance(e.left, E.Param):
            return add((1, self._param_side(e, e.left, e.right, False)))
        if isinstance(e, E.Prod) and isinstance(e.right, E.Param):
            return add((1, self._param_side(e, e.right, e.left, True)))
        # Element-wise (or scaling) product of two expressions: the product rule.
        left, right = e.left, e.right  # type: ignore[attr-defined]
        return add((1, mul(self._diag(right), self.d(left))), (1, mul(self._diag(left), self.d(right))))

    def _diag(self, e: E.Expr) -> J:
        return Scale(e.value) if isinstance(e, E.Num) else Diag(e)

    def _param_side(self, e: E.Expr, p: E.Param, u: E.Expr, transpose: bool) -> J:
        own = ParamD(e, p.name) if self.leaf_hit(p) else ZERO
        if isinstance(u, E.Concat):
            through = add(*[(1, mul(Mat(p.name, transpose, item), self.d(item))) for item in u.items])
        else:
            through = mul(Mat(p.name, transpose), self.d(u))
        return add((1, own), (1, through))


def jacobian_blocks(model: Model) -> dict[tuple[str, str], J]:
    """``(v, r) -> dv_j/dr_{j-1}`` for every computed ``v`` and recurrent ``r`` it depends on.

    The symbolic Jacobians the expansion prints (intermediate variables of
    the same step appear as :class:`Partial` names, defined by their own
    entry), other variables of step j-1 held fixed.

    Example:
        >>> from rnnviz.language import load_model
        >>> blocks = jacobian_blocks(load_model("h[t] = tanh(W h[t-1] + U x[t])"))
        >>> list(blocks), type(blocks[("h", "h")]).__name__
        ([('h', 'h')], 'Mul')
    """
    out: dict[tuple[str, str], J] = {}
    for r in model.recurrent:
        deriv = Deriv(model, ("var", r, 1))
        for v in model.variables:
            if deriv.depends(v):
                out[(v, r)] = deriv.d(model.equation(v).expr)
    return out


def partials(x: J) -> list[str]:
    """The same-step variables a Jacobian names (each needs its own definition), in order."""
    if isinstance(x, Partial):
        return [x.var]
    out: list[str] = []
    for child in (x.factors if isinstance(x, Mul) else [t for _, t in x.terms] if isinstance(x, Sum)
                  else x.items if isinstance(x, Stack) else ()):
        out.extend(n for n in partials(child) if n not in out)
    return out
