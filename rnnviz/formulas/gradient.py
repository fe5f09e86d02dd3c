"""The textbook expansion of a derivative through time, with its Jacobians spelled out.

For a vanilla RNN ``h_t = f(W h_{t-1} + U x_t)`` the derivative of ``h_3``
with respect to a weight is a sum over time of products of Jacobians::

    dh_3/dW = sum_{k=1}^{3} (prod_{j=k+1}^{3} dh_j/dh_{j-1}) dh_k^+/dW

with ``dh_j/dh_{j-1} = diag(f'(a_j)) W``. The Jacobians are derived
symbolically from the model's expression trees (:mod:`rnnviz.formulas.jacobian`), so gated cells get theirs
too (through their gates, one named partial derivative per intermediate
variable); several recurrent variables are stacked into one state
``s_t = (h_t, c_t)`` whose Jacobian has one block per pair.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = f(W h[t-1] + U x[t])")
    >>> print(gradient_formula(m, "h[3]", "W"))
    dh_3/dW = sum_{k=1}^{3} (prod_{j=k+1}^{3} dh_j/dh_{j-1}) dh_k^+/dW
    where (^+ : the immediate derivative, earlier steps held fixed)
      dh_j/dh_{j-1} = diag(f'(a_j)) W
      dh_k^+/dW = diag(f'(a_k)) d(W h_{k-1})/dW
      a_j = W h_{j-1} + U x_j
      d(W u)/dW: the entries d(W u)_i/dW_il = u_l; for a scalar loss L, dL/dW = g u^T with g = dL/d(W u)
      why it vanishes or explodes: the norm of a product of Jacobians is at most the product of their norms; below 1 each, it shrinks geometrically with the number of steps, above 1 it can grow; ||diag(f'(a_j)) W|| <= max|f'| sigma_max(W) (see rnnviz plot --grad-norms)
"""

from __future__ import annotations

from dataclasses import replace

from ..language import Model
from ..language import expr as E
from ..language.directions import Sweep
from ..numeric.target import Target, _error, parse_target
from .jacobian import (
    Deriv,
    Diag,
    FPrime,
    Ident,
    J,
    Mat,
    Mul,
    ParamD,
    Partial,
    Scale,
    Stack,
    Sum,
    RowD,
    XentD,
    Zero,
    cross_entropy_parts,
    jacobian_blocks,
    partials,
)
from .unrolled import Printer, at_steps

__all__ = ["gradient_formula", "jacobian_blocks"]


# -- printing ----------------------------------------------------------------------


