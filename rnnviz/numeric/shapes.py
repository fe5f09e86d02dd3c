"""Shapes: every symbol's and every expression node's shape, and parameter counts.

Sizes come from ``dim`` lines and from values; the equations carry them to the
rest. ``U x[t]`` added into ``h[t]`` of size 5 with ``x`` of size 3 makes
``U`` 5x3; a bias added into ``h[t]`` gets ``h``'s size. Products follow
LANGUAGE.md: matrix times vector in the order written (``W x`` column,
``x W`` row vector), scaling where one side is a scalar, element-wise where
both sides are vectors of one size. A shape is a tuple: ``()`` for a scalar,
``(n,)`` for a vector, ``(m, n)`` for a matrix; variables and inputs hold a
scalar or a vector per step.

Example:
    >>> from rnnviz import load_model
    >>> m = load_model("h[t] = tanh(V h[t-1] + W x[t] + b)\\ndim x = 3, h = 5")
    >>> s = infer_shapes(m)
    >>> s.of("W"), s.of("V"), s.of("b")
    ((5, 3), (5, 5), (5,))
    >>> parameter_count(m)
    45
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ShapeError
from ..language import Model
from ..language import expr as E
from .values import Given, describe_shape, given_values

__all__ = ["Shape", "Shapes", "infer_shapes", "parameter_shapes", "parameter_count", "product_kind",
           "has_sizes"]

Shape = tuple[int, ...]


@dataclass
class Shapes:
    """The result of shape inference.

    Attributes:
        symbols: name -> shape (per step for variables and inputs).
        nodes: equation target -> shape of each node of its tree, in
            :func:`rnnviz.language.expr.walk` pre-order.
    """

    symbols: dict[str, Shape] = field(default_factory=dict)
    nodes: dict[str, list[Shape]] = field(default_factory=dict)

    def of(self, name: str) -> Shape:
        """The shape of a symbol (per step for variables and inputs)."""
        return self.symbols[name]

    def node(self, target: str, index: int) -> Shape:
        """The shape of node ``index`` (walk pre-order) of ``target``'s equation."""
        return self.nodes[target][index]


def product_kind(left: Shape, right: Shape) -> str | None:
    """Which product ``left right`` is: ``mul``, ``matvec``, ``vecmat``, ``matmul``; None if none fits.

    Example:
        >>> product_kind((5, 3), (3,)), product_kind((3,), (3, 5)), product_kind((4,), (4,))
        ('matvec', 'vecmat', 'mul')
    """
    if not left or not right:
        return "mul"
    if len(left) == 2 and len(right) == 1:
        return "matvec" if left[1] == right[0] else None
    if len(left) == 1 and len(right) == 2:
        return "vecmat" if left[0] == right[0] else None
    if len(left) == 1 and len(right) == 1:
        return "mul" if left == right else None
    if len(left) == 2 and len(right) == 2:
        return "matmul" if left[1] == right[0] else None
    return None


def _who(node: E.Expr) -> str:
    return node.name if isinstance(node, (E.Param, E.Var)) else E.to_text(node)


def _is(node: E.Expr, shape: Shape) -> str:
    d = describe_shape(shape)
    return f"{_who(node)} {'has' if len(shape) == 1 else 'is'} {d}"


def _per_step(node: E.Expr) -> bool:
    """Whether a node holds a scalar or a vector at each step (never a matrix): it reads a variable."""
    if isinstance(node, E.Var):
        return True
    if isinstance(node, E.Call) and node.abstract:
        return True
    if isinstance(node, (E.Call, E.Neg)):
        return _per_step(node.arg if isinstance(node, E.Call) else node.operand)
    if isinstance(node, E.Concat):
        return True
    if isinstance(node, (E.Add, E.Sub, E.EMul, E.Prod)):
        return _per_step(node.left) or _per_step(node.right)
    return False


