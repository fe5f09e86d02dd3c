"""What a wrong answer most likely got wrong: the slips real solution sheets make.

``rnnviz check`` knows an answer is wrong and what is right; for a model of numbers it
also tries the slips that published solutions and course notes have been corrected for,
and names the one that gives the sheet's number exactly:

- a derivative over time written as its last step's term alone (the paths through the
  earlier states left out: ``dh_t/dW_hh = h_{t-1}``), or a state's Jacobian written as its
  direct path alone (``dc_t/dc_{t-1} = f_t``, the paths through ``h_{t-1}`` left out);
- a derivative taken with the other ReLU'(0) than the one the sheet states;
- a function's derivative left out of the chain (``sigmoid(f)`` where ``sigmoid'(f)`` belongs);
- a weight's derivative that reads the state of the same step instead of the previous
  one (``h_t`` where ``h_{t-1}`` belongs: one step off);
- a value computed with one parameter in place of another (``b_hh`` for ``b_xh``), or the
  value of the step before or after;
- in a model of vectors, a weight used transposed: a value computed with ``W^T h_{t-1}``
  where ``W h_{t-1}`` belongs, or a weight's gradient written in the other orientation
  (``(dL/dW)^T``: ``dL/dW`` has the shape of ``W``).

Each is a note on the verdict (``right for ReLU'(0) = 1; the sheet states 0``), never a
reason to pass a wrong answer.

Example:
    >>> from fractions import Fraction
    >>> from rnnviz.language import load_model
    >>> from rnnviz.teaching.scalar import ScalarPass
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)  V = 0.5  W = 1  h_0 = 0  x = [1, 2, 3]")
    >>> run = ScalarPass.from_model(m, seeds=["V"])
    >>> run.deriv("h", 3, "V"), run.value("h", 2)
    (Fraction(3, 1), Fraction(5, 2))
    >>> diagnose_grad(run, "h", 3, "V", Fraction(4))
    >>> diagnose_grad(run, "h", 3, "V", Fraction(5, 2))
    "the last step's term alone (d+h_3/dV): the paths through the earlier steps are missing"
    >>> diagnose_grad(run, "h", 3, "V", Fraction(23, 4))
    'right if the derivative by V read each state at its own step (h_t where h_(t-1) belongs: one step off)'
"""

from __future__ import annotations

from fractions import Fraction

from ..formulas.unrolled import Printer
from ..language import expr as E
from .arith import Number, fmt, number_matches

__all__ = ["diagnose_grad", "diagnose_value", "diagnose_total_grad", "diagnose_vector_value",
           "diagnose_vector_grad"]


def _same(a: object, b: object) -> bool:
    return number_matches(a, b)  # type: ignore[arg-type]


def _name(run, name: str, step=None) -> str:
    return Printer(run.model).name(name, None if name in getattr(run, "bare", ()) else step)


def _relu_used(model) -> bool:
    return any(isinstance(n, E.Call) and n.func == "relu" for eq in model.equations for n in E.walk(eq.expr))


def _flipped_relu(run):
    """The same pass with the other ReLU'(0) (0 <-> 1), or None where it cannot differ."""
    from .scalar import ScalarPass

    if not isinstance(run, ScalarPass) or not _relu_used(run.model):
        return None
    if not any(a == 0 for a in run.relu_args()):
        return None  # no ReLU meets 0: its derivative there plays no part
    return run.with_overrides({}, relu0=Fraction(1) - Fraction(run.relu0))


def _no_derivative(run, func: str):
    """The pass with ``func``'s derivative taken as 1 (left out of the chain), or None."""
    from .scalar import ScalarPass

    if not isinstance(run, ScalarPass):
        return None
    return run.with_overrides({}, flat=[func])


def _relu_note(run) -> str:
    r0 = Fraction(run.relu0)
    return f"right for ReLU'(0) = {fmt(1 - r0)}; the sheet states ReLU'(0) = {fmt(r0)}"


def _funcs(model) -> list[str]:
    return list(dict.fromkeys(n.func for eq in model.equations for n in E.walk(eq.expr)
                              if isinstance(n, E.Call) and n.func in ("sigmoid", "tanh")))


