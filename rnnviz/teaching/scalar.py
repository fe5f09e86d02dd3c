"""An exact forward pass for scalar models, with every step worked out and derivatives.

For a model whose every symbol is a number (the 1-D ReLU RNN, the scalar LSTM of
the exercises), :class:`ScalarPass` evaluates the expression trees with
:class:`fractions.Fraction` wherever the inputs are exact (ReLU, sums and products
keep a fraction a fraction) and with floats once a sigmoid or tanh makes one. Each
value carries its derivatives (forward mode) with respect to the seeds asked for,
so the same pass gives ``dh_3/dV`` and the local Jacobians ``dh_j/dh_{j-1}`` of the
BPTT sum. :meth:`ScalarPass.worked` writes a step the way a solution sheet does:
``h_1 = relu(V h_0 + W x_1) = relu(-3·0 + 3·2) = relu(6) = 6``.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = relu(V h[t-1] + W x[t])  V = -3  W = 3  h_0 = 0  x = [2, 3, 1]")
    >>> run = ScalarPass.from_model(m, seeds=["V"])
    >>> [str(run.value("h", t)) for t in (1, 2, 3)]
    ['6', '0', '3']
    >>> print(run.worked("h", 1).plain)
    h_1 = relu(V h_0 + W x_1) = relu(-3·0 + 3·2) = relu(6) = 6
    >>> str(run.deriv("h", 3, "V"))
    '0'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..formulas.unrolled import At, Printer, at_steps
from ..language import Model
from ..language import expr as E
from .arith import Number, decimal_text, exact, fmt

__all__ = ["Dual", "ScalarPass", "Backprop", "backprop_of", "computation_order", "Worked", "Lit", "StepPrinter", "is_scalar_model", "uses_fractions", "NotScalar"]


class NotScalar(Exception):
    """The model has vectors: the exact pass does not apply (numpy does the numbers)."""


@dataclass(frozen=True)
class Dual:
    """A value and its derivatives with respect to named seeds (forward mode)."""

    v: Number
    d: dict = field(default_factory=dict)

    def __add__(self, o: "Dual") -> "Dual":
        return Dual(self.v + o.v, _lin(self.d, 1, o.d, 1))

    def __sub__(self, o: "Dual") -> "Dual":
        return Dual(self.v - o.v, _lin(self.d, 1, o.d, -1))

    def __mul__(self, o: "Dual") -> "Dual":
        return Dual(self.v * o.v, _lin(self.d, o.v, o.d, self.v))

    def __neg__(self) -> "Dual":
        return Dual(-self.v, {k: -x for k, x in self.d.items()})

    def scale(self, k: Number, value: Number) -> "Dual":
        """``value`` with derivatives ``k`` times these (the chain rule of a function)."""
        return Dual(value, {n: k * x for n, x in self.d.items()})


def _lin(a: dict, ka: Number, b: dict, kb: Number) -> dict:
    out = {n: ka * x for n, x in a.items()}
    for n, x in b.items():
        out[n] = out.get(n, 0) + kb * x
    return out


def _mixed(x: Number) -> Number:
    """A float that came out whole or simple stays what it is; keeps Fraction/float apart."""
    return x


def _sigmoid(x: Number) -> Number:
    if x == 0:
        return Fraction(1, 2)
    xf = float(x)
    return 1.0 / (1.0 + math.exp(-xf)) if xf >= 0 else math.exp(xf) / (1.0 + math.exp(xf))


def _tanh(x: Number) -> Number:
    return Fraction(0) if x == 0 else math.tanh(float(x))


def _exp(x: Number) -> Number:
    return Fraction(1) if x == 0 else math.exp(float(x))


def _log(x: Number) -> Number:
    if x == 1:
        return Fraction(0)
    if float(x) <= 0:
        raise ValueError("log of a number <= 0")
    return math.log(float(x))


def apply(func: str, x: Dual, relu0: Number) -> Dual:
    """``func(x)`` with its derivative; relu'(0) is ``relu0``."""
    v = x.v
    if func == "identity":
        return x
    if func == "relu":
        out = v if v > 0 else Fraction(0) if isinstance(v, Fraction) else 0.0
        slope = 1 if v > 0 else (relu0 if v == 0 else 0)
        return x.scale(slope, out)
    if func == "sigmoid":
        s = _sigmoid(v)
        return x.scale(s * (1 - s), s)
    if func == "tanh":
        t = _tanh(v)
        return x.scale(1 - t * t, t)
    if func == "exp":
        e = _exp(v)
        return x.scale(e, e)
    if func == "log":
        return x.scale(1 / v if isinstance(v, Fraction) else 1.0 / float(v), _log(v))
    if func in ("square", "sumsq"):  # of one number, sumsq is the square
        return x.scale(2 * v, v * v)
    if func == "softmax":  # of one number: always 1
        return x.scale(0, Fraction(1))
    raise NotScalar(f"no exact rule for {func}")