class _JPrinter:
    def __init__(self, model: Model, latex: bool) -> None:
        self.model = model
        self.p = Printer(model, latex=latex)
        self.latex = latex
        self.preacts: dict[int, str] = {}
        self.used: dict[int, tuple[str, E.Call]] = {}
        self._name_preacts()

    def _name_preacts(self) -> None:
        letter = next(c for c in ("a", "z", "u", "v") if c not in self.model.symbols)
        found = [(eq.target, n) for eq in self.model.equations for n in E.walk(eq.expr)
                 if isinstance(n, E.Call) and not isinstance(n.arg, (E.Var, E.Param, E.Num))
                 and not (n.func == "identity" and not n.generic)]
        per_eq: dict[str, int] = {}
        for target, _ in found:
            per_eq[target] = per_eq.get(target, 0) + 1
        seen: dict[str, int] = {}
        for target, call in found:
            seen[target] = seen.get(target, 0) + 1
            if len(found) == 1:
                label = letter
            else:
                label = f"{letter}^{self.p.name(target)}"
                if per_eq[target] > 1:
                    label += f",{seen[target]}"
            self.preacts[id(call)] = label

    def preact(self, call: E.Call, idx: str) -> str:
        label = self.preacts[id(call)]
        self.used[id(call)] = (label, call)
        if self.latex:
            base, _, sup = label.partition("^")
            return f"{base}^{{{sup}}}_{{{idx}}}" if sup else f"{base}_{{{idx}}}"
        return f"{label}_{idx}"

    def d(self, num: str, den: str, plus: bool = False) -> str:
        if self.latex:
            mark = "^{+}" if plus else ""
            return f"\\frac{{\\partial{mark} {num}}}{{\\partial {den}}}"
        return f"d{num}{'^+' if plus else ''}/d{den}"

    def j(self, x: J, idx: str, wrt: str, plus: bool, parent: int = 0) -> str:
        P, L = self.p, self.latex
        if isinstance(x, Zero):
            return "0"
        if isinstance(x, Ident):
            return "I"
        if isinstance(x, Scale):
            v = x.value
            return str(int(v)) if float(v).is_integer() else repr(v)
        if isinstance(x, Mat):
            s = P.name(x.param)
            if x.block is not None:
                part = P.expr(at_steps(x.block, idx))
                # The block of columns acting on one item of a concatenation.
                s = f"{{{s}}}_{{[:,\\,{part}]}}" if L else f"{s}[:, {part}]"
            if x.transpose:
                s = f"{{{s}}}^{{\\top}}" if L else f"{s}^T"
            return s
        if isinstance(x, Diag):
            inner = P.expr(at_steps(x.expr, idx))
            return f"\\operatorname{{diag}}\\left({inner}\\right)" if L else f"diag({inner})"
        if isinstance(x, FPrime):
            arg = x.call.arg
            a = P.expr(at_steps(arg, idx)) if id(x.call) not in self.preacts else self.preact(x.call, idx)
            if x.call.func == "softmax" and not x.call.generic:
                return f"J_{{\\mathrm{{softmax}}}}\\left({a}\\right)" if L else f"J_softmax({a})"
            f = P.func(x.call)
            return f"\\operatorname{{diag}}\\left({f}'({a})\\right)" if L else f"diag({f}'({a}))"
        if isinstance(x, XentD):
            o, y = P.expr(at_steps(x.scores, idx)), P.expr(at_steps(x.target, idx))
            if x.of_target:
                return (f"-\\log\\mathrm{{softmax}}\\left({o}\\right)^{{\\top}}" if L
                        else f"-logsoftmax({o})^T")
            return (f"\\left(\\mathrm{{softmax}}\\left({o}\\right) - \\operatorname{{onehot}}\\left({y}\\right)"
                    f"\\right)^{{\\top}}" if L else f"(softmax({o}) - onehot({y}))^T")
        if isinstance(x, RowD):
            if x.kind == "sum":
                return "\\mathbf{1}^{\\top}" if L else "1^T"
            inner = P.expr(at_steps(x.expr, idx))  # type: ignore[arg-type]
            if x.kind == "pick":
                return (f"\\operatorname{{onehot}}\\left({inner}\\right)^{{\\top}}" if L else f"onehot({inner})^T")
            return f"2\\left({inner}\\right)^{{\\top}}" if L else f"2 ({inner})^T"
        if isinstance(x, Partial):
            return self.d(P.name(x.var, idx), wrt, plus)
        if isinstance(x, ParamD):
            inner = P.expr(at_steps(x.prod, idx))
            return self.d(P.paren(inner), P.name(x.param))
        if isinstance(x, Mul):
            s = (" " if not L else "\\, ").join(self.j(f, idx, wrt, plus, 2) for f in x.factors)
            return f"({s})" if parent > 2 else s
        if isinstance(x, Sum):
            parts = []
            for i, (sign, t) in enumerate(x.terms):
                body = self.j(t, idx, wrt, plus, 1)
                parts.append(("- " if sign < 0 else "+ " if i else "") + body)
            s = " ".join(parts)
            return (P.paren(s)) if parent >= 1 else s
        if isinstance(x, Stack):
            if L:
                rows = " \\\\ ".join(self.j(i, idx, wrt, plus) for i in x.items)
                return "\\begin{bmatrix}" + rows + "\\end{bmatrix}"
            return "[" + "; ".join(self.j(i, idx, wrt, plus) for i in x.items) + "]"
        raise AssertionError(x)  # pragma: no cover


# -- the expansion -----------------------------------------------------------------


def _state_vars(model: Model) -> list[str]:
    return [n for n in model.recurrent]


def _joint(model: Model) -> str:
    """The letter of the stacked state (h_t, c_t): ``s``, unless the equations already use it.

    Goodfellow's LSTM calls its cell state s, and "s_t = (s_t, h_t)" would say nothing.

    Example:
        >>> from rnnviz import load_model
        >>> _joint(load_model("h[t] = tanh(W h[t-1] + c[t-1])\\nc[t] = h[t-1]"))
        's'
        >>> _joint(load_model("h[t] = tanh(W h[t-1] + s[t-1])\\ns[t] = h[t-1]"))
        'S'
    """
    used = {sym.display.base for sym in model.symbols.values()} | set(model.symbols)
    return next((c for c in ("s", "S", "z", "u", "w") if c not in used), "s")


