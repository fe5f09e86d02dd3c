"""Unit-index notation: ``f_i^{(t)} = \\sigma(b_i^f + \\sum_j U_{i,j}^f x_j^{(t)})`` is the vector equation.

The *Deep Learning* book writes its LSTM per unit (eq. 10.40-10.44): a free unit index
``i`` on both sides marks an element-wise equation, ``\\sum_j U_{i,j} x_j`` (also
``U_{ij}``) is the product ``U x``, ``\\sum_j W_{i,j} r_j h_j`` is ``W (r \\odot h)``, and a
bracketed component ``[W x]_i`` is ``(W x)_i``. This module rewrites such equations into
the vector equations the rest of rnnviz reads, before the model is built; an index used
inconsistently is an error at its position. A sum anywhere else (over time, or outside
unit-index notation) is refused with a message that names it.

Example:
    >>> from rnnviz.language import load_model
    >>> a = load_model("f_i^{(t)} = \\\\sigma(b_i^f + \\\\sum_j U_{i,j}^f x_j^{(t)} + \\\\sum_j W_{ij}^f h_j^{(t-1)})")
    >>> b = load_model("f^{(t)} = \\\\sigma(b^f + U^f x^{(t)} + W^f h^{(t-1)})")
    >>> [(e.target, e.expr) for e in a.equations] == [(e.target, e.expr) for e in b.equations]
    True
"""

from __future__ import annotations

from ..errors import ParseError
from . import syntax as S
from .model_syntax import FUNCTION_ALIASES, is_function_word, refs

__all__ = ["UNIT_INDICES", "refused_sum", "rewrite_unit_index", "rewrite_unit_superscript", "rewrite_class_sums"]

#: Letters that texts use for a unit index.
UNIT_INDICES = ("i", "j", "k")


def _has(node: S.Node, kinds) -> S.Node | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, kinds):
            return n
        if isinstance(n, S.BinOp):
            stack += [n.left, n.right]
        elif isinstance(n, S.Call):
            stack.append(n.arg)
        elif isinstance(n, S.Apply):
            stack += list(n.args + n.params)
        elif isinstance(n, S.Neg):
            stack.append(n.operand)
        elif isinstance(n, S.Bracket):
            stack += list(n.items)
        elif isinstance(n, S.Frac):
            stack += [n.num, n.den]
        elif isinstance(n, (S.UnitSum, S.Component)):
            stack.append(n.body)
    return None


def _drop_sub(name: S.Name, count: int = 1) -> S.Name:
    return S.Name(name.base, name.accent, name.subs[:len(name.subs) - count], name.sups, name.time, name.bold,
                  name.span)


def refused_sum(node: S.Node) -> ParseError:
    if isinstance(node, S.Component):
        return ParseError(f"a component [...]_{node.index} belongs to unit-index notation, where the left side "
                          f"carries the same index, as in h_{node.index} = ...", node.span)
    if isinstance(node, S.UnitSum) and node.bounded and node.index != "t":
        return ParseError(f"a sum over positions {node.index} = 1..n (as attention sums over every encoder step) "
                          "is not part of the equation language", node.span,
                          hint="rnnviz reads one step of a recurrence; the one sum over time is the total of a "
                               "loss, L = \\sum_t L^{(t)}")
    if node.index == "t":
        return ParseError("a sum over time (\\sum_t) is not part of the equation language", node.span,
                          hint="rnnviz grad --of 'sum(h)' sums a variable over the steps")
    return ParseError(f"'\\sum_{node.index}' over components is not part of the equation language", node.span,
                      hint="write a softmax output as softmax(V h_t + c); in unit-index notation (as the Deep "
                           f"Learning book writes its LSTM) the left side carries the free index, as in "
                           f"h_i^{{(t)}} = ... \\sum_{node.index} W_{{i,{node.index}}} x_{node.index}")