def _shifted_weight(run, roots: list, wrt: str) -> Number | None:
    """The derivative of the sum of ``roots`` by ``wrt``, with each value ``wrt`` multiplies read at its own
    step where the step before belongs (None when ``wrt`` multiplies no earlier step's value)."""
    from .jacobian import _Deriv

    class Shifted(_Deriv):
        def value(self, e):
            if isinstance(e, E.Var) and e.delay >= 1 and self.shift:
                return self.run.value(e.name, self.t - e.delay + 1)
            return super().value(e)

        def d(self, e):
            if isinstance(e, E.Param):
                return _one() if e.name == wrt else None
            if isinstance(e, (E.Prod, E.EMul)) and any(isinstance(s, E.Param) and s.name == wrt
                                                       for s in (e.left, e.right)):
                self.shift = True
                try:
                    return super().d(e)
                finally:
                    self.shift = False
            return super().d(e)

    def _one():
        from .jacobian import _Term

        return _Term("1", "1", "1", Fraction(1))

    bp = run.backprop(roots)
    total: Number = Fraction(0)
    shifted = False
    for k in bp.order:
        if k not in bp.adj or wrt not in bp.local.get(k, {}):
            continue
        d = Shifted(run, k[0], k[1], ("", -1), False)
        d.shift = False
        term = d.d(run.model.equation(k[0]).expr)
        if term is None:
            continue
        shifted = shifted or any(isinstance(v, E.Var) and v.delay >= 1 for v in E.walk(run.model.equation(k[0]).expr))
        total = total + bp.adj[k] * term.value
    return total if shifted else None


def diagnose_grad(run, name: str, t: int, wrt, given: object) -> str | None:
    """Why ``d name_t / d wrt = given`` is wrong, if a known slip gives it; else None."""
    expected = run.deriv(name, t, wrt)
    if not isinstance(given, (Fraction, float)) or _same(given, expected):
        return None
    # The last step's term alone, or a Jacobian's direct path alone.
    local = run.step_partials(t, [wrt]).get(name) if not (isinstance(wrt, tuple) and wrt[1] == t) else None
    if local is not None:
        direct = local.d.get(wrt, Fraction(0))
        if not _same(direct, expected) and _same(given, direct):
            who = _name(run, wrt[0], wrt[1]) if isinstance(wrt, tuple) else _name(run, wrt)
            if isinstance(wrt, tuple):
                return (f"the direct path alone (d+{_name(run, name, t)}/d{who}, the other values of step {t} "
                        "held): the paths through them are missing")
            return (f"the last step's term alone (d+{_name(run, name, t)}/d{who}): the paths through the "
                    "earlier steps are missing")
    flipped = _flipped_relu(run)
    if flipped is not None and _same(given, flipped.deriv(name, t, wrt)):
        return _relu_note(run)
    for func in _funcs(run.model):
        alt = _no_derivative(run, func)
        if alt is not None and _same(given, alt.deriv(name, t, wrt)):
            return f"right with {func}' left out of the chain (taken as 1)"
    if isinstance(wrt, str):
        shifted = _shifted_weight(run, [(name, t)], wrt)
        if shifted is not None and not _same(shifted, expected) and _same(given, shifted):
            return (f"right if the derivative by {_name(run, wrt)} read each state at its own step "
                    "(h_t where h_(t-1) belongs: one step off)")
    return None


def diagnose_total_grad(run, per: str, steps: int, wrt, given: object) -> str | None:
    """Why the derivative of a loss summed over time is wrong, if a known slip gives it; else None."""
    def total(p) -> Number:
        out: Number = Fraction(0)
        for s in range(1, steps + 1):
            out = out + p.deriv(per, s, wrt)
        return out

    if not isinstance(given, (Fraction, float)) or _same(given, total(run)):
        return None
    flipped = _flipped_relu(run)
    if flipped is not None and _same(given, total(flipped)):
        return _relu_note(run)
    for func in _funcs(run.model):
        alt = _no_derivative(run, func)
        if alt is not None and _same(given, total(alt)):
            return f"right with {func}' left out of the chain (taken as 1)"
    if isinstance(wrt, str):
        shifted = _shifted_weight(run, [(per, s) for s in range(1, steps + 1)], wrt)
        if shifted is not None and not _same(shifted, total(run)) and _same(given, shifted):
            return (f"right if the derivative by {_name(run, wrt)} read each state at its own step "
                    "(h_t where h_(t-1) belongs: one step off)")
    return None