@dataclass(frozen=True)
class Lit(E.Expr):
    """A number in a worked step (printed exact, or to 4 significant digits)."""

    value: object
    span: object = field(default=None, compare=False, repr=False)


#: A bracketed negative number where no operator precedes it: ``(-3)·0`` at the start is ``-3·0``.
_LEADING_NEGATIVE = re.compile(r"(^|\(|\\left\()\((-(?:\\frac\{\d+\}\{\d+\}|[\d./e]+(?: \\cdot 10\^\{-?\d+\})?))\)")


class StepPrinter(Printer):
    """The formula printer, with numbers (:class:`Lit`) and a visible product dot."""

    def __init__(self, model: Model, *, latex: bool = False, fractions: bool = True, bare=()) -> None:
        super().__init__(model, latex=latex)
        self.fractions = fractions
        #: Names written without a step: what an encoder-decoder computes once (``c``, ``s_0``).
        self.bare = frozenset(bare)

    def name(self, canonical: str, step=None) -> str:
        return super().name(canonical, None if canonical in self.bare else step)

    def _print_Lit(self, e: Lit, parent: int) -> str:
        s = fmt(e.value, latex=self.latex, fractions=self.fractions)
        return f"({s})" if s.startswith("-") else s

    def expr(self, e: E.Expr, parent: int = 0) -> str:
        text = super().expr(e, parent)
        return _LEADING_NEGATIVE.sub(r"\1\2", text) if parent == 0 else text

    def _binary(self, e: E.Expr, parent: int) -> str:
        if isinstance(e, E.Prod) and (isinstance(e.left, Lit) or isinstance(e.right, Lit)):
            e = E.EMul(e.left, e.right)
            dot = " \\cdot " if self.latex else "·"
            prec = 3
            s = self.expr(e.left, prec) + dot + self.expr(e.right, prec + 1)
            return (f"\\left({s}\\right)" if self.latex else f"({s})") if prec < parent else s
        if isinstance(e, E.EMul) and (isinstance(e.left, Lit) or isinstance(e.right, Lit)):
            dot = " \\cdot " if self.latex else "·"
            s = self.expr(e.left, 3) + dot + self.expr(e.right, 4)
            return (f"\\left({s}\\right)" if self.latex else f"({s})") if 3 < parent else s
        return super()._binary(e, parent)

    _print_Add = _print_Sub = _print_Prod = _print_EMul = _print_Neg = _binary


@dataclass(frozen=True)
class Worked:
    """One worked step in plain text and LaTeX: ``name_t = symbolic = numbers = ... = value``."""

    plain: str
    latex: str
    value: Number


def computation_order(model: Model, steps: int) -> list[tuple[str, int]]:
    """(name, step) in the order a hand calculation takes them: sweep by sweep, a backward one from T to 1.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h[t] = tanh(W h[t-1] + x[t])  g[t] = tanh(R g[t+1] + x[t])  o[t] = h[t] + g[t]")
        >>> computation_order(m, 2)
        [('h', 1), ('h', 2), ('g', 2), ('o', 2), ('g', 1), ('o', 1)]
    """
    out = []
    for sweep in model.sweeps:  # an ``end`` sweep (c = h_T, computed once) runs at the last step only
        out += [(name, t) for t in sweep.steps(steps) for name in sweep.targets]
    return out


