"""The state's Jacobian from one step to the next, worked with its numbers.

A solution sheet writes ``\\partial h_t/\\partial h_{t-1}`` for each step as the chain rule
gives it, ``ReLU'(V h_0 + W x_1)·V = ReLU'(6)·(-3) = 1·(-3) = -3``, and for a cell with
several states (an LSTM's ``c`` and ``h``) each entry of the block Jacobian as the sum of
its paths through the step's values (``\\partial h_j/\\partial c_{j-1} = \\partial h_j/\\partial c_j
·\\partial c_j/\\partial c_{j-1}``), then the product of the steps' Jacobians, whose entry is
the derivative over all the steps (``\\partial c_3/\\partial c_0``).

:func:`local_derivative` differentiates one equation at one step by one value it reads
(the others held), symbolically and with the numbers of the exact pass;
:func:`step_jacobian` puts those together for the states of one step.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.teaching.scalar import ScalarPass
    >>> run = ScalarPass.from_model(load_model("h_t = relu(V h_{t-1} + W x_t)  V = -3  W = 3  h_0 = 0  x = [2, 3, 1]"))
    >>> d = local_derivative(run, "h", 1, ("h", 0))
    >>> print(" = ".join(d.plain))
    relu'(V h_0 + W x_1)·V = relu'(6)·(-3) = 1·(-3) = -3
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..formulas.unrolled import at_steps
from ..language import expr as E
from .arith import Number, fmt
from .scalar import Dual, ScalarPass, StepPrinter, apply

__all__ = ["Derivative", "local_derivative", "step_jacobian"]


@dataclass(frozen=True)
class Derivative:
    """A local derivative: its stages (symbolic, with numbers, the factors, ...) in LaTeX and plain, and its value."""

    latex: tuple
    plain: tuple
    value: Number


@dataclass(frozen=True)
class _Term:
    """A piece of a derivative: its symbolic text, its text with numbers, the text of its factors' values."""

    sym: str
    num: str
    fac: str
    value: Number
    sum: bool = False  # a sum of terms: bracketed where multiplied


class _Deriv:
    def __init__(self, run: ScalarPass, name: str, t: int, wrt: tuple, latex: bool) -> None:
        self.run, self.name, self.t, self.wrt, self.latex = run, name, t, wrt, latex
        self.p = StepPrinter(run.model, latex=latex, fractions=run.fractions, bare=run.bare)
        self.dot = " \\cdot " if latex else "·"

    def num(self, x: Number) -> str:
        s = fmt(x, latex=self.latex, fractions=self.run.fractions)
        return f"({s})" if s.startswith("-") else s

    def value(self, e: E.Expr) -> Number:
        r = self.run
        if isinstance(e, E.Var):
            return r.value(e.name, self.t - e.delay)
        if isinstance(e, E.Param):
            return r.params[e.name].v
        if isinstance(e, E.Num):
            return Fraction(e.value)
        if isinstance(e, E.Call):
            return self.call(e)[1]
        if isinstance(e, E.Neg):
            return -self.value(e.operand)
        a, b = self.value(e.left), self.value(e.right)
        return a + b if isinstance(e, E.Add) else a - b if isinstance(e, E.Sub) else a * b

    def call(self, e: E.Call) -> tuple[Number, Number, Number]:
        """(argument, value, derivative) of a call at this step."""
        arg = self.run.args[(self.name, id(e), self.t)].v
        func = self.run.functions.get(e.func, e.func) if e.generic else e.func
        out = apply(func, Dual(arg, {"u": 1}), self.run.relu0)
        return arg, out.v, out.d.get("u", Fraction(0))

    def sym(self, e: E.Expr) -> str:
        return self.p.expr(at_steps(e, str(self.t)), 4)

    def d(self, e: E.Expr) -> _Term | None:
        """The derivative of ``e`` by ``wrt``, None where it is 0 whatever the numbers."""
        if isinstance(e, E.Var):
            hit = (e.name, self.t - e.delay) == self.wrt
            return _Term("1", "1", "1", Fraction(1)) if hit else None
        if isinstance(e, (E.Param, E.Num)):
            return None
        if isinstance(e, E.Neg):
            inner = self.d(e.operand)
            if inner is None:
                return None
            wrap = (lambda s: f"-\\left({s}\\right)" if self.latex else f"-({s})") if inner.sum else (lambda s: "-" + s)
            return _Term(wrap(inner.sym), wrap(inner.num), wrap(inner.fac), -inner.value)
        if isinstance(e, (E.Add, E.Sub)):
            a, b = self.d(e.left), self.d(e.right)
            if a is None and b is None:
                return None
            if a is None or b is None:
                one = a or b
                if a is None and isinstance(e, E.Sub):
                    return self.d(E.Neg(e.right))
                return one
            op = " + " if isinstance(e, E.Add) else " - "
            v = a.value + b.value if isinstance(e, E.Add) else a.value - b.value
            return _Term(a.sym + op + b.sym, a.num + op + b.num, a.fac + op + b.fac, v, True)
        if isinstance(e, (E.Prod, E.EMul)):
            terms = []
            for this, other in ((e.left, e.right), (e.right, e.left)):
                dt = self.d(this)
                if dt is None:
                    continue
                terms.append(self.times(dt, other, left=this is e.left))
            if not terms:
                return None
            if len(terms) == 1:
                return terms[0]
            a, b = terms
            return _Term(a.sym + " + " + b.sym, a.num + " + " + b.num, a.fac + " + " + b.fac, a.value + b.value, True)
        if isinstance(e, E.Call):
            inner = self.d(e.arg)
            if inner is None:
                return None
            arg, _, slope = self.call(e)
            f = self.p.func(e)
            prime = f"{f}'"
            br = (lambda s: f"\\left({s}\\right)" if self.latex else f"({s})")
            sym_f = f"{prime}{br(self.p.expr(at_steps(e.arg, str(self.t))))}"
            num_f = f"{prime}{br(fmt(arg, latex=self.latex, fractions=self.run.fractions))}"
            if inner.sym == "1":
                return _Term(sym_f, num_f, self.num(slope), slope)
            wrap = br if inner.sum else (lambda s: s)
            return _Term(sym_f + self.dot + wrap(inner.sym), num_f + self.dot + wrap(inner.num),
                         self.num(slope) + self.dot + wrap(inner.fac), slope * inner.value)
        return None

    def times(self, dt: _Term, other: E.Expr, *, left: bool) -> _Term:
        """``dt`` times the factor ``other`` (held): ``V`` stays a name, then its number."""
        ov = self.value(other)
        br = (lambda s: f"\\left({s}\\right)" if self.latex else f"({s})")
        wrap = br if dt.sum else (lambda s: s)
        if dt.sym == "1":
            return _Term(self.sym(other), self.num(ov), self.num(ov), ov)
        parts = [(wrap(dt.sym), wrap(dt.num), wrap(dt.fac)), (self.sym(other), self.num(ov), self.num(ov))]
        if not left:
            parts.reverse()
        (s1, n1, f1), (s2, n2, f2) = parts
        return _Term(s1 + self.dot + s2, n1 + self.dot + n2, f1 + self.dot + f2, dt.value * ov)


