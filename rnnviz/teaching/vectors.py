"""Worked steps of a vector model, as a solution sheet writes them for small vectors.

A step ``h_1 = tanh(W h_0 + U x_1 + b)`` of a model with vectors of a few entries is
worked the way a sheet does by hand: the equation, then the numbers (matrices and
vectors as ``pmatrix``), then each matrix product's entries as the sums they are
(``0.1·1 + 0.2·(-1)``), then each function's argument added up, then the value.
Larger vectors (more than :data:`SMALL` entries) keep the equation and its value only:
nobody sums eight-by-eight products on paper. The numbers are numpy's forward pass;
the sums are evaluated again here and must agree with it.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.numeric.forward_pass import forward
    >>> m = load_model("h[t] = tanh(W h[t-1] + x[t])  W = [[1, 0.5], [0, 1]]  h_0 = [1, 2]  x = [[0.5, -2]]")
    >>> steps = vector_worked(m, forward(m), "h", 1)
    >>> [p for _, p in steps]  # doctest: +NORMALIZE_WHITESPACE
    ['h_1', 'tanh(W h_0 + x_1)', 'tanh([[1, 0.5], [0, 1]] [1, 2] + [0.5, -2])',
     'tanh([1·1 + 0.5·2, 0·1 + 1·2] + [0.5, -2])', 'tanh([2.5, 0])', '[0.9866, 0]']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..formulas.unrolled import at_steps
from ..language import Model
from ..language import expr as E
from .arith import exact, fmt
from .scalar import StepPrinter, _rebuild

__all__ = ["SMALL", "vector_worked", "evaluate"]

#: Entries of a vector (rows or columns of a matrix) up to which a step's sums are written out.
SMALL = 4


@dataclass(frozen=True)
class Vec(E.Expr):
    """A number, vector or matrix in a worked step."""

    value: object
    span: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Sums(E.Expr):
    """A vector whose entries are written as the sums that make them (LaTeX, plain)."""

    latex: tuple
    plain: tuple
    span: object = field(default=None, compare=False, repr=False)


def _num(x: float, latex: bool, fractions: bool, *, bracket: bool = False) -> str:
    s = fmt(exact(float(x)), latex=latex, fractions=fractions)
    return f"({s})" if bracket and s.startswith("-") else s


class _Printer(StepPrinter):
    """The step printer, with vectors as ``pmatrix`` (LaTeX) or ``[...]`` (plain)."""

    def _array(self, a: np.ndarray) -> str:
        if a.ndim == 0:
            return _num(float(a), self.latex, self.fractions, bracket=True)
        if self.latex:
            rows = [" & ".join(_num(x, True, self.fractions) for x in r) for r in a] if a.ndim == 2 else \
                [_num(x, True, self.fractions) for x in a]
            return "\\begin{pmatrix} " + " \\\\ ".join(rows) + " \\end{pmatrix}"
        if a.ndim == 2:
            return "[" + ", ".join("[" + ", ".join(_num(x, False, self.fractions) for x in r) + "]" for r in a) + "]"
        return "[" + ", ".join(_num(x, False, self.fractions) for x in a) + "]"

    def _print_Vec(self, e: Vec, parent: int) -> str:
        return self._array(np.asarray(e.value, dtype=float))

    def _print_Sums(self, e: Sums, parent: int) -> str:
        if self.latex:
            return "\\begin{pmatrix} " + " \\\\ ".join(e.latex) + " \\end{pmatrix}"
        return "[" + ", ".join(e.plain) + "]"


def _read(model: Model, trace, e: E.Var, t: int) -> np.ndarray:
    return np.asarray(trace.value(e.name, t - e.delay), dtype=float)


def evaluate(model: Model, trace, e: E.Expr, t: int) -> np.ndarray:
    """The value of an expression tree at step ``t``, from the forward pass's values of what it reads."""
    from ..numeric.ops import sigmoid, softmax

    if isinstance(e, (Vec,)):
        return np.asarray(e.value, dtype=float)
    if isinstance(e, E.Num):
        return np.asarray(float(e.value))
    if isinstance(e, E.Var):
        return _read(model, trace, e, t)
    if isinstance(e, E.Param):
        return np.asarray(trace.params[e.name], dtype=float)
    if isinstance(e, E.Neg):
        return -evaluate(model, trace, e.operand, t)
    if isinstance(e, E.Concat):
        return np.concatenate([np.atleast_1d(evaluate(model, trace, i, t)) for i in e.items])
    if isinstance(e, E.EMul) and isinstance(e.left, E.Call) and e.left.func == "onehot" and not e.left.generic:
        # A cross-entropy's target (``-sum(onehot(y) * logsoftmax(o))``): a class index picks its
        # entry of the vector beside it; a vector over the classes is that vector.
        scores = np.atleast_1d(evaluate(model, trace, e.right, t))
        y = np.asarray(evaluate(model, trace, e.left.arg, t), dtype=float)
        return (np.eye(scores.size)[int(y.ravel()[0])] if y.size == 1 else y) * scores
    if isinstance(e, E.Call):
        x = evaluate(model, trace, e.arg, t)
        func = trace.functions.get(e.func, e.func) if e.generic else e.func
        table = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda v: np.maximum(v, 0.0), "exp": np.exp,
                 "log": np.log, "identity": lambda v: v, "square": np.square, "softmax": softmax,
                 "sumsq": lambda v: np.asarray(np.sum(np.square(v))), "sum": lambda v: np.asarray(np.sum(v)),
                 "logsoftmax": lambda v: np.log(softmax(v))}
        return np.asarray(table[func](x))
    a, b = evaluate(model, trace, e.left, t), evaluate(model, trace, e.right, t)
    if isinstance(e, E.Add):
        return a + b
    if isinstance(e, E.Sub):
        return a - b
    if isinstance(e, E.EMul) or a.ndim == 0 or b.ndim == 0:
        return a * b
    return a @ b  # W x (matrix, vector) or x W (a row vector, matrix)