class _Defs:
    """The "where" lines: each queued partial derivative, then the ones it names, then the a_j."""

    def __init__(self, model: Model, jp: _JPrinter, param_name: str = "") -> None:
        self.model, self.jp, self.param_name = model, jp, param_name
        self.pending: list[tuple[tuple, str, str, bool, frozenset]] = []
        self.done: set = set()
        self.lines: list[str] = []

    def queue(self, w: tuple, var: str, idx: str, plus: bool = False, hold: frozenset = frozenset()) -> None:
        key = (w, var, idx, plus)
        if key not in self.done:
            self.done.add(key)
            self.pending.append((w, var, idx, plus, hold))

    def wname(self, w: tuple, idx: str) -> str:
        if w[0] == "param":
            return self.param_name
        return self.jp.p.name(w[1], idx if w[2] == 0 else f"{idx}{-w[2]:+d}")

    def run(self) -> list[str]:
        jp, P = self.jp, self.jp.p
        while self.pending:
            w, var, idx, plus, hold = self.pending.pop(0)
            expr = Deriv(self.model, w, hold=hold).d(self.model.equation(var).expr)
            wname = self.wname(w, idx)
            self.lines.append(f"{jp.d(P.name(var, idx), wname, plus)} = {jp.j(expr, idx, wname, plus)}")
            for n in partials(expr):
                self.queue(w, n, idx, plus, hold)
        for label, call in jp.used.values():
            base, _, sup = label.partition("^")
            name = (f"{base}^{{{sup}}}_{{j}}" if sup else f"{base}_{{j}}") if jp.latex else f"{label}_j"
            self.lines.append(f"{name} = {P.expr(at_steps(call.arg, 'j'))}")
        return self.lines


_VANISH = ("why it vanishes or explodes: the norm of a product of Jacobians is at most the product of "
           "their norms; below 1 each, it shrinks geometrically with the number of steps, above 1 it can grow; "
           "||diag(f'(a_j)) W|| <= max|f'| sigma_max(W) (see rnnviz plot --grad-norms)")


def _state_block(model: Model, states: list[str], defs: _Defs) -> None:
    for s2 in states:
        for s1 in states:
            if Deriv(model, ("var", s1, 1)).depends(s2):
                defs.queue(("var", s1, 1), s2, "j")