class _Infer:
    """Fixed-point inference over the trees; ``known`` maps names to shapes or None."""

    def __init__(self, model: Model, known: dict[str, Shape | None]) -> None:
        self.model = model
        self.known = known
        self.changed = False
        self.record: dict[int, Shape] | None = None

    def fail(self, node: E.Expr, message: str) -> ShapeError:
        return self.model.error(ShapeError, message, node.span)

    def assign(self, node: E.Expr, shape: Shape | None) -> None:
        if shape is None or not isinstance(node, (E.Param, E.Var)):
            if shape is not None and not isinstance(node, (E.Num,)):
                self.visit(node, shape)
            return
        if self.known.get(node.name) is None:
            if isinstance(node, E.Var) and len(shape) > 1:
                return  # a variable holds a vector per step; leave it to another clue
            self.known[node.name] = shape
            self.changed = True

    def visit(self, node: E.Expr, expected: Shape | None = None) -> Shape | None:
        shape = self._visit(node, expected)
        if self.record is not None and shape is not None:
            self.record[id(node)] = shape
        return shape

    def _visit(self, node: E.Expr, expected: Shape | None) -> Shape | None:
        if isinstance(node, E.Num):
            return ()
        if isinstance(node, (E.Param, E.Var)):
            if self.known.get(node.name) is None and expected is not None:
                self.assign(node, expected)
            return self.known.get(node.name)
        if isinstance(node, E.Call) and node.func in E.REDUCTIONS and not node.generic:
            self.visit(node.arg, None)  # the squared norm of a loss: one number per step
            return ()
        if isinstance(node, E.Call) and node.func == "onehot" and not node.generic:
            return self.onehot(node, expected)
        if isinstance(node, E.Call) and node.abstract:
            # An abstract transition: its size is its left side's; its arguments keep their own.
            shapes = [self.visit(a) for a in node.arguments]
            if self.record is not None:  # the argument list is no real vector; record what it holds
                flat = all(s is not None and len(s) <= 1 for s in shapes)
                self.record[id(node.arg)] = (sum(s[0] if s else 1 for s in shapes),) if flat else ()
            return expected
        if isinstance(node, (E.Call, E.Neg)):
            arg = node.arg if isinstance(node, E.Call) else node.operand
            return self.visit(arg, expected)
        if isinstance(node, (E.Add, E.Sub, E.EMul)):
            return self.elementwise(node, expected)
        if isinstance(node, E.Concat):
            return self.concat(node, expected)
        if isinstance(node, E.Prod):
            return self.prod(node, expected)
        raise AssertionError(node)  # pragma: no cover

    def onehot(self, node: E.Call, expected: Shape | None) -> Shape | None:
        """The target of a cross-entropy: a class index (a number) or a vector over the classes.

        ``expected`` is the size of the scores it meets; a target of another size is an error.
        """
        target = node.arg
        shape = self.visit(target, None)
        if shape is None:
            return None
        if expected == ():
            raise self.fail(target, f"a cross-entropy takes a vector of scores, one per class, but the scores "
                                    f"against the target {_who(target)} are a number")
        if shape == ():
            if not (isinstance(target, E.Var) and target.name in self.model.inputs):
                raise self.fail(target, f"{_who(target)} is a number, so it would be a class index: a class index "
                                        "is an input (a target such as y_t), given as whole numbers")
            return expected
        if len(shape) > 1:
            raise self.fail(target, f"the target of a cross-entropy is a class index or a vector over the classes, "
                                    f"but {_is(target, shape)}")
        if expected is not None and shape != expected:
            raise self.fail(target, f"a cross-entropy of scores with {expected[0]} entries and a target {_who(target)} "
                                    f"with {shape[0]}: a target is a class index (one number) or a vector of "
                                    f"{expected[0]} entries")
        return shape

    def elementwise(self, node, expected: Shape | None) -> Shape | None:
        a, b = node.left, node.right
        sa = self.visit(a, expected)
        sb = self.visit(b, expected)
        if isinstance(a, E.Call) and a.func == "onehot" and not a.generic and sb is not None:
            sa = self.visit(a, sb)  # the target of a cross-entropy, against its scores
        if expected is None:
            if sa and sb is None:
                sb = self.visit(b, sa)
            elif sb and sa is None:
                sa = self.visit(a, sb)
        if sa is None or sb is None:
            return (sa or sb) or None
        if sa and sb and sa != sb:
            op = {E.Add: "a sum", E.Sub: "a difference", E.EMul: "an element-wise product"}[type(node)]
            raise self.fail(node, f"{E.to_text(node)}: {_is(a, sa)} but {_is(b, sb)}; "
                                  f"{op} needs equal sizes (or a scalar)")
        return sa or sb

    def concat(self, node: E.Concat, expected: Shape | None) -> Shape | None:
        shapes = [self.visit(i) for i in node.items]
        for item, s in zip(node.items, shapes):
            if s is not None and len(s) > 1:
                raise self.fail(item, f"{E.to_text(node)}: {_is(item, s)}; only vectors and scalars "
                                      "can be concatenated")
        unknown = [i for i, s in enumerate(shapes) if s is None]
        if len(unknown) == 1 and expected is not None and len(expected) == 1:
            rest = expected[0] - sum(s[0] if s else 1 for s in shapes if s is not None)
            if rest >= 1:
                shapes[unknown[0]] = self.visit(node.items[unknown[0]], (rest,))
        if any(s is None for s in shapes):
            return None
        return (sum(s[0] if s else 1 for s in shapes),)  # type: ignore[index]

    def prod(self, node: E.Prod, expected: Shape | None) -> Shape | None:
        a, b = node.left, node.right
        sa, sb = self.visit(a), self.visit(b)
        if sa is None and sb is None and expected is not None and len(expected) == 1 \
                and _per_step(a) and _per_step(b):
            # `o_t \tanh(c_t)`, `f_t c_{t-1}`: two vectors written together are element-wise,
            # as `\odot` is, so the size flows into both.
            sa, sb = self.visit(a, expected), self.visit(b, expected)
        if sa is not None and sb is None:
            if not sa:
                sb = self.visit(b, expected)
            elif len(sa) == 2:
                sb = self.visit(b, (sa[1],))
            elif isinstance(b, E.Param):
                if expected is not None and len(expected) == 1:
                    self.assign(b, (sa[0], expected[0]))  # x W: a row vector times a matrix
                sb = self.known.get(b.name)
            else:
                sb = self.visit(b, sa)
        elif sb is not None and sa is None:
            if not sb:
                sa = self.visit(a, expected)
            elif len(sb) == 2:
                sa = self.visit(a, (sb[0],))
            elif isinstance(a, E.Param):
                if expected is not None and len(expected) == 1:
                    self.assign(a, (expected[0], sb[0]))  # W x: a matrix times a column vector
                sa = self.known.get(a.name)
            else:
                sa = self.visit(a, sb)
        if sa is None or sb is None:
            return None
        kind = product_kind(sa, sb)
        if kind is None:
            raise self.fail(node, f"{E.to_text(node)}: {_is(a, sa)} but {_is(b, sb)}")
        if kind == "mul":
            return sa or sb
        if kind == "matvec":
            return (sa[0],)
        if kind == "vecmat":
            return (sb[1],)
        return (sa[0], sb[1])

    def equation(self, eq) -> None:
        target = self.known.get(eq.target)
        shape = self.visit(eq.expr, target)
        if shape is None:
            return
        if target is None:
            if len(shape) > 1:
                raise self.fail(eq.expr, f"the right side of {eq.target}[t] is a {describe_shape(shape)} matrix; "
                                         "a variable holds a scalar or a vector at each step")
            self.known[eq.target] = shape
            self.changed = True
        elif shape != target:
            raise self.model.error(
                ShapeError, f"{eq.target}[t] has {describe_shape(target)} but its right side "
                            f"{'has' if len(shape) == 1 else 'is'} {describe_shape(shape)}", eq.span)

    def run(self) -> None:
        for _ in range(4 * len(self.known) + 4):
            self.changed = False
            for eq in self.model.equations:
                self.equation(eq)
            if not self.changed:
                return


