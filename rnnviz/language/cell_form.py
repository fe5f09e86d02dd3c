"""Cell form, as PyTorch's cell docs write it: ``h' = \\tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})``.

No name has a time index; a prime marks the new step of a state (``h'``, ``c'``), the
unprimed name its previous step, the gates (``i = \\sigma(...)``) are computed at the new
step, and ``x`` is the input. Read so, it is the usual model ``h_t = \\tanh(W_{ih} x_t + ...
+ W_{hh} h_{t-1} + ...)``, with a note. A text that writes any time index is not in cell form.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h' = \\\\tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})")
    >>> m.variables, m.inputs, m.delays("h"), m.parameters
    (['h'], ['x'], (1,), ['W_ih', 'b_ih', 'W_hh', 'b_hh'])
"""

from __future__ import annotations

from . import syntax as S
from .model_syntax import is_constant, refs

__all__ = ["rewrite_cell_form"]

_NOW, _BEFORE = S.Time(0), S.Time(-1)


def _unprimed(name: S.Name) -> S.Name:
    return S.Name(name.base, name.accent, name.subs, name.sups[:-1], name.time, name.bold, name.span)


def _is_primed(name: S.Name) -> bool:
    return bool(name.sups) and name.sups[-1] == "prime"


def rewrite_cell_form(stmts) -> tuple[list, list[str]]:
    """Statements in cell form rewritten with time indices, and the note to give; others unchanged."""
    assigns = [s for s in stmts if isinstance(s, S.Assign)]
    eqs = [s for s in assigns if not is_constant(s.rhs)]
    states = {_unprimed(s.lhs).canonical for s in eqs if _is_primed(s.lhs) and s.lhs.time is None}
    if not states:
        return list(stmts), []
    if any(s.lhs.time is not None for s in assigns) or any(
            n.time is not None for s in eqs for n, _ in refs(s.rhs)):
        return list(stmts), []  # time indices written: not cell form
    gates = {s.lhs.canonical for s in eqs if not _is_primed(s.lhs)}

    def name(n: S.Name) -> S.Name:
        if _is_primed(n) and _unprimed(n).canonical in states:
            return _unprimed(n).with_time(_NOW)
        if n.canonical in states:
            return n.with_time(_BEFORE)
        if n.canonical in gates or (n.base == "x" and not n.sups):
            return n.with_time(_NOW)
        return n

    def walk(node: S.Node) -> S.Node:
        if isinstance(node, S.Ref):
            return S.Ref(name(node.name), node.span)
        if isinstance(node, S.Call):
            return S.Call(node.func, walk(node.arg), node.span)
        if isinstance(node, S.Apply):
            return S.Apply(node.func, tuple(walk(a) for a in node.args), tuple(walk(p) for p in node.params),
                           node.span)
        if isinstance(node, S.BinOp):
            return S.BinOp(node.op, walk(node.left), walk(node.right), node.span)
        if isinstance(node, S.Neg):
            return S.Neg(walk(node.operand), node.span)
        if isinstance(node, S.Bracket):
            return S.Bracket(tuple(walk(i) for i in node.items), node.span)
        return node

    eq_ids = {id(s) for s in eqs}
    out = []
    for s in stmts:
        if id(s) in eq_ids:
            lhs = _unprimed(s.lhs) if _is_primed(s.lhs) else s.lhs
            out.append(S.Assign(lhs.with_time(_NOW), walk(s.rhs), s.caption, s.span, s.earlier))
        else:
            out.append(s)
    first = next(s for s in eqs if _is_primed(s.lhs))
    shown = ", ".join(f"{n}'" for n in sorted(states))
    note = (f"{first.lhs.span}: cell form (as PyTorch's cell docs write it): {shown} "
            f"{'is' if len(states) == 1 else 'are'} the new step, the unprimed names the previous one"
            + (", and x the input" if any(n.base == "x" for s in eqs for n, _ in refs(s.rhs)) else ""))
    return out, [note]