def gradient_formula(model: Model, target: str | Target, wrt: str, *, latex: bool = False,
                     steps: int | None = None) -> str:
    """The derivative of ``target`` with respect to the parameter ``wrt``, expanded over time.

    ``steps`` is T, the input sequence's length, where the file gives no input sequence: the
    encoder's steps of an encoder-decoder, or the last step of a value computed once at T.

    Raises:
        TargetError: a bad target, or ``wrt`` that is not a parameter.
    """
    tgt = parse_target(target, model) if isinstance(target, str) else target
    if model.phases is not None:
        return _phased_gradient(model, tgt, wrt, latex=latex, text=str(target), steps=steps)
    if tgt.step is None and tgt.name in model.once:  # o = V h_T + c: one value, at step T
        from .unrolled import _steps_given

        last = steps or _steps_given(model)
        if last is None:
            raise _error(f"{tgt.name} is computed once, at the last step T; write the step, as in "
                         f"{tgt.name}[5], or give the input sequence (or --steps T)", str(target))
        tgt = Target(tgt.name, last, tgt.component, False)
    if model.backward:
        # The expansion below follows the reads back in time only; a backward chain carries
        # the derivative from later steps too. Where wrt never reaches a backward chain (the
        # forward chain's weights of a bidirectional RNN, the output's), the backward chain is
        # a given input for this derivative, and the forward expansion is the whole of it.
        reduced = _backward_as_inputs(model, wrt)
        mirrored = _forward_as_inputs(model, wrt) if reduced is None else None
        given = reduced or mirrored
        if given is not None and tgt.name not in given.variables:  # a chain the other way, given here
            P, jp = Printer(model, latex=latex), _JPrinter(model, latex)
            head = jp.d(P.name(tgt.name, "t" if tgt.step is None else str(tgt.step)), P.name(wrt))
            return f"{head} = 0   ({P.name(tgt.name)} does not depend on {P.name(wrt)})" if not latex else f"{head} = 0"
        if reduced is not None:
            return gradient_formula(reduced, tgt, wrt, latex=latex, steps=steps)
        # A weight of the backward chains only: the forward chains are given inputs, and the
        # expansion is the forward one mirrored, from T down to t.
        if mirrored is None:
            raise _error(f"the expansion over time follows one direction; {wrt} reaches both the forward "
                         f"chain ({', '.join(model.recurrent)}) and the backward one ({', '.join(model.backward)})",
                         wrt, file="--grad",
                         hint="rnnviz grad computes the gradient by backpropagation through both directions; "
                              "--grad of a weight of one chain or of the output is expanded")
        from .unrolled import _steps_given

        return _backward_gradient(mirrored, tgt, wrt, latex=latex, steps=steps or _steps_given(model))
    if wrt not in model.parameters:
        at = _variable_at(model, wrt)
        if at is None:
            choices = model.parameters + [f"{r}[0]" for r in model.recurrent] + [f"{x}[1]" for x in model.inputs]
            raise _error(f"'{wrt}' is not a parameter, an initial state or an input at a step; --grad takes "
                         "one of " + ", ".join(choices), wrt, file="--grad")
        return _through_states(model, tgt, at[0], at[1], latex=latex, text=wrt)
    jp = _JPrinter(model, latex)
    P = jp.p
    states = _state_vars(model)
    big_t = "t" if tgt.step is None else str(tgt.step)
    v = tgt.name
    V = P.name(wrt)
    lines: list[str] = []
    defs = _Defs(model, jp, V)

    def sumtex(lo: str, hi: str, body: str, op: str = "sum") -> str:
        return f"{chr(92) if latex else ''}{op}_{{{lo}}}^{{{hi}}} {body}"

    param_states = [s for s in states if Deriv(model, ("param", wrt)).depends(s)]
    in_states = v in states
    if len(states) <= 1:
        s_name = lambda i: P.name(states[0], i) if states else ""  # noqa: E731
    else:
        J = _joint(model)
        s_name = lambda i: (f"{J}_{{{i}}}" if latex else (f"{J}_{i}" if len(i) == 1 or i.isdigit() else f"{J}_{{{i}}}"))  # noqa: E731,E501
    tsum = ""
    if param_states:
        prod = sumtex("j=k+1", big_t, jp.d(s_name("j"), s_name("j-1")), "prod")
        prod = P.paren(prod)
        tsum = sumtex("k=1", big_t, f"{prod} {jp.d(s_name('k'), V, True)}")
    head = jp.d(P.name(v, big_t), V)
    if tgt.step is None:
        total = P.paren(("\\sum_t " if latex else "sum_t ") + P.name(v, "t"))
        lines.append(f"{jp.d(total, V)} = {sumtex('t=1', 'T', head)}")
    rhs: list[str] = []
    if in_states and len(states) == 1:
        if tsum:  # else the state does not depend on wrt
            rhs.append(tsum)
    else:
        own = Deriv(model, ("param", wrt), hold=frozenset(states))
        if own.depends(v) and not in_states:
            rhs.append(jp.d(P.name(v, big_t), V, True))
            defs.queue(("param", wrt), v, big_t, True, hold=frozenset(states))
        if param_states and in_states:
            rhs.append(f"[{tsum}]_{P.name(v)}" if not latex else f"\\left[{tsum}\\right]_{{{P.name(v)}}}")
        elif param_states:
            for s in states:
                if Deriv(model, ("var", s, 0), hold=frozenset(states)).depends(v):
                    rhs.append(f"{jp.d(P.name(v, big_t), P.name(s, big_t))} "
                               f"{jp.d(P.name(s, big_t), V)}")
                    defs.queue(("var", s, 0), v, big_t, hold=frozenset(states))
            if len(states) > 1:
                J = _joint(model)
                rhs.append(f"with d{J}_{big_t}/d{V} = {tsum}" if not latex else f"\\quad \\frac{{\\partial {J}_{{{big_t}}}}}{{\\partial {V}}} = {tsum}")
            else:
                rhs.append(f"with {jp.d(s_name(big_t), V)} = {tsum}" if not latex else
                           f"\\quad {jp.d(s_name(big_t), V)} = {tsum}")
    if not rhs:
        lines.append(f"{head} = 0   ({P.name(v)} does not depend on {V})" if not latex else f"{head} = 0")
        return "\n".join(lines)
    joined = " + ".join(r for r in rhs if not r.startswith(("with", "\\quad")))
    extra = [r for r in rhs if r.startswith(("with", "\\quad"))]
    lines.append(f"{head} = {joined}" + ("" if not extra else ("\n  " if not latex else " ") + extra[0]))
    if len(states) > 1 and param_states:
        names = ", ".join(P.name(s, "t") for s in states)
        lines.append(f"{_joint(model)}_t = ({names})" if not latex else f"{_joint(model)}_t = \\left({names}\\right)")
    # Jacobians of the state, and the immediate derivatives.
    if param_states:
        _state_block(model, states, defs)
        for s in param_states:
            defs.queue(("param", wrt), s, "k", True)
    return _finish(model, tgt, lines, defs.run(), states, latex, V=V, products=bool(param_states))


def _variable_at(model: Model, text: str) -> tuple[str, int] | None:
    """``h[0]``, ``h_0``, ``x[2]``, ``x_2``: a recurrent variable or an input at a fixed step."""
    from ..language.parse import parse_text

    try:
        name = parse_text(f"{text} = 0", "--grad").statements[0].lhs
    except Exception:
        return None
    canonical, step = name.canonical, None
    if name.time is not None and name.time.absolute:
        step = name.time.offset
    elif (found := model.step_in_subscript(name)) is not None:
        canonical, step = found
    if step is None or not (canonical in model.recurrent or canonical in model.inputs):
        return None
    return canonical, step


