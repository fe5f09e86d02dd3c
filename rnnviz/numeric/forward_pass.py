"""The forward pass: the model's trees compiled once into a flat plan of numpy calls.

``forward(model)`` resolves the values (given, or drawn from a seeded
generator), infers the shapes, compiles each equation's tree into a list of
``(node index, op, child indices)`` instructions (the op chosen once from the
shapes, see :mod:`rnnviz.numeric.ops`), then runs the steps t = 1..T: each sweep's
block of steps as Python written out for these equations (one local per node, the
same numpy calls). What the model fixes without the values (shapes, plan, that
code) is worked out once per model and sizes. The
:class:`Trace` keeps the value of every variable at every step and of every node
backprop reads; it works the other nodes out again when they are asked for.

Example:
    >>> from rnnviz import load_model
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    >>> tr = forward(m)
    >>> tr.steps, [float(tr.value("h", t)) for t in range(4)]
    (3, [0.0, 6.0, 0.0, 3.0])
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping

import numpy as np

from ..errors import NumericError, ShapeError, Span, ValueSpecError
from ..language import Model
from ..language import expr as E
from ..limits import MAX_ENTRIES, MAX_HISTORY_ENTRIES
from .ops import FUNCTION_OPS, OPS, Op
from .shapes import Shapes, infer_shapes, product_kind
from .trace import PlanNode, Trace
from .values import Given, given_values

__all__ = ["forward", "Trace", "PlanNode", "DEFAULT_STEPS", "random_parameter", "PhasedTrace",
           "forward_phased", "decoder_length"]

#: Steps run when no input sequence and no ``steps`` say how many.
DEFAULT_STEPS = 5

#: Steps whose hoisted subtrees (``W x[t]``) are evaluated at once.
HOIST_STEPS = 256


def random_parameter(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """A parameter drawn like PyTorch does: uniform(-1/sqrt(n), 1/sqrt(n)), n = its fan-in.

    Each parameter has its own stream (seeded by ``seed`` and its name), so adding a
    parameter to a model does not change the others.

    Example:
        >>> w = random_parameter("W", (5, 3), 0)
        >>> w.shape, bool(abs(w).max() <= 1 / 3 ** 0.5)
        ((5, 3), True)
    """
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    n = shape[-1] if shape else 1
    bound = 1.0 / math.sqrt(n)
    return rng.uniform(-bound, bound, size=shape)


def _random_input(name: str, shape: tuple, seed: int, classes: int | None = None) -> np.ndarray:
    """Standard normal draws; for the class index of a cross-entropy, whole numbers 0 .. classes-1."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), 1])
    if classes is not None:
        return rng.integers(0, classes, size=shape).astype(np.float64)
    return rng.standard_normal(size=shape)


def class_targets(model: Model, shapes) -> dict[str, tuple[int, Span | None]]:
    """The inputs that are class indices of a cross-entropy: name -> (number of classes, where it is read)."""
    found: dict[str, tuple[int, Span | None]] = {}
    for eq in model.equations:
        nodes = list(E.walk(eq.expr))
        for i, n in enumerate(nodes):
            if isinstance(n, E.Call) and n.func == "onehot" and not n.generic and isinstance(n.arg, E.Var) \
                    and shapes.node(eq.target, i + 1) == ():
                classes = shapes.node(eq.target, i)[0]
                if n.arg.name in found and found[n.arg.name][0] != classes:
                    raise model.error(ShapeError, f"'{n.arg.name}' is the class index of cross-entropies over "
                                      f"{found[n.arg.name][0]} and over {classes} classes", n.arg.span)
                found.setdefault(n.arg.name, (classes, n.arg.span))
    return found


def _override(model: Model, given: Given, values: Mapping[str, object], batch: int | None) -> dict[str, np.ndarray]:
    """Put Python-API values into ``given``; return the inputs/initials that carry a batch axis."""
    raw: dict[str, np.ndarray] = {}
    for name, v in values.items():
        sym = model.symbols.get(name)
        if sym is None or sym.kind == "function":
            raise ValueSpecError(f"a value for '{name}', which the equations never use")
        arr = np.asarray(v, dtype=np.float64)
        if sym.kind == "parameter":
            given.params[name] = arr
        elif sym.kind == "input":
            steps = arr[None] if arr.ndim == 0 else arr
            if batch is not None and steps.ndim >= 2 and steps.shape[1] == batch:
                raw[name] = steps
                one = steps[:, 0]
            else:
                one = steps
            given.inputs[name] = {i + 1: one[i] for i in range(len(one))}
        else:
            if batch is not None and arr.ndim >= 1 and arr.shape[0] == batch:
                raw[name] = arr
                arr = arr[0]
            if name in model.backward:  # a backward chain starts after the last step
                given.final[name] = {1: arr}
            else:
                given.initial[name] = {0: arr}
    return raw


class _Skeleton:
    """What running one compiled equation needs that does not depend on the values.

    Attributes:
        hoist_order: the nodes evaluated once for all steps (the subtrees that read no
            computed variable), children first, as (index, leaf type or None for an
            operation, the number, the parameter's name or the variable's (name, delay));
            the per-step loop never computes the operations among them.
        numbers, params, reads: the leaves, (index, value), (index, parameter name) and
            (index, variable name, delay).
        instrs: the per-step instructions, children before parents:
            (index, function, first child, second child or -1, children if more than two).
        drop: the per-step nodes no backward formula reads (sums, the inputs of a tanh, ...),
            in plan order: ``keep_nodes="backward"`` lets their values go.
    """

    def __init__(self, hoist_order, numbers, params, reads, instrs, drop) -> None:
        self.hoist_order, self.numbers, self.params, self.reads, self.instrs, self.drop = \
            hoist_order, numbers, params, reads, instrs, drop
        self.instr_of = {i: (fn, a, b, many) for i, fn, a, b, many in instrs}
        #: The shape of each dropped node's value, taken on the first run (the sizes and the
        #: batch, which fix them, are part of the key the skeleton is remembered by).
        self.blank: dict[int, tuple] | None = None
        #: :meth:`_Runner.hoist_program`, on the first run.
        self.hoist_prog: tuple | None = None


_MATVEC_FAST = OPS["matvec"].fast