class _Rewriter:
    def __init__(self, free: str) -> None:
        self.free = free

    def vec(self, node: S.Node) -> S.Node:
        if isinstance(node, S.Ref):
            return S.Ref(self.name(node.name), node.span)
        if isinstance(node, S.Call):
            return S.Call(self.name(node.func), self.vec(node.arg), node.span)
        if isinstance(node, S.BinOp):
            return S.BinOp(node.op, self.vec(node.left), self.vec(node.right), node.span)
        if isinstance(node, S.Neg):
            return S.Neg(self.vec(node.operand), node.span)
        if isinstance(node, S.Bracket):
            return S.Bracket(tuple(self.vec(i) for i in node.items), node.span)
        if isinstance(node, S.UnitSum):
            return self.sum(node)
        if isinstance(node, S.Component):
            if node.index != self.free:
                raise ParseError(f"the component [...]_{node.index} does not match the free index {self.free} "
                                 f"of the left side", node.span)
            inner = _has(node.body, (S.UnitSum, S.Component))
            if inner is not None:
                raise ParseError("a component [...] holds a vector expression without unit indices", inner.span)
            return S.Bracket((node.body,), node.span)
        return node

    def name(self, name: S.Name) -> S.Name:
        """``b_i^f`` -> ``b^f``; a summed index outside its sum is an error."""
        if name.subs and name.subs[-1] == self.free:
            name = _drop_sub(name)
        for sub in name.subs:
            if sub in UNIT_INDICES or (len(sub) == 2 and all(c in UNIT_INDICES for c in sub)):
                raise ParseError(f"the index {sub} of '{name.canonical}' is not summed here; the left side's "
                                 f"free index is {self.free}", name.span,
                                 hint=f"a product is written \\sum_j U_{{{self.free},j}} x_j")
        return name

    def sum(self, node: S.UnitSum) -> S.Node:
        j, i = node.index, self.free
        if j == "t":
            raise refused_sum(node)
        if j == i or j not in UNIT_INDICES:
            raise ParseError(f"\\sum_{j} sums over the free index of the left side; sum over another index, "
                             f"as in \\sum_j U_{{{i},j}} x_j", node.span)
        factors = []
        stack = [node.body]
        while stack:  # a product written by juxtaposition, \cdot or \odot: its factors in order
            n = stack.pop(0)
            if isinstance(n, S.BinOp) and n.op in ("prod", "emul"):
                stack[:0] = [n.left, n.right]
            else:
                factors.append(n)
        matrix = None
        vectors: list[S.Node] = []
        scalars: list[S.Node] = []
        for f in factors:
            name = f.name if isinstance(f, S.Ref) else None
            subs = name.subs if name is not None else ()
            if subs and (subs[-2:] == (i, j) or subs[-1] == i + j):
                if matrix is not None:
                    raise ParseError(f"\\sum_{j} holds two matrices; write one product per sum", f.span)
                matrix = S.Ref(_drop_sub(name, 2 if subs[-2:] == (i, j) else 1), f.span)
            elif subs and (subs[-2:] == (j, i) or subs[-1] == j + i):
                raise ParseError(f"'{name.canonical}' is indexed ({j},{i}); rnnviz reads U_{{{i},{j}}}: row {i} "
                                 f"(the left side's index), column {j} (the summed one)", f.span)
            elif subs and subs[-1] == j:
                vectors.append(S.Ref(_drop_sub(name), f.span))
            elif isinstance(f, S.Component) and f.index == j:
                vectors.append(S.Bracket((f.body,), f.span))
            elif _has(f, (S.UnitSum, S.Component)) is None and not (subs and subs[-1] in UNIT_INDICES):
                scalars.append(self.vec(f))
            else:
                raise ParseError(f"in \\sum_{j}, each factor carries the index {j}: U_{{{i},{j}}} x_{j}", f.span)
        if matrix is None:
            raise ParseError(f"\\sum_{j} needs a weight indexed ({i},{j}), as in \\sum_{j} U_{{{i},{j}}} x_{j}",
                             node.span)
        if not vectors:
            raise ParseError(f"\\sum_{j} needs a vector indexed {j}, as in \\sum_{j} U_{{{i},{j}}} x_{j}", node.span)
        vec = vectors[0]
        for v in vectors[1:]:
            vec = S.BinOp("emul", vec, v, node.span)
        out: S.Node = S.BinOp("prod", matrix, vec if len(vectors) == 1 else S.Bracket((vec,), node.span), node.span)
        for s in scalars:
            out = S.BinOp("prod", s, out, node.span)
        return out