def _through_states(model: Model, tgt: Target, name: str, step: int, *, latex: bool, text: str) -> str:
    """d target / d (initial state h_0, or input x_k): a product of state Jacobians."""
    jp = _JPrinter(model, latex)
    P = jp.p
    states = _state_vars(model)
    if tgt.step is None:
        raise _error(f"--grad {text} takes a target at one step, such as {tgt.name}[3]", text)
    T, v = tgt.step, tgt.name
    is_input = name in model.inputs
    if is_input and not 1 <= step <= T:
        raise _error(f"'{text}': an input at a step from 1 to {T} can change {tgt}", text, file="--grad")
    if not is_input and step != 0:
        raise _error(f"'{text}': the initial state is {name}[0]", text, file="--grad")
    defs = _Defs(model, jp)
    W = P.name(name, step)
    multi = len(states) > 1

    def s_name(i: str) -> str:
        if not multi:
            return P.name(states[0], i)
        J = _joint(model)
        return f"{J}_{{{i}}}" if latex or not (len(i) == 1 or i.isdigit()) else f"{J}_{i}"

    lo = step + 1
    prod_body = jp.d(s_name("j"), s_name("j-1"))
    prod = (f"{chr(92) if latex else ''}prod_{{j={lo}}}^{{{T}}} {prod_body}") if lo <= T else ""
    if is_input and not prod and v in states and not multi:
        # The input of the target's own step: one Jacobian, no product.
        expr = Deriv(model, ("var", name, 0)).d(model.equation(v).expr)
        body = jp.j(expr, str(step), W, False)
        return _finish(model, tgt, [f"{jp.d(P.name(v, T), W)} = {body}"], defs.run(), states, latex,
                       V=None, products=False)
    if is_input:
        first = jp.d(s_name(str(step)), W)
        for s in states:
            if Deriv(model, ("var", name, 0)).depends(s):
                defs.queue(("var", name, 0), s, str(step))
        chain = f"{P.paren(prod)} {first}" if prod else first
    else:
        chain = prod or "I"
    if multi:
        chain = (f"\\left[{chain}\\right]" if latex else f"[{chain}]")
    lines: list[str] = []
    head = jp.d(P.name(v, T), W)
    if v in states:
        rhs = chain + (f"_{{{P.name(v)}}}" if multi and latex else f"_{P.name(v)}" if multi else "")
    else:
        # A stacked chain is bracketed already; its block is picked by the subscript.
        parts = [f"{jp.d(P.name(v, T), P.name(s, T))} " + (f"{chain}_{P.name(s)}" if multi else f"[{chain}]")
                 for s in states if Deriv(model, ("var", s, 0), hold=frozenset(states)).depends(v)]
        for s in states:
            if Deriv(model, ("var", s, 0), hold=frozenset(states)).depends(v):
                defs.queue(("var", s, 0), v, str(T), hold=frozenset(states))
        if is_input and Deriv(model, ("var", name, 0), hold=frozenset(states)).depends(v) and step == T:
            parts.insert(0, jp.d(P.name(v, T), W, True))
            defs.queue(("var", name, 0), v, str(T), True, hold=frozenset(states))
        rhs = " + ".join(parts) if parts else "0"
    lines.append(f"{head} = {rhs}")
    if multi:
        names = ", ".join(P.name(s, "t") for s in states)
        lines.append(f"{_joint(model)}_t = ({names})" if not latex else f"{_joint(model)}_t = \\left({names}\\right)")
    if prod:
        _state_block(model, states, defs)
    return _finish(model, tgt, lines, defs.run(), states, latex, V=None, products=bool(prod))


def _finish(model: Model, tgt: Target, lines: list[str], defs: list[str], states: list[str], latex: bool,
            *, V: str | None, products: bool, later: bool = False) -> str:
    """The head lines, "where", the definitions and the notes (``later``: the states are backward
    chains, whose Jacobians are with respect to the step after)."""
    P = Printer(model, latex=latex)
    v, big_t = tgt.name, ("t" if tgt.step is None else str(tgt.step))
    if latex:
        return "\n".join(lines + (["\\text{where}"] + [d + " \\\\" for d in defs] if defs else []))
    note = [f"d({V} u)/d{V}: the entries d({V} u)_i/d{V}_il = u_l; for a scalar loss L, "
            f"dL/d{V} = g u^T with g = dL/d({V} u)"] if V and any("d(" in d for d in defs) else []
    if any("onehot(" in d and "softmax(" in d for d in defs):
        note.append("(softmax(o) - onehot(y))^T: the derivative of cross_entropy(o, y) with respect to its scores o, "
                    "for a target whose entries sum to 1 (a class index, a one-hot vector, probabilities)")
    if products:
        note.append(_VANISH)
    if len(states) > 1 and products:
        J = _joint(model)
        note.append(f"the blocks of d{J}_j/d{J}_{{j{'+' if later else '-'}1}} not listed are 0")
    if tgt.component is not None:
        note.append(f"{tgt}: component {tgt.component} of {P.name(v, big_t)}, row {tgt.component} "
                    "of the Jacobian above")
    for r in states:
        if later and max(model.leads(r)) > 1:
            note.append(f"{r} is also read {max(model.leads(r))} steps ahead; these Jacobians follow the reads "
                        f"one step ahead only (stack {r}_t, {r}_(t+1), ... into the state to include the others)")
        elif not later and model.max_delay(r) > 1:
            note.append(f"{r} is also read {model.max_delay(r)} steps back; these Jacobians follow the reads "
                        f"one step back only (stack {r}_t, {r}_(t-1), ... into the state to include the others)")
    if not defs and not note:
        return "\n".join(lines)
    plus = any("^+" in line for line in lines + defs)
    held = "later" if later else "earlier"
    where = f"where (^+ : the immediate derivative, {held} steps held fixed)" if plus else "where"
    return "\n".join(lines + [where] + ["  " + d for d in defs + note])