def _kernel(runner: "_Runner", targets: tuple[str, ...], keep: bool | str):
    """One block of one sweep (hoisting and steps), written out as Python for these equations.

    The same calls on the same values as :meth:`_Runner.hoist` and :meth:`_Runner.checked_block`
    (so the same numbers), with each node a local variable instead of a slot of a list: no
    template to copy, no loop over the instructions and no unpacking of them at every step.
    Written once per model, sizes and sweep (what it reads of ``runner`` is fixed by them).

    Returns ``kernel(runner, first, count, steps, nodes, blank)``: True when every value of the
    block is finite; False, leaving what it wrote to be written again, at the first overflow
    or NaN (the caller runs the block again, checked, to name the step and the node).
    """
    ns: dict[str, object] = {"_shape": np.shape, "_reshape": np.reshape, "_broadcast_to": np.broadcast_to,
                             "_ignore": lambda: np.errstate(all="ignore"), "_isfinite": np.isfinite,
                             "_raise": lambda: np.errstate(over="raise", invalid="raise", divide="raise",
                                                          under="ignore"),
                             "_total": np.add.reduce, "_finite": math.isfinite, "_concatenate": np.concatenate}
    lead = runner.lead
    head = ["    params, sequences, history = runner.params, runner.sequences, runner.history"]
    hoist: list[str] = []
    checks: list[str] = []
    body: list[str] = []
    outs: list[str] = []
    names: dict[object, str] = {}

    def bind(value: object, prefix: str) -> str:
        key = (prefix, id(value))
        if key not in names:
            names[key] = f"{prefix}{len(names)}"
            ns[names[key]] = value
        return names[key]

    for j, target in enumerate(targets):
        sk, plan = runner.skeletons[target], runner.plan[target]
        dropped = set(sk.drop) if keep == "backward" else set()
        src: dict[int, str] = {}  # what each node is called in the step loop
        for i, value in sk.numbers:
            src[i] = bind(value, "NUM")
        for i, pname in sk.params:
            src[i] = f"P{j}_{i}"
            head.append(f"    P{j}_{i} = params[{pname!r}]")
        # The subtrees that read no computed variable, once for the block (as hoist does);
        # hsrc: what each node is called there (a stacked array for all the block's steps).
        hsrc = dict(src)
        for i, kind, what, fn, kids, ctx, tail in (sk.hoist_prog or runner.hoist_program(target)):
            if kind == 0:
                hsrc[i] = bind(what, "NUM")
            elif kind == 1:
                hsrc[i] = f"P{j}_{i}"  # its read is in head already
            elif kind == 2:  # the same steps of an input, read by several equations, sliced once
                name, off = what
                if (name, off, tail) not in names:
                    names[(name, off, tail)] = f"S{j}_{i}"
                    hoist.append(f"        s = {off} + first")
                    hoist.append(f"        S{j}_{i} = sequences[{name!r}][1][s:s + count].reshape((count,) + {tail!r})")
                hsrc[i] = names[(name, off, tail)]
            else:
                args = ", ".join(hsrc[k] for k in kids)
                ctx_name = bind(ctx, "CTX")
                fn_name = bind(fn, "OP")
                if kind == 5:
                    ctx_name = f"dict({ctx_name}, lead=(count,) + {lead!r})"
                hoist.append(f"        S{j}_{i} = {fn_name}({args}, ctx={ctx_name})")
                hsrc[i] = f"S{j}_{i}"
                if kind == 3:
                    src[i] = f"S{j}_{i}"
                else:
                    # One value per step in the variable's stored shape; the parents read the
                    # product as it came (a scalar along time keeps its trailing axis).
                    shape = f"(count,) + {tail!r}"
                    hoist.append(f"        Q{j}_{i} = S{j}_{i} if S{j}_{i}.shape == {shape} else "
                                 f"_reshape(S{j}_{i}, {shape})")
                    hoist.append(f"        L{j}_{i} = list(Q{j}_{i})")
                    checks.append(f"Q{j}_{i}")
                    body.append(f"        v{j}_{i} = L{j}_{i}[t + O]")
                    src[i] = f"v{j}_{i}"
        for i, vname, delay in sk.reads:
            lo = runner.history[vname][0]
            head.append(f"    H{j}_{i} = history[{vname!r}][1]")
            body.append(f"        v{j}_{i} = H{j}_{i}[t + {-delay - lo}]")
            src[i] = f"v{j}_{i}"
        for idx, fn, a, b, many in sk.instrs:
            if fn is _MATVEC_FAST:  # x @ W.T, the view W.T taken once for the block
                w = src[a]
                if w.startswith("P"):
                    if f"{w}T" not in names.values():
                        names[("T", w)] = f"{w}T"
                        head.append(f"    {w}T = {w}.T")
                    line = f"{src[b]} @ {w}T"
                else:
                    line = f"{src[b]} @ {w}.T"
            else:
                args = [src[k] for k in many] if many else [src[a]] + ([src[b]] if b >= 0 else [])
                line = f"{bind(fn, 'FN')}({', '.join(args)})"
            body.append(f"        v{j}_{idx} = {line}")
            src[idx] = f"v{j}_{idx}"
        if not plan[0].batched:  # a root without the batch axis gets the variable's stored shape
            body.append(f"        r{j} = _broadcast_to({src[0]}, {runner.stored(target)!r}).copy()")
            src[0] = f"r{j}"
        lo = runner.history[target][0]
        head.append(f"    OUT{j} = history[{target!r}][1]")
        body.append(f"        OUT{j}[t + {-lo}] = {src[0]}")
        outs.append(f"*OUT{j}[lo + {-lo}:hi + {-lo}]")
        if keep:
            head.append(f"    N{j} = nodes[{target!r}]")
            if dropped:
                head.append(f"    R{j} = blank[{target!r}]")
                shapes = ", ".join(f"{i}: _shape({src[i]})" for i in sorted(dropped))
                body.append(f"        if not R{j}:")
                body.append(f"            R{j} = blank[{target!r}] = {bind(sk, 'SK')}.blank = {{{shapes}}}")
            items = ", ".join("None" if i in dropped else src[i] for i in range(len(plan)))
            body.append(f"        N{j}[t - 1] = [{items}]")
    code = ["def kernel(runner, first, count, steps, nodes, blank):", *head]
    if hoist:
        code += ["    with _ignore():", *hoist]
        # One check for all steps (a finite sum, else the exact test), as hoist makes it.
        code += [f"        if not (_finite(_total({c}, None)) or _isfinite({c}).all()):\n            return False"
                 for c in checks]
    code += ["    O = -1 - first", "    lo, hi = min(steps), max(steps) + 1", "    with _raise():", "        try:",
             "            for t in steps:", *["        " + line for line in body],
             # Every output of the block at once: a sum is finite exactly when every entry is
             # (an overflowing sum only sends the block to the checked run).
             f"            return _finite(_total(_concatenate([{', '.join(outs)}], axis=None), None))",
             "        except FloatingPointError:", "            return False"]
    exec(compile("\n".join(code), f"<rnnviz forward block of {', '.join(targets)}>", "exec"), ns)
    return ns["kernel"]