#: A name at a step relative to t, or a sum over time: the line is an equation.
_AT_TIME = re.compile(r"(_\{?\s*t\b|\[\s*t\b|\(\s*t\s*[-+)]|\\sum)")


def uses_fractions(model: Model) -> bool:
    """Whether the sheet writes exact numbers as fractions: its values use ``\\frac`` or thirds.

    Example:
        >>> from rnnviz.language import load_model
        >>> uses_fractions(load_model("h[t] = V h[t-1]  V = 0.5")), uses_fractions(load_model(r"h[t] = V h[t-1]  V = \\frac{1}{2}"))
        (False, True)
    """
    text = "\n".join(model.sources.values()) + "\n" + model.source
    for piece in re.split(r"\n|\s{2,}|[,;]|\band\b", text):
        # A value's \frac, not an equation's (L^{(t)} = \frac{1}{2}(o^{(t)} - y^{(t)})^2 is no value)
        if "\\frac" in piece and not _AT_TIME.search(piece):
            return True
    for v in model.values:
        if v.kind == "value":
            flat = v.value if isinstance(v.value, list) else [v.value]
            while flat and isinstance(flat[0], list):
                flat = [y for x in flat for y in x]
            if any(isinstance(exact(float(y)), Fraction) and decimal_text(exact(float(y))) is None
                   for y in flat):
                return True
    return False


def is_scalar_model(model: Model, shapes) -> bool:
    """Whether every variable, input and parameter is one number."""
    names = list(model.variables) + list(model.inputs) + list(model.parameters)
    return all(shapes.of(n) == () for n in names)