def _backward_as_inputs(model: Model, wrt: str) -> Model | None:
    """``model`` with its backward chains (and what only they need) as given inputs, when nothing that
    depends on ``wrt`` (a parameter, or a variable's initial state or an input at a step) reaches them;
    else None. Their derivative with respect to ``wrt`` is zero, so the forward chains' expansion is the
    whole derivative.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h[t] = tanh(W h[t-1] + x[t])\\ng[t] = tanh(R g[t+1] + x[t])\\no[t] = V h[t] + Q g[t]")
        >>> _backward_as_inputs(m, "W").inputs, _backward_as_inputs(m, "R")
        (['x', 'g'], None)
    """
    at = _variable_at(model, wrt)
    reached = _reached(model, at[0] if at is not None else wrt)
    if at is not None:
        reached.add(at[0])
    backward = set(model.backward)
    if reached & backward:
        return None
    return _given_as_inputs(model, backward, drop="backward")


def _reached(model: Model, name: str) -> set[str]:
    """The variables that depend on ``name`` (a parameter, or a variable), at some step."""
    reached: set[str] = set()
    changed = True
    while changed:
        changed = False
        for eq in model.equations:
            if eq.target in reached:
                continue
            names = {n.name for n in E.walk(eq.expr) if isinstance(n, (E.Var, E.Param))}
            if name in names or names & reached:
                reached.add(eq.target)
                changed = True
    return reached


def _given_as_inputs(model: Model, given: set[str], *, drop: str) -> Model:
    """``model`` with the variables ``given`` as inputs (given at each step) and the sweeps running in
    direction ``drop`` left out: what :func:`_backward_as_inputs` and :func:`_forward_as_inputs` return."""
    equations = tuple(eq for eq in model.equations if eq.target not in given)
    symbols = {n: (replace(sym, kind="input", role="input") if n in given else sym)
               for n, sym in model.symbols.items()}
    sweeps = tuple(Sweep(sw.direction, tuple(t for t in sw.targets if t not in given),
                         tuple(c for c in sw.chains if c not in given), sw.phase)
                   for sw in model.sweep_list if sw.direction != drop)
    return Model(equations, symbols, model.values, model.file, model.source, model.sources, [],
                 tuple(sw for sw in sweeps if sw.targets), model.totals, model.means)


def _forward_as_inputs(model: Model, wrt: str) -> Model | None:
    """``model`` with its forward chains as given inputs, when ``wrt`` is a parameter that reaches
    the backward chains and no forward one (the backward chain's weights of a bidirectional RNN);
    else None. The forward chains' derivative with respect to ``wrt`` is zero.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h[t] = tanh(W h[t-1] + x[t])\\ng[t] = tanh(R g[t+1] + x[t])\\no[t] = V h[t] + Q g[t]")
        >>> _forward_as_inputs(m, "R").inputs, _forward_as_inputs(m, "R").backward, _forward_as_inputs(m, "x[1]")
        (['h', 'x'], ['g'], None)
    """
    if wrt not in model.parameters:
        return None
    reached = _reached(model, wrt)
    given = set(model.recurrent)
    if reached & given or not reached & set(model.backward):
        return None
    return _given_as_inputs(model, given, drop="forward")