def _small(a: np.ndarray) -> bool:
    return all(n <= SMALL for n in a.shape)


def _leaves(model: Model, trace, e: E.Expr, t: int) -> E.Expr:
    """The tree with every name replaced by its numbers."""
    if isinstance(e, (E.Var, E.Param, E.Num)):
        return Vec(evaluate(model, trace, e, t).tolist())
    return _rebuild(e, lambda c: _leaves(model, trace, c, t))


def _products(model: Model, trace, e: E.Expr, t: int, fractions: bool) -> E.Expr:
    """The tree (of numbers) with each matrix product written as its entries' sums."""
    if isinstance(e, E.Prod):
        a, b = evaluate(model, trace, e.left, t), evaluate(model, trace, e.right, t)
        if a.ndim == 2 and b.ndim == 1:
            rows = [[(a[i, j], b[j]) for j in range(a.shape[1])] for i in range(a.shape[0])]
        elif a.ndim == 1 and b.ndim == 2:
            rows = [[(a[i], b[i, j]) for i in range(b.shape[0])] for j in range(b.shape[1])]
        else:
            rows = None
        if rows is not None:
            def text(latex: bool) -> tuple:
                dot = " \\cdot " if latex else "·"
                return tuple(" + ".join(f"{_num(x, latex, fractions, bracket=True)}{dot}"
                                        f"{_num(y, latex, fractions, bracket=True)}" for x, y in row)
                             for row in rows)

            return Sums(text(True), text(False))
    if isinstance(e, (E.Var, E.Param, E.Num, Vec)):
        return Vec(evaluate(model, trace, e, t).tolist())
    return _rebuild(e, lambda c: _products(model, trace, c, t, fractions))


def _arguments(model: Model, trace, e: E.Expr, t: int) -> E.Expr:
    """The tree with each outermost function's argument worked out to its numbers."""
    if isinstance(e, E.Call):
        if e.func == "identity" and not e.generic:
            return _arguments(model, trace, e.arg, t)
        return E.Call(e.func, Vec(evaluate(model, trace, e.arg, t).tolist()), e.generic)
    if isinstance(e, (E.Var, E.Param, E.Num)):
        return Vec(evaluate(model, trace, e, t).tolist())
    return Vec(evaluate(model, trace, e, t).tolist()) if not any(isinstance(n, E.Call) for n in E.walk(e)) \
        else _rebuild(e, lambda c: _arguments(model, trace, c, t))