class ScalarPass:
    """The exact forward pass of a scalar model over ``steps`` steps.

    ``params``: name -> number; ``initial``: (name, step <= 0) -> number (0 when
    missing); ``inputs``: (name, step) -> number (0 when missing); ``seeds``:
    parameter names, or ``(name, step)`` of initial states and inputs, whose
    derivatives every value carries. ``overrides`` replaces computed values
    ((name, step) -> number) as a student's wrong value would, keeping the
    derivatives the chain gives.
    """

    def __init__(self, model: Model, params: dict, initial: dict, inputs: dict, steps: int, *,
                 relu0: Number = 0, functions: dict | None = None, seeds=(), overrides: dict | None = None,
                 flat=()) -> None:
        self.model = model
        #: Functions whose derivative is taken as 1 (a slip ``rnnviz check`` tries: sigmoid' left out).
        self.flat = frozenset(flat)
        self.steps = steps
        self.relu0 = relu0
        self.functions = dict(functions or {})
        self.params = {n: Dual(v, {n: 1} if n in seeds else {}) for n, v in params.items()}
        self.initial = initial
        self.inputs = inputs
        self.seeds = tuple(seeds)
        self.overrides = dict(overrides or {})
        #: Whether exact numbers print as fractions (3/2) or, when short decimals, as decimals (1.5).
        self.fractions = uses_fractions(model)
        #: Names a worked step writes without their step (what is computed once: ``c``, ``s_0``).
        self.bare = frozenset(model.once)
        self.vals: dict[tuple[str, int], Dual] = {}
        self.args: dict[tuple[str, int, int], Dual] = {}  # (target, id of call node, step) -> argument
        #: (name, step) in the order computed: each sweep in turn, a backward one from T down to 1.
        self.order: list[tuple[str, int]] = computation_order(model, steps)
        for name, t in self.order:
            out = self._ev(name, model.equation(name).expr, t)
            if (name, t) in self.overrides:
                out = Dual(self.overrides[(name, t)], out.d)
            if (name, t) in self.seeds:  # a computed value as a seed: dh_3/dh_1 through what reads h_1
                out = Dual(out.v, {**out.d, (name, t): 1})
            self.vals[(name, t)] = out

    # -- construction from a model and its trace ---------------------------------
    @classmethod
    def from_model(cls, model: Model, *, steps: int | None = None, seeds=(), overrides=None, trace=None
                   ) -> "ScalarPass":
        """The exact pass with the model's values, and the numeric forward pass's for the rest.

        A model of one phase only: :func:`rnnviz.teaching.phased.exact_pass` gives an
        encoder-decoder its two passes.
        """
        from ..numeric.forward_pass import forward

        if model.phases is not None:
            raise NotScalar("an encoder-decoder runs two passes (rnnviz.teaching.phased.exact_pass)")
        trace = trace if trace is not None else forward(model, steps=steps)
        if not is_scalar_model(model, trace.shapes):
            raise NotScalar("the model has vectors")
        params, initial, inputs = cls.numbers(model, trace)
        return cls(model, params, initial, inputs, trace.steps, relu0=exact(model.relu_prime0),
                   functions=trace.functions, seeds=seeds, overrides=overrides)

    @staticmethod
    def numbers(model: Model, trace) -> tuple[dict, dict, dict]:
        """The parameters, initial states and inputs: exact as the value lines write them, else the trace's."""
        from ..numeric.values import given_values

        given = given_values(model)
        params = {n: exact(float(given.params[n])) if n in given.params else float(trace.params[n])
                  for n in model.parameters}
        initial = {}
        for name, by_step in trace.initial.items():
            for s, v in by_step.items():
                src = given.initial.get(name, {})
                initial[(name, s)] = exact(float(src[s])) if s in src else exact(float(v))
        inputs = {}
        for name, by_step in trace.inputs.items():
            for s, v in by_step.items():
                src = given.inputs.get(name, {})
                inputs[(name, s)] = exact(float(src[s])) if s in src else float(v)
        return params, initial, inputs

    def with_overrides(self, overrides: dict, seeds=None, *, relu0=None, flat=()) -> "ScalarPass":
        """The same pass with computed values replaced (a student's wrong ones), and what follows from them;
        ``relu0`` another ReLU'(0), ``flat`` functions whose derivative is taken as 1."""
        out = ScalarPass(self.model, {n: d.v for n, d in self.params.items()}, self.initial, self.inputs, self.steps,
                         relu0=self.relu0 if relu0 is None else relu0, functions=self.functions,
                         seeds=self.seeds if seeds is None else seeds, overrides=overrides, flat=flat)
        out.bare = self.bare
        return out

    def relu_args(self) -> list[Number]:
        """The argument of every ReLU at every step."""
        relus = {id(n) for eq in self.model.equations for n in E.walk(eq.expr)
                 if isinstance(n, E.Call) and n.func == "relu"}
        return [a.v for (_, node, _), a in self.args.items() if node in relus]

    # -- evaluation ------------------------------------------------------------------
    def read(self, name: str, s: int) -> Dual:
        if (name, s) in self.vals:
            return self.vals[(name, s)]
        if name in self.model.variables:
            v = self.initial.get((name, s), Fraction(0))
        else:
            v = self.inputs.get((name, s), Fraction(0))
        if (name, s) in self.seeds:
            return Dual(v.v if isinstance(v, Dual) else v, {(name, s): 1})
        # A Dual carries the derivatives of what made it: the context an encoder computed.
        return v if isinstance(v, Dual) else Dual(v)

    def _ev(self, target: str, e: E.Expr, t: int) -> Dual:
        if isinstance(e, E.Num):
            return Dual(exact(e.value))
        if isinstance(e, E.Var):
            return self.read(e.name, t - e.delay)
        if isinstance(e, E.Param):
            return self.params[e.name]
        if isinstance(e, E.Call):
            arg = self._ev(target, e.arg, t)
            self.args[(target, id(e), t)] = arg
            func = self.functions.get(e.func, e.func) if e.generic else e.func
            out = apply(func, arg, self.relu0)
            return arg.scale(1, out.v) if func in self.flat else out
        if isinstance(e, E.Neg):
            return -self._ev(target, e.operand, t)
        if isinstance(e, (E.Add, E.Sub, E.Prod, E.EMul)):
            a, b = self._ev(target, e.left, t), self._ev(target, e.right, t)
            return a + b if isinstance(e, E.Add) else a - b if isinstance(e, E.Sub) else a * b
        raise NotScalar(type(e).__name__)

    def value(self, name: str, t: int) -> Number:
        return self.read(name, t).v

    def deriv(self, name: str, t: int, seed) -> Number:
        return self.read(name, t).d.get(seed, Fraction(0))

    def step_partials(self, t: int, seeds) -> dict[str, Dual]:
        """Step ``t``'s variables with derivatives with respect to ``seeds`` only, earlier steps held fixed.

        ``seeds`` are parameter names or ``(name, step)`` of earlier values: the local
        Jacobians ``dh_t/dh_{t-1}`` and immediate derivatives ``d+h_t/dV`` of the BPTT sum.
        """
        keep = self.vals, self.params, self.seeds
        local: dict[tuple[str, int], Dual] = {}
        try:
            self.params = {n: Dual(d.v, {n: 1} if n in seeds else {}) for n, d in keep[1].items()}
            frozen = {k: Dual(d.v, {k: 1} if k in seeds else {}) for k, d in keep[0].items() if k[1] != t}
            self.vals = {**frozen, **local}
            self.seeds = tuple(k for k in seeds if isinstance(k, tuple))
            for name in [n for n, s in self.order if s == t]:
                self.vals[(name, t)] = Dual(keep[0][(name, t)].v,
                                            self._ev(name, self.model.equation(name).expr, t).d)
            return {eq.target: self.vals[(eq.target, t)] for eq in self.model.equations}
        finally:
            self.vals, self.params, self.seeds = keep

    def local_partials(self, name: str, t: int) -> dict:
        """The partial derivatives of ``name`` at step ``t`` by each thing its equation reads, the rest held.

        Keys are ``(variable, step)`` for a value read (computed, input or initial state)
        and a parameter's name; the numbers are those of the pass. The edges of the
        computational graph that backpropagation walks, each with its weight.
        """
        keep = self.vals, self.params, self.seeds
        eq = self.model.equation(name)
        try:
            self.vals = {k: Dual(d.v, {k: 1}) for k, d in keep[0].items()}
            self.params = {n: Dual(d.v, {n: 1}) for n, d in keep[1].items()}
            reads = {(v.name, t - v.delay) for v in E.walk(eq.expr) if isinstance(v, E.Var)}
            self.seeds = tuple(k for k in reads if k not in self.vals)  # inputs and initial states
            d = self._ev(name, eq.expr, t).d
        finally:
            self.vals, self.params, self.seeds = keep
        return {k: x for k, x in d.items() if x != 0 or k in reads or k in self.params}

    def backprop(self, roots, overrides: dict | None = None) -> "Backprop":
        """Reverse mode by hand: the derivative of the sum of ``roots`` by every value, last computed first.

        Each value's derivative is the sum, over the values that read it, of their
        derivative times the local partial. ``overrides`` ((name, step) -> number) replaces
        a value's derivative as a student's wrong one would, and what is built on it follows.
        """
        return backprop_of(self.order, {k: self.local_partials(*k) for k in self.order}, roots, overrides)

    # -- worked steps ------------------------------------------------------------------
    def _numbers(self, e: E.Expr, t: int) -> E.Expr:
        """The tree at step t with every leaf replaced by its number."""
        if isinstance(e, E.Var):
            return Lit(self.value(e.name, t - e.delay))
        if isinstance(e, E.Param):
            return Lit(self.params[e.name].v)
        if isinstance(e, E.Num):
            return Lit(exact(e.value))
        return _rebuild(e, lambda c: self._numbers(c, t))

    def _calls_done(self, target: str, e: E.Expr, t: int) -> E.Expr:
        """The tree at step t with each outermost call's argument worked out to a number."""
        if isinstance(e, E.Call):
            if e.func == "identity" and not e.generic:
                return self._calls_done(target, e.arg, t)
            return E.Call(e.func, Lit(self.args[(target, id(e), t)].v), e.generic)
        if isinstance(e, E.Var):
            return Lit(self.value(e.name, t - e.delay))
        if isinstance(e, E.Param):
            return Lit(self.params[e.name].v)
        if isinstance(e, E.Num):
            return Lit(exact(e.value))
        return _rebuild(e, lambda c: self._calls_done(target, c, t))

    def worked(self, name: str, t: int) -> Worked:
        """``name_t = symbolic = with numbers = functions' arguments done = value``."""
        eq = self.model.equation(name)
        value = self.value(name, t)
        out = {}
        for latex in (False, True):
            p = StepPrinter(self.model, latex=latex, fractions=self.fractions, bare=self.bare)
            parts = [p.name(name, t), p.expr(at_steps(eq.expr, str(t)))]
            for stage in (self._numbers(eq.expr, t), self._calls_done(name, eq.expr, t)):
                text = p.expr(stage)
                if text != parts[-1]:
                    parts.append(text)
            final = fmt(value, latex=latex, fractions=self.fractions)
            if final != parts[-1]:
                parts.append(final)
            out[latex] = " = ".join(parts)
        return Worked(out[False], out[True], value)