def _backward_gradient(model: Model, tgt: Target, wrt: str, *, latex: bool, steps: int | None = None) -> str:
    """The expansion of a derivative with respect to a weight of the backward chains, whose chain
    rule runs through ``g_t <- g_{t+1} <- ... <- g_T``: the forward expansion with time reversed,

        dg_t/dR = sum_{k=t}^{T} (prod_{j=t}^{k-1} dg_j/dg_{j+1}) dg_k^+/dR

    (``model``: the forward chains given as inputs, :func:`_forward_as_inputs`; ``steps``: T, else
    the sum's end is written T).

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("g[t] = tanh(R g[t+1] + S x[t])\\nx = [1, 2, 3]")
        >>> print(_backward_gradient(m, parse_target("g[2]", m), "R", latex=False, steps=3).splitlines()[0])
        dg_2/dR = sum_{k=2}^{3} (prod_{j=2}^{k-1} dg_j/dg_{j+1}) dg_k^+/dR
    """
    jp = _JPrinter(model, latex)
    P = jp.p
    states = list(model.backward)
    big_t = "t" if tgt.step is None else str(tgt.step)
    top = "T" if steps is None else str(steps)
    v = tgt.name
    V = P.name(wrt)
    lines: list[str] = []
    defs = _Defs(model, jp, V)

    def sumtex(lo: str, hi: str, body: str, op: str = "sum") -> str:
        return f"{chr(92) if latex else ''}{op}_{{{lo}}}^{{{hi}}} {body}"

    if len(states) == 1:
        s_name = lambda i: P.name(states[0], i)  # noqa: E731
    else:
        J = _joint(model)
        s_name = lambda i: (f"{J}_{{{i}}}" if latex else (f"{J}_{i}" if len(i) == 1 or i.isdigit() else f"{J}_{{{i}}}"))  # noqa: E731,E501
    param_states = [s for s in states if Deriv(model, ("param", wrt)).depends(s)]
    in_states = v in states
    prod = P.paren(sumtex(f"j={big_t}", "k-1", jp.d(s_name("j"), s_name("j+1")), "prod"))
    tsum = sumtex(f"k={big_t}", top, f"{prod} {jp.d(s_name('k'), V, True)}")
    head = jp.d(P.name(v, big_t), V)
    if tgt.step is None:
        total = P.paren(("\\sum_t " if latex else "sum_t ") + P.name(v, "t"))
        lines.append(f"{jp.d(total, V)} = {sumtex('t=1', 'T', head)}")
    rhs: list[str] = []
    if not param_states:
        pass  # nothing the backward chains compute depends on wrt
    elif in_states and len(states) == 1:
        rhs.append(tsum)
    else:
        own = Deriv(model, ("param", wrt), hold=frozenset(states))
        if own.depends(v) and not in_states:
            rhs.append(jp.d(P.name(v, big_t), V, True))
            defs.queue(("param", wrt), v, big_t, True, hold=frozenset(states))
        if in_states:
            rhs.append(f"[{tsum}]_{P.name(v)}" if not latex else f"\\left[{tsum}\\right]_{{{P.name(v)}}}")
        else:
            for s in states:
                if Deriv(model, ("var", s, 0), hold=frozenset(states)).depends(v):
                    rhs.append(f"{jp.d(P.name(v, big_t), P.name(s, big_t))} {jp.d(P.name(s, big_t), V)}")
                    defs.queue(("var", s, 0), v, big_t, hold=frozenset(states))
            J = _joint(model) if len(states) > 1 else None
            with_name = f"d{J}_{big_t}/d{V}" if J and not latex else jp.d(s_name(big_t), V)
            rhs.append(f"with {with_name} = {tsum}" if not latex else f"\\quad {with_name} = {tsum}")
    if not any(r for r in rhs if not r.startswith(("with", "\\quad"))):
        lines.append(f"{head} = 0   ({P.name(v)} does not depend on {V})" if not latex else f"{head} = 0")
        return "\n".join(lines)
    joined = " + ".join(r for r in rhs if not r.startswith(("with", "\\quad")))
    extra = [r for r in rhs if r.startswith(("with", "\\quad"))]
    lines.append(f"{head} = {joined}" + ("" if not extra else ("\n  " if not latex else " ") + extra[0]))
    if len(states) > 1:
        names = ", ".join(P.name(s, "t") for s in states)
        lines.append(f"{_joint(model)}_t = ({names})" if not latex else f"{_joint(model)}_t = \\left({names}\\right)")
    # The Jacobians of the state one step later, and the immediate derivatives.
    for s2 in states:
        for s1 in states:
            if Deriv(model, ("var", s1, -1)).depends(s2):
                defs.queue(("var", s1, -1), s2, "j")
    for s in param_states:
        defs.queue(("param", wrt), s, "k", True)
    return _finish(model, tgt, lines, defs.run(), states, latex, V=V, products=True, later=True)