def vector_worked(model: Model, trace, name: str, t: int, *, fractions: bool = False, bare=()
                  ) -> list[tuple[str, str]] | None:
    """The stages of a worked step ``[(latex, plain), ...]`` (the name first), or None when too large.

    Raises:
        AssertionError: the sums disagree with the forward pass (a bug, not a sheet).
    """
    eq = model.equation(name)
    for n in E.walk(eq.expr):
        if isinstance(n, (E.Var, E.Param)) and not _small(evaluate(model, trace, n, t)):
            return None
    if isinstance(eq.expr, E.Concat) or any(isinstance(n, E.Concat) for n in E.walk(eq.expr)):
        return None  # [h, x] products: the blocks' sums are another lesson
    value = np.asarray(trace.value(name, t), dtype=float)
    if not np.allclose(evaluate(model, trace, eq.expr, t), value, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"the worked {name}_{t} disagrees with the forward pass")
    both = []
    for latex in (True, False):
        p = _Printer(model, latex=latex, fractions=fractions, bare=bare)
        both.append([p.name(name, t), p.expr(at_steps(eq.expr, str(t))),
                     p.expr(_leaves(model, trace, eq.expr, t)),
                     p.expr(_products(model, trace, eq.expr, t, fractions)),
                     p.expr(_arguments(model, trace, eq.expr, t)), p._array(value)])
    keep = [0]
    for i in range(1, len(both[0])):  # a stage that repeats the one before is left out
        if both[0][i] != both[0][keep[-1]]:
            keep.append(i)
    return [(both[0][i], both[1][i]) for i in keep]


#: Entries of each product a large step writes out as sums (the rest are computed alike).
SHOWN = 2


def large_worked(model: Model, trace, name: str, t: int, *, fractions: bool = False, bare=()) -> dict | None:
    """A step of vectors too large to write whole: the first :data:`SHOWN` entries of each matrix product
    as their sums, then the function's argument and the value.

    Returns ``{"products": [(label, sum, value), ...], "stages": [...]}`` with each piece as
    ``(latex, plain)``, or None for a step with no matrix product (or a concatenation).
    """
    eq = model.equation(name)
    if any(isinstance(n, E.Concat) for n in E.walk(eq.expr)):
        return None
    value = np.asarray(trace.value(name, t), dtype=float)
    if not np.allclose(evaluate(model, trace, eq.expr, t), value, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"the worked {name}_{t} disagrees with the forward pass")
    products = []
    pl = _Printer(model, latex=True, fractions=fractions, bare=bare)
    pp = _Printer(model, latex=False, fractions=fractions, bare=bare)
    seen = set()
    for n in E.walk(eq.expr):
        if not isinstance(n, E.Prod):
            continue
        a, b = evaluate(model, trace, n.left, t), evaluate(model, trace, n.right, t)
        if a.ndim == 2 and b.ndim == 1:
            rows = [[(a[i, j], b[j]) for j in range(a.shape[1])] for i in range(a.shape[0])]
        elif a.ndim == 1 and b.ndim == 2:
            rows = [[(a[i], b[i, j]) for i in range(b.shape[0])] for j in range(b.shape[1])]
        else:
            continue
        sym_l, sym_p = pl.expr(at_steps(n, str(t))), pp.expr(at_steps(n, str(t)))
        if sym_p in seen:
            continue
        seen.add(sym_p)
        for i, row in enumerate(rows[:SHOWN], start=1):
            terms_l = " + ".join(f"{_num(x, True, fractions, bracket=True)} \\cdot {_num(y, True, fractions, bracket=True)}"
                                 for x, y in row)
            terms_p = " + ".join(f"{_num(x, False, fractions, bracket=True)}·{_num(y, False, fractions, bracket=True)}"
                                 for x, y in row)
            entry = sum(float(x) * float(y) for x, y in row)
            products.append(((f"\\left({sym_l}\\right)_{{{i}}}", f"({sym_p})_{i}"), (terms_l, terms_p),
                             (_num(entry, True, fractions), _num(entry, False, fractions)), len(rows)))
    if not products:
        return None
    stages = [(pl.name(name, t), pp.name(name, t)), (pl.expr(at_steps(eq.expr, str(t))), pp.expr(at_steps(eq.expr, str(t)))),
              (pl.expr(_arguments(model, trace, eq.expr, t)), pp.expr(_arguments(model, trace, eq.expr, t))),
              (pl._array(value), pp._array(value))]
    keep = [0]
    for i in range(1, len(stages)):
        if stages[i][1] != stages[keep[-1]][1]:
            keep.append(i)
    return {"products": products, "stages": [stages[i] for i in keep]}