def _known_from(model: Model, given: Given) -> dict[str, Shape | None]:
    """Shapes that sizes and values fix, with a ShapeError where the two disagree."""
    known: dict[str, Shape | None] = {n: None for n, s in model.symbols.items() if s.kind != "function"}
    for name, dims in given.sizes.items():
        known[name] = dims

    def agree(name: str, shape: Shape, *, per_step: bool = False) -> None:
        if known[name] is None:
            known[name] = shape
        elif known[name] != shape:
            if per_step:
                # `x = [1, 2, 3]` with dim x = 3 reads as three steps of a scalar; say how to
                # write one vector per step instead of calling x "a scalar".
                n = known[name][0] if len(known[name]) == 1 else None
                hint = (f"give {n} numbers at each step: a sequence of vectors is a list of lists, "
                        f"{name} = [[...], [...]], or one step {name}_1 = [...]" if n and shape == () else None)
                raise model.error(ShapeError, f"each step of '{name}' is {describe_shape(shape)} here, but "
                                  f"{name} has {describe_shape(known[name])}", given.span(name), hint=hint)
            raise model.error(ShapeError, f"'{name}' is {describe_shape(shape)} here, but its size was given as "
                              f"{describe_shape(known[name])}", given.span(name))

    for name, arr in given.params.items():
        agree(name, arr.shape)
    for name, steps in given.inputs.items():
        for arr in steps.values():
            agree(name, arr.shape, per_step=True)
    for name, steps in list(given.initial.items()) + list(given.final.items()):
        for arr in steps.values():
            if arr.ndim:  # a scalar initial value broadcasts, so only a vector fixes the size
                agree(name, arr.shape)
    return known