def _phased_gradient(model: Model, tgt: Target, wrt: str, *, latex: bool, text: str,
                     steps: int | None = None) -> str:
    """An encoder-decoder's derivative: the decoder's expansion (each context read at every step
    as one value, each start as its chain's step 0), and, for what the encoder computes, the
    encoder's expansion of each context and start at its last step T, joined by the chain rule:
    the encoder reaches the decoder only through them.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_t = tanh(A s_{t-1} + C c)\\n"
        ...                "s_0 = c\\nx = [1, 2]")
        >>> print(gradient_formula(m, "s[2]", "W").splitlines()[0])
        ds_2/dW = ds_2/dc dc/dW + ds_2/ds_0 ds_0/dW
    """
    from .unrolled import _named, _steps_given

    ph = model.phases
    encoder, decoder = ph.bind(model)
    once = [c for c in ph.contexts] + [start for _, start in ph.starts]
    if ph.phase_of(tgt.name) == "encoder" and tgt.name not in once:
        return gradient_formula(encoder, tgt, wrt, latex=latex)
    big_t = steps or _steps_given(encoder)
    if tgt.name in once or wrt in encoder.parameters or _variable_at(encoder, wrt) is not None:
        if big_t is None:
            raise _error("the encoder's part is expanded over its T steps, and the file gives no input "
                         "sequence to say how many", text,
                         hint="give the encoder's length, --steps T (as rnnviz run takes it), or the input "
                              "sequence in the file (x = [...])")
    if tgt.name in once:  # the context or a start: computed once, at the encoder's step T
        return _without_steps(gradient_formula(encoder, Target(tgt.name, big_t, tgt.component, False), wrt,
                                               latex=latex), encoder, once, big_t, latex)
    # The decoder reads each context as one value, the same at every step: a constant of its
    # own, as a parameter is; each start is its chain's value at step 0.
    consts = set(ph.contexts)
    symbols = {n: (replace(s, kind="parameter", role="parameter") if n in consts else s)
               for n, s in decoder.symbols.items()}
    equations = tuple(replace(eq, expr=_named(eq.expr, consts)) for eq in decoder.equations)
    dec = Model(equations, symbols, decoder.values, decoder.file, decoder.source, decoder.sources, [],
                decoder.sweep_list, decoder.totals, decoder.means)
    in_encoder = wrt in encoder.parameters or _variable_at(encoder, wrt) is not None
    if not in_encoder:
        return gradient_formula(dec, tgt, wrt, latex=latex)
    if wrt in dec.parameters and wrt not in consts:
        raise _error(f"'{wrt}' is a parameter of both the encoder and the decoder; the expansion is written "
                     "for a parameter of one phase", wrt, file="--grad",
                     hint="rnnviz grad computes its gradient by backpropagation through both phases")
    P = Printer(dec, latex=latex)
    jp = _JPrinter(dec, latex)
    at = _variable_at(encoder, wrt)
    V = Printer(encoder, latex=latex).name(wrt) if at is None else Printer(encoder, latex=latex).name(at[0], str(at[1]))
    big = P.name(tgt.name, "t" if tgt.step is None else str(tgt.step))
    ways = [(c, c) for c in ph.contexts] + [(f"{chain}[0]", start) for chain, start in ph.starts]
    terms, blocks = [], []
    for dec_wrt, enc_name in ways:
        via = P.name(enc_name) if dec_wrt == enc_name else P.name(dec_wrt.split("[")[0], "0")
        terms.append(f"{jp.d(big, via)} {jp.d(via, V)}")
        blocks.append(gradient_formula(dec, tgt, dec_wrt, latex=latex))
        enc_block = gradient_formula(encoder, Target(enc_name, big_t, None, False), wrt, latex=latex)
        blocks.append(_without_steps(enc_block, encoder, once, big_t, latex))
    head = f"{jp.d(big, V)} = " + " + ".join(terms)
    names = ", ".join(P.name(n) for _, n in ways)
    note = f"the encoder reaches the decoder only through {names}, computed once at its last step T = {big_t}"
    if latex:
        said = (f"\\text{{(the encoder reaches the decoder only through }}{names}"
                f"\\text{{, computed once at its last step }}T = {big_t}\\text{{)}}")
        return "\n".join([head, said, *blocks])
    lines, said = [head, f"  ({note})"], set()
    for line in (line for b in blocks for line in b.splitlines()):
        general = line.startswith(("  why it vanishes", "  d(")) and "the entries" in line or "why it" in line
        if general and line in said:
            continue  # a note that every block ends with, said once
        said.add(line)
        lines.append("  " + line)
    return "\n".join(lines)


def _without_steps(text: str, encoder: Model, once: list[str], big_t: int, latex: bool) -> str:
    """An encoder block with its once-computed values named as the equations write them: ``c``,
    not ``c_2`` (one value, computed at the encoder's step T)."""
    P = Printer(encoder, latex=latex)
    for name in once:
        for idx in (str(big_t), "j", "k", "t"):
            text = text.replace(P.name(name, idx), P.name(name))
    return text