def diagnose_value(run, name: str, t: int, given: object) -> str | None:
    """Why a forward value is wrong, if a known slip gives it (earlier values as computed); else None."""
    from .scalar import Dual, ScalarPass

    if not isinstance(given, (Fraction, float)) or not isinstance(run, ScalarPass):
        return None
    for s in (t - 1, t + 1):  # the value of the step before or after
        if 1 <= s <= run.steps and (name, s) in run.vals and _same(given, run.value(name, s)) \
                and not _same(given, run.value(name, t)):
            return f"that is {_name(run, name, s)}: one step off"
    eq = run.model.equation(name)
    used = list(dict.fromkeys(n.name for n in E.walk(eq.expr) if isinstance(n, E.Param)))
    keep = run.params
    try:
        for p in used:
            for q in run.model.parameters:
                if q == p or keep[q].v == keep[p].v:
                    continue
                run.params = {**keep, p: Dual(keep[q].v)}
                value = run._ev(name, eq.expr, t).v
                if _same(given, value):
                    return f"right with {_name(run, q)} in place of {_name(run, p)}"
    finally:
        run.params = keep
    return None


class _Swapped:
    """A forward pass's values with some parameters replaced (and some values, as a sheet gives them)."""

    def __init__(self, trace, params: dict, values: dict | None = None):
        self._trace, self.params, self._values = trace, {**trace.params, **params}, values or {}

    def value(self, name: str, t: int):
        if (name, t) in self._values:
            return self._values[(name, t)]
        return self._trace.value(name, t)

    def __getattr__(self, attr):
        return getattr(self._trace, attr)


def _tree_matches(given: object, expected) -> bool:
    import numpy as np

    arr = np.asarray(expected, dtype=float)
    if arr.ndim == 0:
        return not isinstance(given, list) and _same(given, float(arr))
    if not isinstance(given, list) or len(given) != len(arr):
        return False
    return all(_tree_matches(g, e) for g, e in zip(given, arr))


def _transposable(value) -> bool:
    import numpy as np

    arr = np.asarray(value, dtype=float)
    return arr.ndim == 2 and arr.size > 1 and not (arr.shape[0] == arr.shape[1] and np.allclose(arr, arr.T))


def vector_value(model, trace, name: str, t: int, params: dict | None = None, values: dict | None = None):
    """``name`` at step ``t`` of a model of vectors, from the values it reads (``values`` replacing some)."""
    from .vectors import evaluate

    return evaluate(model, _Swapped(trace, params or {}, values), model.equation(name).expr, t)


def diagnose_vector_value(model, trace, name: str, t: int, given: object) -> str | None:
    """Why a vector value is wrong, if a weight used transposed gives it (earlier values right); else None."""
    import numpy as np

    if not isinstance(given, list):
        return None
    used = list(dict.fromkeys(n.name for n in E.walk(model.equation(name).expr) if isinstance(n, E.Param)))
    for p in used:
        w = np.asarray(trace.params[p], dtype=float)
        if not _transposable(w):
            continue
        try:
            value = vector_value(model, trace, name, t, {p: w.T})
        except ValueError:  # the transpose does not fit what it multiplies
            continue
        if _tree_matches(given, value):
            who = _name_of_param(model, p)
            return f"right with {who}^T in place of {who}: the weight transposed"
    return None


def diagnose_vector_grad(model, wrt, expected: object, given: object) -> str | None:
    """Why a weight's gradient is wrong, if it is the right one transposed; else None."""
    import numpy as np

    if not isinstance(wrt, str) or not isinstance(given, list) or not _transposable(expected):
        return None
    arr = np.asarray(expected, dtype=float)
    if _tree_matches(given, arr.T):
        who = _name_of_param(model, wrt)
        return (f"the transpose of the gradient by {who}: it has the shape of {who} "
                f"({arr.shape[0]}×{arr.shape[1]}), entry (i, j) the derivative by {who}_ij")
    return None


def _name_of_param(model, p: str) -> str:
    return Printer(model).name(p, None)