def local_derivative(run: ScalarPass, name: str, t: int, wrt: tuple) -> Derivative | None:
    """``d name_t / d wrt`` with what else ``name_t`` reads held: its stages and value, None when 0 by structure."""
    eq = run.model.equation(name)
    stages: dict[bool, list[str]] = {}
    value: Number = Fraction(0)
    for latex in (True, False):
        term = _Deriv(run, name, t, wrt, latex).d(eq.expr)
        if term is None:
            return None
        value = term.value
        out: list[str] = []
        for text in (term.sym, term.num, term.fac, fmt(term.value, latex=latex, fractions=run.fractions)):
            if not out or text != out[-1]:
                out.append(text)
        stages[latex] = out
    if len(stages[True]) != len(stages[False]):  # keep the two spellings stage for stage
        n = min(len(stages[True]), len(stages[False]))
        stages = {k: v[: n - 1] + [v[-1]] for k, v in stages.items()}
    return Derivative(tuple(stages[True]), tuple(stages[False]), value)


def step_jacobian(run: ScalarPass, j: int, states: list[str], prev: int) -> tuple[list, dict]:
    """The block Jacobian of step ``j`` by the states at step ``prev`` (j-1, or j+1 for a backward chain).

    Returns ``(rows, J)``: ``rows`` are ``((name, j), (state, prev), terms, value)`` for each
    value of the step that depends on a state (``terms``: ``(read, local Derivative, its
    derivative by the state)``), in the order computed; ``J[(a, b)]`` the entry of state ``a``
    at ``j`` by state ``b`` at ``prev``.
    """
    keys = [k for k in run.order if k[1] == j]
    # Only the values on a path to a state of the step (an output read off the state is no part of it).
    feeds = {(a, j) for a in states}
    for k in reversed(keys):
        if k in feeds:
            feeds |= {r for r in run.local_partials(*k) if isinstance(r, tuple) and r[1] == j}
    keys = [k for k in keys if k in feeds]
    rows: list = []
    J: dict = {}
    for b in states:
        D: dict = {}
        for k in keys:
            terms = []
            local = run.local_partials(*k)
            for r in local:
                if not isinstance(r, tuple):
                    continue
                through = Fraction(1) if r == (b, prev) else D.get(r)
                if through is None or through == 0:
                    continue
                ld = local_derivative(run, k[0], j, r)
                if ld is None:
                    continue
                terms.append((r, ld, through))
            if not terms:
                continue
            total: Number = Fraction(0)
            for _, ld, through in terms:
                total = total + ld.value * through
            D[k] = total
            rows.append((k, (b, prev), terms, total))
        for a in states:
            J[(a, b)] = D.get((a, j), Fraction(0))
    return rows, J