def infer_shapes(model: Model, given: Given | None = None) -> Shapes:
    """Infer every symbol's and node's shape from the sizes and values given.

    Raises:
        ShapeError: a contradiction (naming the expression and both shapes) or
            a size that nothing fixes (naming the symbol that needs ``dim``).
    """
    given = given if given is not None else given_values(model)
    known = _known_from(model, given)
    inf = _Infer(model, known)
    inf.run()
    # Sheets of scalars: a scalar initial value, then a model that nowhere has a vector
    # (the one-dimensional RNNs of exam sheets, or a model given no sizes at all) settle
    # what is left. Once any size or value is a vector, a missing size is an error.
    for name, steps in list(given.initial.items()) + list(given.final.items()):
        if known.get(name) is None and steps:
            known[name] = ()
    inf.run()
    if all(s == () for s in known.values() if s is not None):
        for name in model.variables + model.inputs:
            if known[name] is None:
                known[name] = ()
        inf.run()
    # The target of a cross-entropy that nothing sizes is a class index, as nn.CrossEntropyLoss
    # takes it by default (its values, when given, decide: a number or a vector per step).
    targets = [n.arg.name for eq in model.equations for n in E.walk(eq.expr)
               if isinstance(n, E.Call) and n.func == "onehot" and not n.generic and isinstance(n.arg, E.Var)]
    if any(known.get(name) is None for name in targets):
        for name in targets:
            if known.get(name) is None and name in model.inputs:
                known[name] = ()
        inf.run()
    for name, shape in known.items():
        if shape is None:
            sym = model.symbols[name]
            if sym.kind == "parameter":
                hint = "give its value, or the sizes of the variables it multiplies (dim x = 3, h = 5)"
            else:
                hint = f"add a line such as 'dim {name} = 4' (or {name}[t] in R^4)"
            raise model.error(ShapeError, f"the size of '{name}' is not known", sym.span, hint=hint)
    # A last pass records the shape of every node (and checks every product).
    inf.record = {}
    nodes: dict[str, list[Shape]] = {}
    for eq in model.equations:
        inf.equation(eq)
        nodes[eq.target] = [inf.record[id(n)] for n in E.walk(eq.expr)]
    return Shapes({n: s for n, s in known.items() if s is not None}, nodes)


def has_sizes(model: Model, given: Given | None = None) -> bool:
    """Whether anything (a dim line or a value) fixes a size; without, every symbol is a scalar."""
    given = given if given is not None else given_values(model)
    return bool(given.sizes or given.params or given.inputs or given.initial or given.final)


def parameter_shapes(model: Model, given: Given | None = None) -> dict[str, Shape]:
    """Canonical parameter name -> shape, in order of appearance."""
    shapes = infer_shapes(model, given)
    return {name: shapes.of(name) for name in model.parameters}


def parameter_count(model: Model, given: Given | None = None) -> int:
    """The number of trainable numbers: the sum of the parameters' sizes."""
    return sum(math.prod(s) for s in parameter_shapes(model, given).values())