def rewrite_unit_index(stmts) -> tuple[list, list[str]]:
    """Statements with unit-index equations rewritten as vector equations, and the notes to give.

    Raises:
        ParseError: an index used inconsistently, or a sum outside unit-index notation.
    """
    marked = any(isinstance(s, S.Assign) and _has(s.rhs, (S.UnitSum, S.Component)) is not None for s in stmts)
    if not marked:
        return list(stmts), []
    out, rewritten = [], []
    for s in stmts:
        unit = (isinstance(s, S.Assign) and s.lhs.subs and s.lhs.subs[-1] in UNIT_INDICES
                and s.lhs.time is not None and not s.lhs.time.absolute)
        if not unit:
            if isinstance(s, S.Assign):
                for node in (s.rhs, *s.earlier):
                    found = _has(node, (S.UnitSum, S.Component))
                    if found is not None:
                        raise refused_sum(found)
            out.append(s)
            continue
        r = _Rewriter(s.lhs.subs[-1])
        out.append(S.Assign(_drop_sub(s.lhs), r.vec(s.rhs), s.caption, s.span))
        rewritten.append(s)
    notes = []
    if rewritten:
        first = rewritten[0]
        notes.append(f"{first.lhs.span}: unit-index notation ({first.lhs.canonical}^{{(t)}} = ..., "
                     f"\\sum_j U_{{i,j}} x_j) is read as the vector equations ({_drop_sub(first.lhs).canonical}"
                     f"^{{(t)}} = ..., U x)")
    return out, notes


def _drop_sup(node: S.Node, base: str, unit: str) -> S.Node:
    """``node`` with the unit superscript taken off every ``base^{(unit)}``."""
    if isinstance(node, S.Ref):
        n = node.name
        if n.base == base and n.sups and n.sups[-1] == unit:
            return S.Ref(S.Name(n.base, n.accent, n.subs, n.sups[:-1], n.time, n.bold, n.span), node.span)
        return node
    if isinstance(node, S.BinOp):
        return S.BinOp(node.op, _drop_sup(node.left, base, unit), _drop_sup(node.right, base, unit), node.span)
    if isinstance(node, S.Call):
        return S.Call(node.func, _drop_sup(node.arg, base, unit), node.span)
    if isinstance(node, S.Apply):
        return S.Apply(node.func, tuple(_drop_sup(a, base, unit) for a in node.args),
                       tuple(_drop_sup(p, base, unit) for p in node.params), node.span)
    if isinstance(node, S.Neg):
        return S.Neg(_drop_sup(node.operand, base, unit), node.span)
    if isinstance(node, S.Bracket):
        return S.Bracket(tuple(_drop_sup(i, base, unit) for i in node.items), node.span)
    return node


def rewrite_unit_superscript(stmts) -> tuple[list, list[str]]:
    """``h_t^{(i)} = \\alpha h_{t-1}^{(i)} + (1-\\alpha) f(h_{t-1}, x_t; \\theta)`` (the book's leaky unit):
    a superscript ``(i)`` that marks unit i of a vector, read as the vector equation.

    Only where the text shows it: the left side carries a unit letter as its one superscript, and
    the right side reads the same name both with that superscript and without it (the whole
    vector ``h_{t-1}``), so the letter cannot be a layer or a part of the name.
    """
    out, notes = [], []
    for s in stmts:
        lhs = s.lhs if isinstance(s, S.Assign) else None
        if not (lhs is not None and lhs.time is not None and not lhs.time.absolute and len(lhs.sups) == 1
                and lhs.sups[0] in UNIT_INDICES):
            out.append(s)
            continue
        unit = lhs.sups[0]
        names = [n for n, is_call in refs(s.rhs) if not is_call]
        marked = [n for n in names if n.base == lhs.base and n.sups == (unit,) and n.subs == lhs.subs]
        bare = [n for n in names if n.base == lhs.base and not n.sups and n.subs == lhs.subs and n.time is not None]
        if not (marked and bare):
            out.append(s)
            continue
        new_lhs = S.Name(lhs.base, lhs.accent, lhs.subs, (), lhs.time, lhs.bold, lhs.span)
        out.append(S.Assign(new_lhs, _drop_sup(s.rhs, lhs.base, unit), s.caption, s.span, s.earlier))
        notes.append(f"{lhs.span}: the superscript ({unit}) of {lhs.base} marks unit {unit} of the vector "
                     f"{lhs.base} (as {bare[0].base} is read whole beside it): read as the vector equation "
                     f"of {lhs.base}")
    return out, notes