def _skeleton(plan: list[PlanNode], model: Model) -> _Skeleton:
    from functools import partial

    computed = set(model.variables)
    free = [False] * len(plan)
    for p in reversed(plan):
        n = p.expr
        free[p.index] = (not isinstance(n, E.Var) or n.name not in computed) and all(free[k] for k in p.children)
    hoisted = tuple(p.index for p in plan if free[p.index] and p.op is not None)
    order: list[tuple[int, object, object]] = []
    seen: set[int] = set()

    def visit(i: int) -> None:  # post-order: every child before its parent, each node once
        if i in seen:
            return
        seen.add(i)
        p = plan[i]
        for k in p.children:
            visit(k)
        n = p.expr
        if isinstance(n, E.Num):
            order.append((i, E.Num, np.float64(n.value)))
        elif isinstance(n, E.Param):
            order.append((i, E.Param, n.name))
        elif isinstance(n, E.Var):
            order.append((i, E.Var, (n.name, n.delay)))
        else:
            order.append((i, None, None))

    for i in hoisted:
        visit(i)
    numbers = tuple((p.index, np.float64(p.expr.value)) for p in plan if isinstance(p.expr, E.Num))
    params = tuple((p.index, p.expr.name) for p in plan if isinstance(p.expr, E.Param))
    reads = tuple((p.index, p.expr.name, p.expr.delay) for p in plan if isinstance(p.expr, E.Var))
    # What backward reads (Op.needs): the value of an op's output or of its inputs. The
    # root is the variable itself (kept in the history anyway), leaves are references
    # to the history and the parameters, constants are shared by every step.
    needed = [False] * len(plan)
    needed[0] = True
    for p in plan:
        if p.op is None or not p.batched:
            needed[p.index] = True
            continue
        if "out" in p.op.needs:
            needed[p.index] = True
        if "inputs" in p.op.needs:
            for k in p.children:
                needed[k] = True
    drop = tuple(i for i in range(len(plan)) if not needed[i])
    instrs = []
    for p in reversed(plan):
        if p.op is not None and not free[p.index]:
            fn = p.op.fast if p.op.fast is not None and not p.ctx else partial(p.op.forward, ctx=p.ctx)
            kids = p.children
            # Arity in the tuple, so the loop calls fn(a) or fn(a, b) without building lists.
            instrs.append((p.index, fn, kids[0] if kids else -1, kids[1] if len(kids) == 2 else -1,
                           kids if len(kids) > 2 else ()))
    return _Skeleton(tuple(order), numbers, params, reads, tuple(instrs), drop)


class _Static:
    """What a forward pass reads of the model alone, worked out once per model.

    Attributes:
        delay: the max delay of each input and variable (how far back it is read).
        ahead: the lookahead of each input (``x[t+1]`` reads one step ahead).
        lead: the max lead of each variable (a backward chain's ``g[t+1]``).
        backward: the variables computed by a backward sweep's chain (they start at T+1).
        parameters, inputs, variables: the model's names, in its order.
        abstract: the abstract transitions (``f(h[t-1], x[t])``), which cannot be computed, each
            with whether it is a loss.
    """

    def __init__(self, model: Model) -> None:
        names = model.inputs + model.variables
        self.ahead: dict[str, int] = {}
        for name in model.inputs:
            reads = [v.delay for eq in model.equations for v in model.reads(eq) if v.name == name]
            self.ahead[name] = max([-d for d in reads] + [0])
        self.delay = {n: model.max_delay(n) for n in names}
        self.lead = {n: model.max_lead(n) for n in model.variables}
        self.backward = frozenset(model.backward)
        self.parameters, self.inputs, self.variables = model.parameters, model.inputs, model.variables
        self.abstract = tuple((n, eq.target in model.losses) for eq in model.equations
                              for n in E.walk(eq.expr) if isinstance(n, E.Call) and n.abstract)


def _size_key(given: Given) -> tuple:
    """What shape inference reads of the values: the ``dim`` lines and the shape of every value.

    Values given in another order make another key (worked out once more), never a wrong one.

    Example:
        >>> import numpy as np
        >>> g = Given(sizes={"h": (4,)}, params={"W": np.zeros((4, 3))}, inputs={"x": {1: np.zeros(3)}})
        >>> _size_key(g)
        ((('h', (4,)),), (('W', (4, 3)),), (('x', ((1, (3,)),)),), ())
    """
    # Every value of a Given is a numpy array or scalar: ``.shape``, not np.shape (4x slower).
    def per_step(d: Mapping[str, Mapping[int, np.ndarray]]) -> tuple:
        return tuple((name, tuple([(t, a.shape) for t, a in steps.items()])) for name, steps in d.items())

    return (tuple(given.sizes.items()), tuple([(n, a.shape) for n, a in given.params.items()]),
            per_step(given.inputs), per_step(given.initial))


def _check_entries(model: Model, name: str, shape: tuple[int, ...]) -> None:
    """Refuse, before allocating it, a parameter larger than MAX_ENTRIES."""
    n = math.prod(shape)
    if n > MAX_ENTRIES:
        sym = model.symbols.get(name)
        raise model.error(ShapeError, f"'{name}' would be {' x '.join(map(str, shape))} ({n:,} numbers), "
                          f"more than the {MAX_ENTRIES:,} rnnviz allows", sym.span if sym else None,
                          hint="a limit of rnnviz; give the variables smaller sizes")


def _check_history(model: Model, per_step: int, steps: int, batch: int | None) -> None:
    """Refuse, before running, a forward pass that would keep more than MAX_HISTORY_ENTRIES numbers.

    ``per_step``: the numbers one step of the inputs and variables holds (one batch entry).
    """
    total = per_step * (steps + 1) * (batch or 1)
    if total > MAX_HISTORY_ENTRIES:
        eq = model.equations[0]
        raise model.error(ShapeError, f"{steps:,} steps of these sizes would keep {total:,} numbers, more "
                          f"than the {MAX_HISTORY_ENTRIES:,} rnnviz allows", eq.lhs_span or eq.span,
                          hint="a limit of rnnviz; use fewer steps or smaller sizes")