def backprop_of(order: list, local: dict, roots, overrides: dict | None = None) -> "Backprop":
    """Reverse mode over values computed in ``order``, each with its ``local`` partials (see
    :meth:`ScalarPass.backprop`)."""
    readers: dict = {}
    for k in order:
        for src in local[k]:
            if isinstance(src, tuple):
                readers.setdefault(src, []).append(k)
    adj: dict = {}
    for k in reversed(order):
        if k in roots:
            adj[k] = Fraction(1)
        else:
            terms = [adj[r] * local[r][k] for r in readers.get(k, []) if r in adj]
            if terms:
                adj[k] = _total(terms)
        if overrides and k in overrides:
            adj[k] = overrides[k]
    return Backprop(order, local, readers, adj)


def _total(xs) -> Number:
    out: Number = Fraction(0)
    for x in xs:
        out = out + x
    return out


@dataclass
class Backprop:
    """What :meth:`ScalarPass.backprop` found: the local partials, who reads what, and each derivative."""

    order: list
    local: dict
    readers: dict
    adj: dict

    def terms(self, bottom) -> list[tuple[tuple, Number, Number]]:
        """``(reader, its derivative, local partial)`` of the paths into ``bottom`` (a value or a parameter)."""
        if isinstance(bottom, tuple):
            return [(r, self.adj[r], self.local[r][bottom]) for r in self.readers.get(bottom, []) if r in self.adj]
        return [(r, self.adj[r], self.local[r][bottom]) for r in self.order if bottom in self.local[r] and r in self.adj]

    def of(self, bottom) -> Number:
        """The derivative by a computed value, an input, an initial state or a parameter."""
        if isinstance(bottom, tuple) and bottom in self.adj:
            return self.adj[bottom]
        return _total(a * b for _, a, b in self.terms(bottom))


def _rebuild(e: E.Expr, f) -> E.Expr:
    if isinstance(e, (E.Add, E.Sub, E.Prod, E.EMul)):
        return type(e)(f(e.left), f(e.right))
    if isinstance(e, E.Call):
        return E.Call(e.func, f(e.arg), e.generic)
    if isinstance(e, E.Neg):
        return E.Neg(f(e.operand))
    if isinstance(e, E.Concat):
        return E.Concat(tuple(f(i) for i in e.items))
    if isinstance(e, At):
        return e
    return e