def _factors(node: S.Node) -> list[S.Node]:
    """The factors of a product written by juxtaposition, ``\\cdot`` or ``\\odot``, in order."""
    if isinstance(node, S.BinOp) and node.op in ("prod", "emul"):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _is_log(node: S.Node) -> bool:
    return isinstance(node, S.Ref) and is_function_word(node.name) and FUNCTION_ALIASES.get(node.name.base) == "log"


def _class_sum(node: S.UnitSum) -> S.Node | None:
    """``\\sum_{w \\in V} y_{t,w} \\log \\hat{y}_{t,w}``: ``sum(y_t * log(\\hat{y}_t))``, else None."""
    k = node.index
    parts = _factors(node.body)
    if len(parts) == 3 and _is_log(parts[1]):
        target, probs = parts[0], parts[2]
    elif len(parts) == 2 and isinstance(parts[1], S.Call) and FUNCTION_ALIASES.get(parts[1].func.base) == "log" \
            and not parts[1].func.subs:
        target, probs = parts[0], parts[1].arg
    else:
        return None
    if isinstance(probs, S.Bracket) and len(probs.items) == 1:
        probs = probs.items[0]
    for ref in (target, probs):
        if not (isinstance(ref, S.Ref) and ref.name.subs and ref.name.subs[-1] == k and ref.name.time is not None):
            return None
    if target.name.time != probs.name.time:
        return None
    y, p = S.Ref(_drop_sub(target.name), target.span), S.Ref(_drop_sub(probs.name), probs.span)
    return S.Call(S.Name("sum", span=node.span), S.BinOp("emul", y, S.Call(S.Name("log", span=probs.span), p,
                                                                          probs.span), node.span), node.span)


def rewrite_class_sums(stmts) -> tuple[list, list[str]]:
    """``-\\sum_{w \\in V} y_{t,w} \\log \\hat{y}_{t,w}`` and ``-\\sum_{j=1}^{|V|} y_{t,j} \\log \\hat{y}_{t,j}``
    (CS224n): a sum over the entries of a target times the log of a prediction is the cross-entropy
    ``-sum(y_t * log(\\hat{y}_t))``; with a one-hot target it is -log of the entry the target picks."""
    notes: list[str] = []

    def walk(node: S.Node) -> S.Node:
        if isinstance(node, S.UnitSum):
            found = _class_sum(node)
            if found is not None:
                y, p = found.arg.left.name, found.arg.right.arg.name
                notes.append(f"{node.span}: '\\sum_{node.index}' of {y.canonical}_{node.index} \\log "
                             f"{p.canonical}_{node.index} over the entries is read as the cross-entropy "
                             f"sum({y.canonical} * log({p.canonical})), with {y.canonical} a vector over the classes "
                             f"(one-hot: -log of the entry of {p.canonical} it picks)")
                return found
            return S.UnitSum(node.index, walk(node.body), node.span, node.bounded)
        if isinstance(node, S.BinOp):
            return S.BinOp(node.op, walk(node.left), walk(node.right), node.span)
        if isinstance(node, S.Neg):
            return S.Neg(walk(node.operand), node.span)
        if isinstance(node, S.Call):
            return S.Call(node.func, walk(node.arg), node.span)
        if isinstance(node, S.Apply):
            return S.Apply(node.func, tuple(map(walk, node.args)), tuple(map(walk, node.params)), node.span)
        if isinstance(node, S.Bracket):
            return S.Bracket(tuple(map(walk, node.items)), node.span)
        if isinstance(node, S.Frac):
            return S.Frac(walk(node.num), walk(node.den), node.span)
        if isinstance(node, S.SumTime):
            return S.SumTime(walk(node.body), node.span)
        if isinstance(node, S.Component):
            return S.Component(walk(node.body), node.index, node.span)
        return node

    out = [S.Assign(s.lhs, walk(s.rhs), s.caption, s.span, tuple(walk(e) for e in s.earlier), s.args)
           if isinstance(s, S.Assign) else s for s in stmts]
    return out, notes
