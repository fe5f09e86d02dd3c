"""Questions about syntax nodes that building a model asks: is it a number, what does it read.

These read the syntax tree only; the model builder (:mod:`rnnviz.language.model_build`) and the
value-line resolver (:mod:`rnnviz.language.value_lines`) both use them.

Example:
    >>> from rnnviz.language.parse import parse_text
    >>> from rnnviz.language.model_syntax import constant, is_constant, refs
    >>> a, b = parse_text("h[t] = tanh(W h[t-1])\\nW = [[1, -2], [\\\\frac{1}{2}, 0]]").statements
    >>> [(str(name), called) for name, called in refs(a.rhs)]
    [('tanh', True), ('W', False), ('h[t-1]', False)]
    >>> is_constant(a.rhs), is_constant(b.rhs)
    (False, True)
    >>> constant(b.rhs)
    [[1.0, -2.0], [0.5, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ValueSpecError
from . import syntax as S

__all__ = ["FUNCTION_ALIASES", "is_constant", "nodes", "refs", "not_a_number", "is_function_word", "can_be_generic",
           "constant", "is_equation", "map_refs"]

#: Every spelling of a function (after LaTeX decoration is stripped) -> canonical name.
FUNCTION_ALIASES = {
    "tanh": "tanh", "sigmoid": "sigmoid", "sigma": "sigmoid", "sigm": "sigmoid",
    "relu": "relu", "ReLU": "relu", "Relu": "relu", "softmax": "softmax",
    "exp": "exp", "log": "log", "ln": "log", "identity": "identity", "id": "identity",
    # Losses: (a)^2 and \|a\|^2 are read as these (plain spellings too).
    "square": "square", "sumsq": "sumsq",
    # The parts of a cross-entropy (cross_entropy(o, y) and -\log \hat{y}_{y} are read as these).
    "sum": "sum", "logsoftmax": "logsoftmax", "onehot": "onehot",
}


def is_equation(stmt: object) -> bool:
    """An assignment to a variable at a step relative to t (``h[t] = ...``): not a value line."""
    return isinstance(stmt, S.Assign) and stmt.lhs.time is not None and not stmt.lhs.time.absolute


def is_constant(node: S.Node) -> bool:
    if isinstance(node, S.Num):
        return True
    if isinstance(node, S.Neg):
        return is_constant(node.operand)
    if isinstance(node, S.Frac):
        return is_constant(node.num) and is_constant(node.den)
    if isinstance(node, S.Bracket):
        return all(is_constant(i) for i in node.items)
    return False


def nodes(node: S.Node):
    """Every node of a syntax expression, ``node`` first (the right operand before the left)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
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
        elif isinstance(n, (S.UnitSum, S.Component, S.SumTime)):
            stack.append(n.body)


def refs(node: S.Node):
    """Every Ref and Call name in a syntax expression."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, S.Ref):
            yield n.name, False
        elif isinstance(n, S.Call):
            yield n.func, True
            stack.append(n.arg)
        elif isinstance(n, S.Apply):
            yield n.func, True
            stack.extend(reversed(n.args + n.params))
        elif isinstance(n, S.BinOp):
            stack.extend([n.right, n.left])
        elif isinstance(n, S.Neg):
            stack.append(n.operand)
        elif isinstance(n, S.Bracket):
            stack.extend(reversed(n.items))
        elif isinstance(n, S.Frac):
            stack.extend([n.den, n.num])
        elif isinstance(n, (S.UnitSum, S.Component, S.SumTime)):
            stack.append(n.body)


def map_refs(node: S.Node, fn: Callable[[S.Ref], S.Node]) -> S.Node:
    """``node`` with every plain reference replaced by ``fn(ref)``."""
    if isinstance(node, S.Ref):
        return fn(node)
    if isinstance(node, S.Call):
        return S.Call(node.func, map_refs(node.arg, fn), node.span)
    if isinstance(node, S.Apply):
        return S.Apply(node.func, tuple(map_refs(a, fn) for a in node.args),
                       tuple(map_refs(p, fn) for p in node.params), node.span)
    if isinstance(node, S.BinOp):
        return S.BinOp(node.op, map_refs(node.left, fn), map_refs(node.right, fn), node.span)
    if isinstance(node, S.Neg):
        return S.Neg(map_refs(node.operand, fn), node.span)
    if isinstance(node, S.Bracket):
        return S.Bracket(tuple(map_refs(i, fn) for i in node.items), node.span)
    if isinstance(node, S.Frac):
        return S.Frac(map_refs(node.num, fn), map_refs(node.den, fn), node.span)
    if isinstance(node, S.UnitSum):
        return S.UnitSum(node.index, map_refs(node.body, fn), node.span, node.bounded)
    if isinstance(node, S.Component):
        return S.Component(map_refs(node.body, fn), node.index, node.span)
    if isinstance(node, S.SumTime):
        return S.SumTime(map_refs(node.body, fn), node.span)
    return node


def not_a_number(rhs: S.Node) -> str | None:
    """``nan`` or ``inf`` written as a value, alone or as an entry of a list or matrix
    (``W = [[1, nan], [0, 1]]``): the word, else None."""
    if isinstance(rhs, S.Neg):
        return not_a_number(rhs.operand)
    if isinstance(rhs, S.Bracket):
        return next((w for w in map(not_a_number, rhs.items) if w is not None), None)
    if isinstance(rhs, S.Ref) and not rhs.name.subs and not rhs.name.sups and rhs.name.time is None:
        word = rhs.name.base
        if word.lower().lstrip("\\") in ("nan", "inf", "infty", "infinity"):
            return word
    return None


def is_function_word(name: S.Name) -> str | None:
    if name.time is None and not name.subs and not name.sups and not name.accent:
        return FUNCTION_ALIASES.get(name.base)
    return None


def can_be_generic(name: S.Name) -> bool:
    """A Greek letter or a one-letter lowercase name: `f`, `g`, `\\phi`, `\\sigma_h`."""
    return name.time is None and not name.accent and (
        name.base in S.GREEK_LETTERS or (len(name.base) == 1 and name.base.islower())
    )



def constant(node: S.Node):
    """Evaluate a constant syntax node: a float or nested lists of floats."""
    if isinstance(node, S.Num):
        return float(node.value)
    if isinstance(node, S.Neg):
        v = constant(node.operand)
        return _negate(v)
    if isinstance(node, S.Frac):
        den = constant(node.den)
        if den == 0:
            raise ValueSpecError("division by zero in \\frac", node.span)
        return constant(node.num) / den
    if isinstance(node, S.Bracket):
        return [constant(i) for i in node.items]
    raise AssertionError(node)  # pragma: no cover


def _negate(v):
    return [_negate(x) for x in v] if isinstance(v, list) else -v