class _Runner:
    """Builds the histories and the plan, then runs the steps."""

    def __init__(self, model: Model, *, steps, seed, batch, values, keep_nodes, decoder: bool = False) -> None:
        self.model = model
        # A decoder's input read only at earlier steps (y[t-1], teacher forcing) makes one step per
        # value given: y_0, y_1, y_2 make three steps (as y = [1, 2, 3] does, with y_0 zero).
        # Elsewhere a sequence counts from step 1, as it always has.
        self.behind = {name: max(0, min(v.delay for eq in model.equations for v in model.reads(eq)
                                        if v.name == name))
                       for name in model.inputs} if decoder else {}
        # Per model, once: the parameters, inputs and variables, how far back (max delay) and
        # ahead (lookahead) each is read.
        self.static = static = model.memo("forward:static", lambda: _Static(model))
        self.batch = batch
        self.lead = () if batch is None else (batch,)
        for n, loss in static.abstract:  # before sizes: an abstract transition has none to infer
            self.function_op(n, loss=loss)
        given = given_values(model)
        raw = _override(model, given, values, batch) if values else {}
        self.given = given
        # Shapes and the compiled plan follow from the sizes of the values, not from the
        # numbers: worked out once per model and sizes (a teaching-size pass is mostly this).
        sizes = _size_key(given)
        # The key is long (a shape per value and step): looked up once, it gives a token that
        # the rest is remembered by (hashing and comparing it again cost as much as a step).
        token = model.memo(("forward:sizes", sizes), object)
        self.shapes, per_step = model.memo(("forward:shapes", token), lambda: self.infer_shapes(sizes))
        self.params = {}
        self.drawn: list[str] = []  # what no value gives, drawn from the seeded generator
        for name in static.parameters:
            if name in given.params:
                self.params[name] = np.array(given.params[name], dtype=np.float64)
            else:
                self.drawn.append(name)
                self.params[name] = random_parameter(name, self.shapes.of(name), seed)
        self.steps = self.count_steps(steps)
        _check_history(model, per_step, self.steps, batch)
        self.history: dict[str, tuple[int, list]] = {}
        self.classes = model.memo(("forward:classes", token), lambda: class_targets(model, self.shapes))
        self.make_inputs(seed, raw)
        self.check_classes()
        self.make_initial(raw)
        self.functions: dict[str, str] = {}

        def plan() -> tuple[dict[str, list[PlanNode]], dict[str, str], dict[str, _Skeleton]]:
            plans = {eq.target: self.compile(eq) for eq in model.equations}
            return plans, self.functions, {target: _skeleton(p, model) for target, p in plans.items()}

        key = self.plan_key = ("forward:plan", token, self.lead, tuple(sorted(given.functions.items())))
        self.plan, functions, self.skeletons = model.memo(key, plan)
        self.functions = dict(functions)
        self.keep_nodes = keep_nodes

    def infer_shapes(self, sizes: tuple):
        """(the shapes, the numbers one step of the inputs and variables holds), once per model and sizes.

        A parameter larger than MAX_ENTRIES is refused here, before anything is allocated.
        """
        model = self.model
        shapes = infer_shapes(model, self.given)
        for name in self.static.parameters:
            _check_entries(model, name, shapes.of(name))
        per_step = sum(math.prod(shapes.of(n) or (1,)) for n in [*model.inputs, *model.variables])
        return shapes, per_step

    # -- values ----------------------------------------------------------------
    def stored(self, name: str) -> tuple[int, ...]:
        """The shape a per-step array of ``name`` is stored with."""
        shape = self.shapes.of(name)
        return self.lead + (shape or ((1,) if self.lead else ()))

    def lookahead(self, name: str) -> int:
        return self.static.ahead[name]

    def count_steps(self, steps: int | None) -> int:
        m, g = self.model, self.given
        available = {}
        for name, given_steps in g.inputs.items():
            n = 0
            while n + 1 in given_steps:
                n += 1
            extra = [s for s in given_steps if s > n]
            if extra:
                raise m.error(ValueSpecError, f"'{name}' is given at step {min(extra)} but not at step {n + 1}",
                              g.span(name))
            available[name] = n - self.lookahead(name) + (1 if self.behind.get(name) and 0 in given_steps else 0)
        if steps is None and len(set(available.values())) > 1:
            # Cutting the longer sequences to the shortest would drop given numbers unsaid.
            short, long = min(available, key=available.get), max(available, key=available.get)
            def have(name: str) -> str:
                k = available[name] + self.lookahead(name)
                return f"{k} step{'s' * (k != 1)}"
            raise m.error(ValueSpecError, f"the inputs have different lengths: '{long}' has {have(long)} but "
                          f"'{short}' has {have(short)}", g.span(short),
                          hint=f"give sequences of one length, or choose the number of steps "
                               f"(--steps {max(available[short], 1)}; --unroll when drawing)")
        if steps is None:
            steps = min(available.values()) if available else DEFAULT_STEPS
            if steps < 1:
                name = min(available, key=available.get)
                raise m.error(ValueSpecError, f"'{name}' has too few steps for its equations "
                              f"(they read {name}[t+{self.lookahead(name)}])", g.span(name))
        if steps < 1:
            raise ValueSpecError(f"the number of steps must be at least 1, not {steps}")
        for name, n in available.items():
            if n < steps and self.behind.get(name):
                b = self.behind[name]
                last = max(g.inputs[name], default=0)
                if last < steps - b:
                    raise m.error(ValueSpecError, f"'{name}' is given up to step {last}, but {steps} decoder steps "
                                  f"read {name}[{1 - b}..{steps - b}]", g.span(name),
                                  hint=f"give a longer sequence, or a shorter decoder (T' = {max(n, 1)})")
                continue
            if n < steps:
                have = n + self.lookahead(name)
                raise m.error(ValueSpecError, f"'{name}' has {have} step{'s' * (have != 1)} but {steps} steps need "
                              f"{name}[1..{steps + self.lookahead(name)}]", g.span(name),
                              hint=f"give a longer sequence, or run fewer steps (--steps {max(n, 1)}; "
                                   f"--unroll {max(n, 1)} when drawing)")
        return steps

    def make_inputs(self, seed: int, raw: dict) -> None:
        """One array per input over steps lo..hi; the history holds views of it (no copies)."""
        self.sequences: dict[str, tuple[int, np.ndarray]] = {}
        for name in self.static.inputs:
            lo = min(1, 1 - self.static.delay[name])
            hi = self.steps + self.lookahead(name)
            shape = self.stored(name)
            given = self.given.inputs.get(name)
            if name in raw and lo == 1:  # a Python array that covers every step: use it as it is
                full = np.asarray(raw[name][:hi], dtype=np.float64).reshape((hi,) + shape)
                self.sequences[name] = (lo, full)
                self.history[name] = (lo, list(full))
                continue
            full = np.zeros((hi - lo + 1,) + shape)  # steps without a value (t <= 0) stay zero
            if name in raw:
                # Read only at earlier steps (y[t-1]): the last steps are never read, and may be left out.
                got = np.asarray(raw[name][:hi], dtype=np.float64)
                unread = min(self.behind.get(name, 0), hi)
                if len(got) < hi - unread:
                    raise self.model.error(ValueSpecError, f"'{name}' is given for {len(got)} steps, but the "
                                           f"equations read it up to step {hi - unread}", None)
                full[1 - lo:1 - lo + len(got)] = got.reshape((len(got),) + shape)
            elif given is None:
                classes = self.classes.get(name, (None,))[0]
                full[1 - lo:] = _random_input(name, (hi,) + shape, seed, classes)
                self.drawn.append(name)
            for t, arr in (given or {}).items():
                if name not in raw and lo <= t <= hi:
                    full[t - lo] = arr.reshape(self.shapes.of(name)) if not self.lead else \
                        np.broadcast_to(arr.reshape(shape[1:]), shape)
            self.sequences[name] = (lo, full)
            self.history[name] = (lo, list(full))

    def check_classes(self) -> None:
        """Every class index of a cross-entropy is a whole number 0 .. n-1, at every step it is read."""
        for name, (classes, read_at) in self.classes.items():
            lo, full = self.sequences[name]
            flat = full.reshape(full.shape[0], -1)
            for k, row in enumerate(flat):
                t = lo + k
                if t < 1:
                    continue
                bad = next((v for v in row if not (float(v).is_integer() and 0 <= v < classes)), None)
                if bad is None:
                    continue
                what = (f"is not a whole number" if not float(bad).is_integer() else
                        f"is not a class: the scores have {classes} entries, classes 0..{classes - 1}")
                raise self.model.error(ValueSpecError, f"'{name}' is a class index of a cross-entropy, but "
                                       f"{name}[{t}] = {float(bad):g} {what}",
                                       self.given.span(name) or read_at,
                                       hint=f"give {name} as class indices 0..{classes - 1} (as nn.CrossEntropyLoss "
                                            f"takes them), or as one-hot vectors of {classes} entries")

    def make_initial(self, raw: dict) -> None:
        """Each variable's history over lo..hi, its values outside 1..T set (given, or zero)."""
        T = self.steps
        static = self.static
        for name in static.variables:
            lo = 1 - static.delay[name]
            hi = T + static.lead[name]
            if lo == 1 and hi == T:  # read at the step it is computed only: nothing to set
                self.history[name] = (lo, [None] * T)
                continue
            shape = self.stored(name)
            given = dict(self.given.initial.get(name, {}))
            for j, arr in self.given.final.get(name, {}).items():
                given[T + j] = arr
            wrong = [t for t in given if 1 <= t <= T or t > hi]
            if wrong and name in static.backward:
                raise self.model.error(ValueSpecError, f"'{name}' is given at step {wrong[0]}, but it runs backward "
                                       f"over steps {T}..1: its starting value is {name}[{T + 1}] (also written "
                                       f"{name}[T+1])", self.given.span(name))
            hist: list = []
            for t in list(range(lo, 1)) + list(range(T + 1, hi + 1)):
                if name in raw and t == (0 if name not in static.backward else T + 1):
                    arr = raw[name].reshape(shape)
                elif t in given:
                    try:
                        arr = np.broadcast_to(given[t].reshape(given[t].shape or ()), self.shapes.of(name) or ())
                    except ValueError:
                        raise self.model.error(ShapeError, f"the initial value of '{name}' has "
                                               f"{given[t].size} entries but {name} has {self.shapes.of(name)[0]}",
                                               self.given.span(name))
                    arr = np.broadcast_to(arr.reshape(shape[len(self.lead):]), shape)
                else:
                    hist.append(np.zeros(shape))  # already a fresh float64 array of its own
                    continue
                hist.append(np.array(arr, dtype=np.float64))
            # Steps 1..T are filled in by the sweep that computes them, in its direction.
            self.history[name] = (lo, hist[:1 - lo] + [None] * T + hist[1 - lo:])

    # -- compiling ---------------------------------------------------------------
    def function_op(self, node: E.Call, *, loss: bool = False) -> Op:
        if node.abstract:
            n = len(node.arguments)
            what, example = (("a loss left abstract", "the loss out, as in cross_entropy(o_t, y_t) or "
                               "\\frac{1}{2}(o_t - y_t)^2") if loss else
                              ("an abstract transition", "the transition out, as in h_t = \\tanh(W h_{t-1} + "
                               "U x_t + b)"))
            raise self.model.error(ValueSpecError, f"'{E.to_text(node)}' is {what}: {node.func} "
                                   f"of {n} argument{'s' * (n != 1)} has no numeric meaning", node.span,
                                   hint=f"to compute it, write {example}; a drawing and "
                                        "'rnnviz formula' work as it stands")
        if not node.generic:
            return FUNCTION_OPS[node.func]
        bound = self.given.functions.get(node.func)
        if bound is None:
            raise self.model.error(ValueSpecError, f"the activation '{node.func}' has no meaning yet, so it "
                                   "cannot be computed", node.span,
                                   hint=f"add a line such as '{node.func} = tanh' (or relu, sigmoid, identity)")
        self.functions[node.func] = bound
        return FUNCTION_OPS[bound]

    def compile(self, eq) -> list[PlanNode]:
        nodes = list(E.walk(eq.expr))
        index = {id(n): i for i, n in enumerate(nodes)}
        shapes = self.shapes.nodes[eq.target]
        plan: list[PlanNode | None] = [None] * len(nodes)
        for i in reversed(range(len(nodes))):
            n = nodes[i]
            kids = tuple(index[id(c)] for c in E.children(n))
            batched = isinstance(n, E.Var) or any(plan[k].batched for k in kids)  # type: ignore[union-attr]
            ctx: dict = {}
            op: Op | None = None
            if isinstance(n, E.Call):
                op = self.function_op(n)
                if op.name == "relu":
                    ctx = {"relu_prime0": self.model.relu_prime0}
                elif op.name == "onehot":
                    ctx = {"index": shapes[kids[0]] == (), "classes": shapes[i][0] if shapes[i] else 1}
            elif isinstance(n, E.Prod):
                op = OPS[product_kind(shapes[kids[0]], shapes[kids[1]]) or "mul"]
            elif isinstance(n, E.Concat):
                op = OPS["concat"]
                ctx = {"sizes": tuple(shapes[k][0] if shapes[k] else 1 for k in kids), "lead": self.lead,
                       "batched": tuple(plan[k].batched for k in kids)}  # type: ignore[union-attr]
            elif not isinstance(n, (E.Num, E.Param, E.Var)):
                op = OPS[{E.Add: "add", E.Sub: "sub", E.EMul: "mul", E.Neg: "neg"}[type(n)]]
            plan[i] = PlanNode(i, n, op, ctx, kids, batched)
        return plan  # type: ignore[return-value]

    # -- running -------------------------------------------------------------------
    def hoist(self, target: str, first: int = 0, count: int | None = None) -> tuple[dict[int, object], dict[int, list]]:
        """Evaluate, once for steps first+1..first+count, the subtrees that read no computed variable.

        ``W x[t]`` depends on inputs and parameters only, so one product over the
        stacked sequence replaces many small ones (and a parameter-only subtree is a
        constant). Returns (node index -> constant, node index -> per-step list).
        Every node keeps its per-step value, so the Trace is the same either way.
        """
        sk = self.skeletons[target]
        if not sk.hoist_order:
            return {}, {}
        prog = sk.hoist_prog
        if prog is None:
            prog = sk.hoist_prog = self.hoist_program(target)
        T, lead = (self.steps - first if count is None else count), self.lead
        consts: dict[int, object] = {}
        per_step: dict[int, list] = {}
        stacked: dict[int, np.ndarray] = {}
        done: dict[int, object] = {}
        params, sequences = self.params, self.sequences
        # Children before parents (the skeleton's order); the caller ignores floating-point errors.
        for i, kind, what, fn, kids, ctx, tail in prog:
            if kind == 0:  # a number
                done[i] = what
            elif kind == 1:  # a parameter
                done[i] = params[what]
            elif kind == 2:  # an input read at t - delay; what: (name, 1 - delay - lo)
                lo, full = sequences[what[0]]
                start = what[1] + first
                # A trailing axis for scalars, so that they broadcast against vectors along time.
                done[i] = full[start:start + T].reshape((T,) + tail)
            elif kind == 3:  # an operation of constants
                consts[i] = done[i] = fn(*[done[k] for k in kids], ctx=ctx)
            else:  # an operation that reads the sequence: one value per step
                if kind == 5:  # a concatenation gets the time axis
                    ctx = dict(ctx, lead=(T,) + lead)
                out = done[i] = fn(*[done[k] for k in kids], ctx=ctx)
                shape = (T,) + tail
                stacked[i] = out = out if out.shape == shape else np.reshape(out, shape)
                per_step[i] = list(out)
        for i, steps in per_step.items():
            # One check for all steps (a finite sum, else the exact test); step by step only to name one.
            if math.isfinite(np.add.reduce(stacked[i], None)) or np.isfinite(stacked[i]).all():
                continue
            for t, v in enumerate(steps, start=first + 1):
                if not np.isfinite(v).all():
                    vals: list = [None] * len(self.plan[target])
                    vals[i] = v
                    self.fail(target, t, vals, None, at=i)  # children come first: i is the deepest
        return consts, per_step

    def hoist_program(self, target: str) -> tuple:
        """:meth:`hoist`'s instructions for ``target``, worked out once per model and sizes.

        (index, kind, what, forward, children, ctx, shape of one step): kind 0 a number,
        1 a parameter, 2 an input, 3 an operation of constants, 4 one of the sequence,
        5 a concatenation of the sequence (its ctx gets the time axis when it runs).
        """
        plan, lead = self.plan[target], self.lead
        prog = []
        for i, kind, what in self.skeletons[target].hoist_order:
            if kind is E.Num:
                prog.append((i, 0, what, None, (), None, ()))
            elif kind is E.Param:
                prog.append((i, 1, what, None, (), None, ()))
            elif kind is E.Var:
                name, delay = what
                lo = self.sequences[name][0]
                prog.append((i, 2, (name, 1 - delay - lo), None, (), None, self.stored(name)[:len(lead)] + (-1,)))
            else:
                p = plan[i]
                shape = self.shapes.node(target, i)
                k = 3 if not p.batched else 5 if p.op.name == "concat" else 4
                prog.append((i, k, None, p.op.forward, p.children, p.ctx, lead + (shape or ((1,) if lead else ()))))
        return tuple(prog)

    def run(self) -> Trace:
        keep = self.keep_nodes
        T = self.steps
        nodes: dict[str, list] | None = {eq.target: [None] * T for eq in self.model.equations} if keep else None
        # With keep_nodes="backward", the values no backward formula reads are let go after
        # each step (the Trace works them out again when asked).
        drop = {eq.target: self.skeletons[eq.target].drop if keep == "backward" else ()
                for eq in self.model.equations}
        self.blank_shapes: dict[str, dict[int, tuple]] = {
            target: (self.skeletons[target].blank or {}) if drop[target] else {} for target in drop}
        # One loop over the steps per sweep: forward t = 1..T, backward t = T..1. Within a
        # sweep, hoisted subtrees are evaluated HOIST_STEPS steps at a time, so that a long
        # sequence never holds every step of every hoisted product at once.
        for sweep in self.model.sweeps:
            order = list(sweep.steps(T))  # 1..T, T..1, or the last step only
            blocks = list(dict.fromkeys((t - 1) // HOIST_STEPS * HOIST_STEPS for t in order))
            targets = sweep.targets
            kernel = self.model.memo(("forward:kernel", self.plan_key, targets, keep),
                                     lambda: _kernel(self, targets, keep))
            for first in blocks:
                count = min(HOIST_STEPS, T - first)
                steps = [t for t in order if first < t <= first + count]
                # Checked once per block; a block that goes wrong runs again, checked step by
                # step, so that the error names the first step and node as it always did.
                if not kernel(self, first, count, steps, nodes, self.blank_shapes):
                    self.checked_block(targets, first, count, steps, nodes)
        trace = Trace(self.model, self.shapes, self.steps, self.batch, self.params, self.history, nodes,
                      self.plan, self.functions, refill=self if keep == "backward" else None)
        trace.drawn = tuple(self.drawn)
        return trace

    def checked_block(self, targets: tuple[str, ...], first: int, count: int, steps: list[int],
                      nodes: dict | None) -> None:
        """Run ``steps`` of the ``targets`` (a block that went wrong), raising at the first step and
        node whose value is not finite (see :meth:`fail`). The same calls as the block's kernel:
        running a block again gives the same numbers."""
        compiled = []
        drop = {name: self.skeletons[name].drop if self.keep_nodes == "backward" else () for name in targets}
        with np.errstate(all="ignore"):
            hoisted = {name: self.hoist(name, first, count) for name in targets}
        for name in targets:
            plan = self.plan[name]
            sk = self.skeletons[name]
            consts, per_step = hoisted[name]
            template: list = [None] * len(plan)
            fetch = [(i, steps, -1 - first) for i, steps in per_step.items()]
            for i, value in consts.items():
                template[i] = value
            for i, value in sk.numbers:
                template[i] = value
            for i, pname in sk.params:
                template[i] = self.params[pname]
            for i, vname, delay in sk.reads:
                lo, hist = self.history[vname]
                fetch.append((i, hist, -delay - lo))
            fix = None if plan[0].batched else self.stored(name)
            lo, hist = self.history[name]
            compiled.append((name, template, fetch, sk.instrs, hist, -lo, fix, drop[name]))
        del hoisted
        isfinite, total, finite_number = np.isfinite, np.add.reduce, math.isfinite
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            for t in steps:
                for target, template, fetch, instrs, hist, at, fix, dropped in compiled:
                    vals = template.copy()
                    for idx, lst, off in fetch:
                        vals[idx] = lst[t + off]
                    try:
                        for idx, fn, a, b, many in instrs:
                            if b >= 0:
                                vals[idx] = fn(vals[a], vals[b])
                            elif many:
                                vals[idx] = fn(*[vals[k] for k in many])
                            else:
                                vals[idx] = fn(vals[a])
                    except FloatingPointError:
                        self.fail(target, t, vals, None)
                    out = vals[0]
                    if fix is not None:
                        out = vals[0] = np.broadcast_to(out, fix).copy()
                    # The sum is finite exactly when every entry is, unless it overflows: one
                    # reduction instead of an isfinite array and its all().
                    try:
                        fine = finite_number(total(out, None))
                    except FloatingPointError:
                        fine = False
                    if not fine and not isfinite(out).all():
                        self.fail(target, t, vals, out)
                    hist[t + at] = out
                    if nodes is not None:
                        if dropped:
                            if not self.blank_shapes[target]:
                                sk = self.skeletons[target]
                                sk.blank = self.blank_shapes[target] = {i: np.shape(vals[i]) for i in dropped}
                            for i in dropped:
                                vals[i] = None
                        nodes[target][t - 1] = vals

    def refill(self, target: str, t: int, vals: list) -> list:
        """``vals`` (the kept nodes of ``target`` at step t) with the let-go ones worked out again.

        The same operations on the same values give the same numbers: a node of the step
        loop from its children, a hoisted one from its block of steps, evaluated whole as
        the forward pass did (and remembered, so that reading every step costs one pass).
        """
        dropped = self.skeletons[target].drop
        if not dropped:
            return vals
        vals = list(vals)
        memo = self.__dict__.setdefault("_rehoisted", {})
        block = (t - 1) // HOIST_STEPS
        instr = self.skeletons[target].instr_of
        with np.errstate(all="ignore"):
            for i in reversed(dropped):  # pre-order reversed: children before parents
                if i in instr:
                    fn, a, b, many = instr[i]
                    vals[i] = fn(vals[a], vals[b]) if b >= 0 else fn(*[vals[k] for k in many]) if many \
                        else fn(vals[a])
                else:
                    if (target, block) not in memo:
                        first = block * HOIST_STEPS
                        memo[(target, block)] = self.hoist(target, first, min(HOIST_STEPS, self.steps - first))[1]
                    vals[i] = memo[(target, block)][i][t - 1 - block * HOIST_STEPS]
        return vals

    def fail(self, target: str, t: int, vals: list, out, *, at: int | None = None) -> None:
        """Raise a NumericError naming the variable, the step and the first node that went wrong.

        ``at`` names that node when the caller knows it (a subtree evaluated for all steps
        at once, where the other slots of ``vals`` are empty, not missing).
        """
        plan = self.plan[target]
        bad = plan[at] if at is not None else None
        for p in reversed(plan) if bad is None else ():
            v = vals[p.index]
            if v is None or not np.isfinite(v).all():
                bad = p
                break
        node = bad.expr if bad is not None else self.model.equation(target).expr
        what = "overflow or NaN"
        if bad is not None and isinstance(node, E.Call) and node.func == "log":
            what = "log of a number <= 0"  # NaN for a negative, -inf for 0: the same mistake
        elif bad is not None and vals[bad.index] is not None and np.isnan(vals[bad.index]).any():
            what = "NaN (not a number)"
        elif bad is not None:
            what = "overflow"
        hint = ("log takes positive numbers only" if what.startswith("log") else
                "smaller weights or inputs, or fewer steps, keep the values finite")
        err = self.model.error(NumericError, f"{what} while computing {target}[{t}] (step {t}) in "
                               f"{E.to_text(node)}", node.span or self.model.equation(target).span, hint=hint)
        err.variable, err.step = target, t  # type: ignore[attr-defined]
        raise err


def forward(model: Model, *, steps: int | None = None, seed: int = 0, batch: int | None = None,
            values: Mapping[str, object] | None = None, keep_nodes: bool | str = "backward") -> Trace:
    """Run the model's equations for t = 1..T and keep every value.

    Args:
        model: the model (its value lines give parameters, initial states, inputs, sizes).
        steps: T; by default the length of the input sequences (or DEFAULT_STEPS
            when no input is given).
        seed: seeds the parameters and inputs that no value gives.
        batch: a batch size; values from the file are shared by the batch, drawn
            inputs differ per batch entry.
        values: more values from Python, by canonical name (they win over the
            file): parameters as arrays; inputs as sequences (first axis time,
            then the batch axis when ``batch`` is set); variables as their
            initial value at step 0 (with a leading batch axis if batched).
        keep_nodes: which intermediate values to keep. ``"backward"`` (the default)
            keeps those backprop reads (products' factors, functions' outputs) and lets
            the others go (sums, ``W x[t]``): :meth:`Trace.node` works them out again,
            to the same numbers, when asked. ``True`` keeps every one, ``False`` none
            (then there are no gradients and no ``Trace.node``).

    Raises:
        ShapeError, ValueSpecError: values that do not fit the equations.
        NumericError: overflow or NaN, naming the variable and the step.
    """
    if batch is not None and batch < 1:
        raise ValueSpecError(f"the batch size must be at least 1, not {batch}")
    if keep_nodes not in (True, False, "backward"):
        raise ValueError(f"keep_nodes is True, False or 'backward', not {keep_nodes!r}")
    if model.phases is not None:  # an encoder-decoder: the encoder's run, then the decoder's
        return forward_phased(model, steps=steps, seed=seed, batch=batch, values=values or {},
                              keep_nodes=keep_nodes)
    return _Runner(model, steps=steps, seed=seed, batch=batch, values=values or {}, keep_nodes=keep_nodes).run()


# -- an encoder-decoder: two runs, tied by the context ---------------------------------------
#
# The encoder runs over the input sequence (steps 1..T) and computes, once at step T, the
# contexts (c = h_T) and the decoder's starts (s_0 = tanh(D c)). The decoder then runs over
# the output sequence (steps 1..T'), reading each context as the same number at every step
# and starting each chain from its start (see rnnviz.language.phases). T' is a value line's
# (T' = 3, also n_y = 3) or, without one, as many steps as the decoder's inputs are given for.

class PhasedTrace:
    """The two runs of an encoder-decoder.

    Attributes:
        model: the encoder-decoder (a :class:`~rnnviz.language.Model` with ``phases``).
        encoder, decoder: the :class:`~rnnviz.numeric.trace.Trace` of each phase; the
            encoder's holds the contexts and starts at step T, the decoder's the contexts as
            inputs at each of its steps and each start as its chain's value at step 0.
        steps: T, the encoder's steps; ``decoder_steps``: T', the decoder's.
    """

    def __init__(self, model: Model, encoder: Trace, decoder: Trace) -> None:
        self.model, self.encoder, self.decoder = model, encoder, decoder
        phases = model.phases
        self.contexts = phases.contexts
        self.steps, self.decoder_steps = encoder.steps, decoder.steps
        self.batch = encoder.batch
        self.params = {**decoder.params, **encoder.params}
        self.plan = {**encoder.plan, **decoder.plan}
        self.functions = {**decoder.functions, **encoder.functions}
        self.shapes = Shapes({**decoder.shapes.symbols, **encoder.shapes.symbols},
                             {**encoder.shapes.nodes, **decoder.shapes.nodes})
        self.drawn = tuple(dict.fromkeys(encoder.drawn + tuple(n for n in decoder.drawn if n not in self.contexts)))

    @property
    def names(self) -> list[str]:
        """The encoder's inputs and variables, then the decoder's (a context once, as the encoder's)."""
        return self.encoder.names + [n for n in self.decoder.names if n not in self.contexts]

    @property
    def values(self) -> dict[str, list]:
        """name -> [v0, v1, ...] over the steps of its phase (0..T or 0..T'), as :attr:`Trace.values`."""
        out = dict(self.encoder.values)
        out.update({n: v for n, v in self.decoder.values.items() if n not in self.contexts})
        return out

    def trace_of(self, name: str) -> Trace:
        """The run that computes (or reads) ``name``."""
        return self.decoder if self.model.phases.phase_of(name) == "decoder" else self.encoder

    def has(self, name: str, t: int) -> bool:
        return self.trace_of(name).has(name, t)

    def value(self, name: str, t: int) -> np.ndarray:
        """``name`` at step ``t`` of its phase (a context and a start: at the encoder's step T)."""
        return self.trace_of(name).value(name, t)


def decoder_length(model: Model, decoder: Model, values: Mapping[str, object]) -> int:
    """T': the value line's, else as many steps as every decoder input is given for."""
    phases = model.phases
    if phases.length is not None:
        return phases.length
    given = given_values(decoder)
    found: dict[str, int] = {}
    for name in decoder.inputs:
        if name in phases.contexts:
            continue
        steps = set(given.inputs.get(name, {}))
        if name in values:
            steps |= set(range(1, len(np.atleast_1d(np.asarray(values[name], dtype=float))) + 1))
        if not steps:
            continue
        reads = [v.delay for eq in decoder.equations for v in decoder.reads(eq) if v.name == name]
        n = 0
        while n + 1 in steps:
            n += 1
        # Read only at earlier steps (y[t-1]): one decoder step per value given, y_0 included.
        found[name] = n + (1 if min(reads) >= 1 and 0 in steps else 0) - max(0, -min(reads))
    if len(set(found.values())) > 1:
        short, long = min(found, key=found.get), max(found, key=found.get)
        raise model.error(ValueSpecError, f"the decoder's inputs give different lengths: '{long}' is given for "
                          f"{found[long]} decoder steps but '{short}' for {found[short]}", given.span(short),
                          hint=f"give them for the same steps, or the decoder's length (T' = {found[short]})")
    if not found or min(found.values()) < 1:
        eq = phases.decoder.equations[0]
        raise model.error(ValueSpecError, "the decoder's length is not known: no decoder input is given "
                          "values, so nothing says how many output steps to run", eq.lhs_span or eq.span,
                          hint="give it on a line of its own, as in T' = 3 (also n_y = 3), or give the "
                               "decoder's inputs (y_0, y_1, ...)")
    return min(found.values())


def forward_phased(model: Model, *, steps: int | None = None, seed: int = 0, batch: int | None = None,
                   values: Mapping[str, object] | None = None, keep_nodes: bool | str = "backward") -> PhasedTrace:
    """Run the encoder for t = 1..T, its contexts once, then the decoder for t = 1..T'.

    The arguments are :func:`rnnviz.numeric.forward_pass.forward`'s; ``steps`` is T, the
    encoder's. A value of ``values`` goes to the phase whose equations use it.

    Example:
        >>> from rnnviz import load_model
        >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_t = tanh(A s_{t-1} + B y_{t-1} + C c)\\n"
        ...                "W = 0.5, U = 1, A = 0.5, B = 1, C = 1, x = [1, -1], y_0 = 0, y_1 = 1")
        >>> tr = forward_phased(m)
        >>> tr.steps, tr.decoder_steps, round(float(tr.value("c", 2)), 6)
        (2, 2, -0.550573)
    """
    values = dict(values or {})
    phases = model.phases
    encoder, decoder = phases.bind(model)
    enc_values = {k: v for k, v in values.items() if k in encoder.symbols}
    dec_values = {k: v for k, v in values.items() if k in decoder.symbols and k not in phases.contexts}
    for k in values:
        if k not in encoder.symbols and k not in decoder.symbols:
            raise ValueSpecError(f"a value for '{k}', which the equations never use")
    enc = _Runner(encoder, steps=steps, seed=seed, batch=batch, values=enc_values, keep_nodes=keep_nodes).run()
    T = enc.steps
    n = decoder_length(model, decoder, dec_values)
    for c in phases.contexts:
        v = np.asarray(enc.value(c, T), dtype=np.float64)
        dec_values[c] = np.broadcast_to(v[None], (n,) + v.shape).copy()
    for chain, start in phases.starts:
        dec_values[chain] = np.asarray(enc.value(start, T), dtype=np.float64)
    dec = _Runner(decoder, steps=n, seed=seed, batch=batch, values=dec_values, keep_nodes=keep_nodes,
                  decoder=True).run()
    # An input read one step back (y[t-1]) is read at steps 0..T'-1 only: a step after those that
    # no value gives is not shown (it would be a zero nothing reads).
    given = given_values(decoder).inputs
    for name in decoder.inputs:
        reads = [v.delay for eq in decoder.equations for v in decoder.reads(eq) if v.name == name]
        lo, hist = dec._history[name]
        keep = len(hist)
        while min(reads) > 0 and lo + keep - 1 > n - min(reads) and lo + keep - 1 not in given.get(name, {}) \
                and name not in dec_values:
            keep -= 1
        dec._history[name] = (lo, hist[:keep])
    return PhasedTrace(model, enc, dec)
