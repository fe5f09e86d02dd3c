"""Syntax tree -> Model: what each symbol is, delays, evaluation order, checks.

Example:
    >>> from rnnviz.model import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t] + b)")
    >>> m.role("h"), m.role("x"), m.role("W")
    ('output', 'input', 'parameter')
    >>> m.delays("h")
    (1,)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import expr as E
from . import syntax as S
from .errors import ModelError, RnnvizError, Span, ValueSpecError
from .parse import parse_text, suggest

__all__ = ["Symbol", "Equation", "Value", "Model", "build_model", "load_model", "FUNCTION_ALIASES"]

#: Every spelling of a function (after LaTeX decoration is stripped) -> canonical name.
FUNCTION_ALIASES = {
    "tanh": "tanh", "sigmoid": "sigmoid", "sigma": "sigmoid", "sigm": "sigmoid",
    "relu": "relu", "ReLU": "relu", "Relu": "relu", "softmax": "softmax",
    "exp": "exp", "log": "log", "ln": "log", "identity": "identity", "id": "identity",
}

ROLES = ("input", "state", "hidden", "output", "parameter")


@dataclass(frozen=True)
class Symbol:
    """A name of the model.

    ``kind`` is ``input``, ``variable`` (computed), ``parameter`` or ``function``
    (a generic activation such as ``f`` or ``\\phi``); ``role`` is one of
    ``input``, ``state``, ``hidden``, ``output``, ``parameter``, ``function``.
    """

    name: str
    display: S.Name
    kind: str
    role: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Equation:
    """``target[t] = expr``; ``span`` covers the whole equation, ``lhs_span`` its left side."""

    target: str
    expr: E.Expr
    caption: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)
    lhs_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Value:
    """A value line.

    ``kind`` is ``value`` (``value`` is a float or nested lists of floats; ``time``
    is the step for ``h[0]``, ``x_3``), ``size`` (``value`` is a tuple of ints),
    ``function`` (``f = tanh``: ``value`` is the canonical function name) or
    ``relu_deriv`` (``relu'(0) = 1``).
    """

    name: str
    value: object
    kind: str = "value"
    time: int | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass
class Model:
    """Equations in evaluation order, the symbols they use, and the values given."""

    equations: tuple[Equation, ...]
    symbols: dict[str, Symbol]
    values: tuple[Value, ...] = ()
    file: str = "<input>"
    source: str = ""
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    # -- queries -------------------------------------------------------------
    def role(self, name: str) -> str:
        return self.symbols[name].role

    def names(self, *roles: str) -> list[str]:
        """Symbol names with one of ``roles`` (all when none), in order of appearance."""
        return [n for n, s in self.symbols.items() if not roles or s.role in roles]

    @property
    def inputs(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "input"]

    @property
    def variables(self) -> list[str]:
        """Computed variables, in evaluation order."""
        return [eq.target for eq in self.equations]

    @property
    def parameters(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "parameter"]

    @property
    def functions(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "function"]

    def equation(self, name: str) -> Equation:
        for eq in self.equations:
            if eq.target == name:
                return eq
        raise KeyError(name)

    def reads(self, eq: Equation) -> list[E.Var]:
        """The variables an equation reads, in order, each (name, delay) once."""
        seen: list[E.Var] = []
        for node in E.walk(eq.expr):
            if isinstance(node, E.Var) and all((v.name, v.delay) != (node.name, node.delay) for v in seen):
                seen.append(node)
        return seen

    def delays(self, name: str) -> tuple[int, ...]:
        """The delays (k >= 1) at which ``name`` is read anywhere, sorted."""
        ks = {v.delay for eq in self.equations for v in self.reads(eq) if v.name == name and v.delay >= 1}
        return tuple(sorted(ks))

    def max_delay(self, name: str) -> int:
        return max(self.delays(name), default=0)

    @property
    def recurrent(self) -> list[str]:
        """Computed variables read at an earlier step (they need initial values)."""
        return [n for n in self.variables if self.delays(n)]

    @property
    def relu_prime0(self) -> float:
        """The derivative of ReLU at exactly 0 (``relu'(0) = 1``); 0 by default, as in PyTorch."""
        value = 0.0
        for v in self.values:
            if v.kind == "relu_deriv":
                value = float(v.value)
        return value

    def function_binding(self, name: str) -> str | None:
        """What a generic activation (``f``, ``\\phi``) was given as value, if anything."""
        bound = None
        for v in self.values:
            if v.kind == "function" and v.name == name:
                bound = str(v.value)
        return bound

    def error(self, cls, message: str, span: Span | None, **kw) -> RnnvizError:
        """An error with the source text of the file the span points into."""
        err = cls(message, span, **kw)
        if span is not None and span.file in self.sources:
            err.with_source(self.sources[span.file])
        return err

    def with_values(self, *programs: S.Program) -> "Model":
        """A copy with more values (a second file, ``--set``); later ones win."""
        values = list(self.values)
        sources = dict(self.sources)
        for prog in programs:
            sources[prog.file] = prog.source
            builder = _Builder(prog.file, prog.source, sources)
            if builder.has_equations(prog):
                first = next(s for s in prog.statements if isinstance(s, S.Assign))
                raise builder.err("a values file holds values only, but this line is an equation", first.span)
            values.extend(builder.values_of(prog.statements, self))
        return Model(self.equations, self.symbols, tuple(values), self.file, self.source, sources)


# ---------------------------------------------------------------------------


def _is_constant(node: S.Node) -> bool:
    if isinstance(node, S.Num):
        return True
    if isinstance(node, S.Neg):
        return _is_constant(node.operand)
    if isinstance(node, S.Frac):
        return _is_constant(node.num) and _is_constant(node.den)
    if isinstance(node, S.Bracket):
        return all(_is_constant(i) for i in node.items)
    return False


def _refs(node: S.Node):
    """Every Ref and Call name in a syntax expression."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, S.Ref):
            yield n.name, False
        elif isinstance(n, S.Call):
            yield n.func, True
            stack.append(n.arg)
        elif isinstance(n, S.BinOp):
            stack.extend([n.right, n.left])
        elif isinstance(n, S.Neg):
            stack.append(n.operand)
        elif isinstance(n, S.Bracket):
            stack.extend(reversed(n.items))
        elif isinstance(n, S.Frac):
            stack.extend([n.den, n.num])


def _not_a_number(rhs: S.Node) -> str | None:
    """``nan`` or ``inf`` written as a value: the word, else None."""
    if isinstance(rhs, S.Neg):
        rhs = rhs.operand
    if isinstance(rhs, S.Ref) and not rhs.name.subs and not rhs.name.sups and rhs.name.time is None:
        word = rhs.name.base
        if word.lower().lstrip("\\") in ("nan", "inf", "infty", "infinity"):
            return word
    return None


def _is_function_word(name: S.Name) -> str | None:
    if name.time is None and not name.subs and not name.sups and not name.accent:
        return FUNCTION_ALIASES.get(name.base)
    return None


def _can_be_generic(name: S.Name) -> bool:
    """A Greek letter or a one-letter lowercase name: `f`, `g`, `\\phi`, `\\sigma_h`."""
    return name.time is None and not name.accent and (
        name.base in S.GREEK_LETTERS or (len(name.base) == 1 and name.base.islower())
    )


class _Builder:
    def __init__(self, file: str, source: str, sources: dict[str, str]) -> None:
        self.file = file
        self.source = source
        self.sources = sources

    def err(self, message: str, span: Span | None, cls=ModelError, **kw) -> RnnvizError:
        e = cls(message, span, **kw)
        if span is not None and span.file in self.sources:
            e.with_source(self.sources[span.file])
        return e

    # -- classification ------------------------------------------------------
    def has_equations(self, prog: S.Program) -> bool:
        return any(
            isinstance(s, S.Assign) and s.lhs.time is not None and not s.lhs.time.absolute for s in prog.statements
        )

    def classify(self, stmts) -> tuple[list[S.Assign], list]:
        """Split statements into equations and value statements."""
        eqs = [s for s in stmts if isinstance(s, S.Assign) and s.lhs.time is not None and not s.lhs.time.absolute]
        targets = {s.lhs.canonical for s in eqs}
        pending = [s for s in stmts if isinstance(s, S.Assign) and s.lhs.time is None and not _is_constant(s.rhs)]
        # A sheet may drop the time index of a gate (`g_1 = \sigma(W_1 x_t + ...)`):
        # when the right side reads anything at a time, the left side is at t.
        changed = True
        while changed:
            changed = False
            for s in list(pending):
                if any(n.time is not None and not n.time.absolute or n.canonical in targets
                       for n, _ in _refs(s.rhs)):
                    eqs.append(s)
                    targets.add(s.lhs.canonical)
                    pending.remove(s)
                    changed = True
        eq_ids = {id(s) for s in eqs}
        eqs = [s for s in stmts if id(s) in eq_ids]  # file order
        others = [s for s in stmts if id(s) not in eq_ids]
        return eqs, others

    # -- equations -----------------------------------------------------------
    def build(self, prog: S.Program) -> Model:
        eq_stmts, value_stmts = self.classify(prog.statements)
        if not eq_stmts:
            for s in value_stmts:
                if isinstance(s, S.Assign) and not _is_constant(s.rhs) and not (
                    isinstance(s.rhs, S.Ref) and _is_function_word(s.rhs.name)
                ):
                    if _not_a_number(s.rhs) is not None:
                        raise self.err(f"'{_not_a_number(s.rhs)}' is not a number rnnviz can compute with; "
                                       f"give '{s.lhs}' a finite value", s.rhs.span or s.span,
                                       cls=ValueSpecError)
                    raise self.err(f"this equation has no time index on its left side; write "
                                   f"{s.lhs.canonical}[t] = ... (or {s.lhs.canonical}_t, "
                                   f"{s.lhs.canonical}^{{(t)}})", s.lhs.span)
            span = prog.statements[0].span if prog.statements else Span(self.file, 1, 1, 1, 1)
            raise self.err("no equations found; write one such as h[t] = tanh(W h[t-1] + U x[t])", span)
        # Targets, duplicates.
        first_at: dict[str, S.Assign] = {}
        for s in eq_stmts:
            name = s.lhs.canonical
            if name in first_at:
                prev = first_at[name].span
                raise self.err(f"'{name}' is computed twice (first on line {prev.line if prev else '?'}); "
                               "each variable has one equation", s.lhs.span)
            first_at[name] = s
        targets = set(first_at)
        # Names used without time and not computed, and names used with time.
        plain_used: dict[str, S.Name] = {}
        timed_used: dict[str, S.Name] = {}
        for s in eq_stmts:
            for n, in_call_position in _refs(s.rhs):
                if n.time is not None:
                    timed_used.setdefault(n.canonical, n)
                elif not in_call_position:
                    plain_used.setdefault(n.canonical, n)
        self.targets = targets
        self.plain_used = plain_used
        self.timed_used = timed_used
        self.generic: dict[str, S.Name] = {}
        self.display: dict[str, S.Name] = {}
        self.first_span: dict[str, Span | None] = {}

        equations = []
        for s in eq_stmts:
            lhs = s.lhs
            shift = lhs.time.offset if lhs.time is not None else 0
            self._note(lhs.canonical, lhs)
            expr = self.expr(s.rhs, shift)
            equations.append(Equation(lhs.canonical, expr, s.caption, s.span, lhs.span))

        # A name read both with and without a time index is a mistake.
        for name, n in plain_used.items():
            if name in timed_used and name not in targets:
                t = timed_used[name]
                raise self.err(f"'{name}' is read with a time index elsewhere ({t}), but here without one; "
                               f"write {name}[t] or {name}[t-1]", n.span)

        # LaTeX `Uh_{t-1}` is one name `Uh` to the parser; if its tail is a computed
        # variable, the sheet almost surely meant the product `U h_{t-1}`.
        for name, n in timed_used.items():
            if name in targets or n.subs or n.sups or n.accent or len(n.base) < 2:
                continue
            for cut in range(1, len(n.base)):
                head, tail = n.base[:cut], n.base[cut:]
                if tail in targets:
                    raise self.err(f"'{n.base}' is read with a time index but never computed; "
                                   f"did you mean {head} {tail} (a product)?", n.span,
                                   hint=f"put a space or \\cdot between {head} and {tail}")

        ordered = self.order(equations)
        symbols = self.symbols(ordered)
        model = Model(tuple(ordered), symbols, (), self.file, self.source, dict(self.sources))
        values = self.values_of(value_stmts, model)
        model.values = tuple(values)
        return model

    def _note(self, canonical: str, name: S.Name) -> None:
        if canonical not in self.display:
            self.display[canonical] = name.with_time(None)
            self.first_span[canonical] = name.span

    def expr(self, node: S.Node, shift: int) -> E.Expr:
        sp = node.span
        if isinstance(node, S.Num):
            return E.Num(node.value, sp)
        if isinstance(node, S.Frac):
            if not (_is_constant(node.num) and _is_constant(node.den)):
                raise self.err("\\frac takes numbers here, as in \\frac{3}{2}", sp)
            den = _constant(node.den)
            if den == 0:
                raise self.err("division by zero in \\frac", node.den.span or sp)
            return E.Num(_constant(node.num) / den, sp)
        if isinstance(node, S.Ref):
            return self.ref(node.name, shift)
        if isinstance(node, S.Call):
            return self.call(node, shift)
        if isinstance(node, S.BinOp):
            cls = {"add": E.Add, "sub": E.Sub, "prod": E.Prod, "emul": E.EMul}[node.op]
            return cls(self.expr(node.left, shift), self.expr(node.right, shift), sp)
        if isinstance(node, S.Neg):
            inner = self.expr(node.operand, shift)
            if isinstance(inner, E.Num):
                return E.Num(-inner.value, sp)
            return E.Neg(inner, sp)
        if isinstance(node, S.Bracket):
            if len(node.items) == 1:
                return self.expr(node.items[0], shift)
            return E.Concat(tuple(self.expr(i, shift) for i in node.items), sp)
        raise AssertionError(node)  # pragma: no cover

    def ref(self, name: S.Name, shift: int) -> E.Expr:
        canonical = name.canonical
        if name.time is not None:
            if name.time.absolute:
                raise self.err(f"'{name}' names a fixed step; equations read variables at times relative "
                               f"to t, such as {canonical}[t] or {canonical}[t-1]", name.span,
                               hint=f"to give a value, write it on a line of its own: {canonical}[0] = ...")
            delay = -(name.time.offset - shift)
            if delay < 0 and canonical in self.targets:
                raise self.err(f"'{canonical}' is read at a future step ({name}); only inputs can be read ahead",
                               name.span)
            self._note(canonical, name)
            return E.Var(canonical, delay, name.span)
        if canonical == "t":
            raise self.err("'t' is the time step; it can only appear in a time index such as x[t-1]", name.span)
        self._note(canonical, name)
        if canonical in self.targets:
            return E.Var(canonical, 0, name.span)
        return E.Param(canonical, name.span)

    def call(self, node: S.Call, shift: int) -> E.Expr:
        func = node.func
        sp = node.span
        arg = self.expr(node.arg, shift)
        canonical = func.canonical
        if func.time is not None:
            return E.Prod(self.ref(func, shift), arg, sp)
        known = _is_function_word(func)
        used = canonical in self.targets or canonical in self.plain_used or canonical in self.timed_used
        if known and not used:
            return E.Call(known, arg, False, sp)
        if used:
            return E.Prod(self.ref(func, shift), arg, sp)
        if _can_be_generic(func):
            self._note(canonical, func)
            self.generic[canonical] = func
            return E.Call(canonical, arg, True, sp)
        word = func.base
        if not func.subs and not func.sups and word.isalpha() and word.islower() and len(word) >= 2:
            close = suggest(word, list(FUNCTION_ALIASES))
            hint = "rnnviz knows tanh, sigmoid (sigma), relu, softmax, exp, log and identity"
            if close:
                raise self.err(f"unknown function '{word}'; did you mean {close}?", func.span, hint=hint)
            raise self.err(f"unknown function '{word}'", func.span,
                           hint=hint + "; a one-letter or Greek name such as f or \\phi is a generic activation")
        return E.Prod(self.ref(func, shift), arg, sp)

    # -- order and roles -----------------------------------------------------
    def order(self, equations: list[Equation]) -> list[Equation]:
        """Topological order of same-step reads; stable in file order."""
        by_name = {eq.target: eq for eq in equations}
        deps = {
            eq.target: [v.name for v in E.walk(eq.expr) if isinstance(v, E.Var) and v.delay == 0 and v.name in by_name]
            for eq in equations
        }
        done: list[Equation] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                words = " needs ".join(f"{n}[t]" for n in cycle)
                eq = by_name[cycle[0]]
                if len(cycle) == 2:  # reads itself: usually a time index it did not take as one
                    raise self.err(f"algebraic loop: {name}[t] reads itself at the same step", eq.lhs_span or eq.span,
                                   hint=f"a recurrence reads the previous step, {name}[t-1] (also {name}_{{t-1}}); "
                                        "the time is a lowercase t")
                raise self.err(f"algebraic loop: {words}; one of them must read the other at t-1",
                               eq.lhs_span or eq.span)
            state[name] = 1
            for d in deps[name]:
                visit(d, path + [name])
            state[name] = 2
            done.append(by_name[name])

        for eq in equations:
            visit(eq.target, [])
        return done

    def symbols(self, equations: list[Equation]) -> dict[str, Symbol]:
        same_step_read: set[str] = set()
        delayed_read: set[str] = set()
        for eq in equations:
            for node in E.walk(eq.expr):
                if isinstance(node, E.Var):
                    (same_step_read if node.delay == 0 else delayed_read).add(node.name)
        symbols: dict[str, Symbol] = {}
        for name, disp in self.display.items():
            span = self.first_span.get(name)
            if name in self.generic:
                symbols[name] = Symbol(name, disp, "function", "function", span)
            elif name in self.targets:
                if name not in same_step_read:
                    role = "output"
                elif name in delayed_read:
                    role = "state"
                else:
                    role = "hidden"
                symbols[name] = Symbol(name, disp, "variable", role, span)
            elif name in self.timed_used:
                symbols[name] = Symbol(name, disp, "input", "input", span)
            else:
                symbols[name] = Symbol(name, disp, "parameter", "parameter", span)
        return symbols

    # -- values --------------------------------------------------------------
    def resolve_value_name(self, name: S.Name, model: Model, *, size: bool = False) -> tuple[str, int | None]:
        """Which symbol (and step) a value line's left side names."""
        canonical = name.canonical
        syms = model.symbols
        if canonical in syms:
            sym = syms[canonical]
            time = name.time.offset if name.time is not None else None
            if name.time is not None and not name.time.absolute and not size:
                raise self.err(f"a value is given for one step, such as {canonical}[0]; "
                               f"'{name}' is an equation's left side", name.span)
            if sym.kind == "parameter" and time is not None and not size:
                raise self.err(f"'{canonical}' is a parameter: it has no time steps", name.span)
            return canonical, (time if not size else None)
        sub = name.numeric_sub
        if sub is not None and name.time is None:
            shorter = name.without_last_sub().canonical
            if shorter in syms and syms[shorter].kind in ("input", "variable"):
                return shorter, (None if size else sub)
        known = [n for n in syms if syms[n].kind != "function"]
        close = suggest(canonical, known)
        hint = f"did you mean {close}?" if close else "the equations use " + ", ".join(known)
        raise self.err(f"a value for '{canonical}', which the equations never use", name.span,
                       cls=ValueSpecError, hint=hint)

    def values_of(self, stmts, model: Model) -> list[Value]:
        out: list[Value] = []
        for s in stmts:
            if isinstance(s, S.ReluDeriv):
                if not _is_constant(s.value):
                    raise self.err("relu'(0) takes a number, as in relu'(0) = 1", s.value.span, cls=ValueSpecError)
                value = _constant(s.value)
                if not isinstance(value, float):
                    raise self.err("relu'(0) takes one number, as in relu'(0) = 1", s.value.span,
                                   cls=ValueSpecError)
                # Like a value for a symbol the equations never use: a sign of a wrong file.
                if not any(isinstance(n, E.Call) and (n.func == "relu" or n.generic)
                           for eq in model.equations for n in E.walk(eq.expr)):
                    raise self.err("relu'(0) is given, but no equation applies relu", s.span,
                                   cls=ValueSpecError)
                out.append(Value("relu'(0)", value, "relu_deriv", None, s.span))
            elif isinstance(s, S.Size):
                canonical, _ = self.resolve_value_name(s.name, model, size=True)
                dims = s.dims
                if not isinstance(dims, tuple):
                    dims = self.dims_of(dims)
                out.append(Value(canonical, dims, "size", None, s.span))
            elif isinstance(s, S.Assign):
                if s.lhs.canonical in model.symbols and model.symbols[s.lhs.canonical].kind == "function":
                    out.append(self.function_value(s))
                    continue
                if not _is_constant(s.rhs):
                    fn = s.rhs.name if isinstance(s.rhs, S.Ref) else None
                    if fn is not None and _is_function_word(fn):
                        raise self.err(f"'{s.lhs.canonical}' is not a generic activation of the equations, "
                                       "so it cannot be given a function", s.lhs.span, cls=ValueSpecError)
                    word = _not_a_number(s.rhs)
                    if word is not None:
                        raise self.err(f"'{word}' is not a number rnnviz can compute with; give '{s.lhs}' "
                                       "a finite value", s.rhs.span or s.span, cls=ValueSpecError)
                    if s.lhs.time is not None and s.lhs.time.absolute:
                        raise self.err(f"'{s.lhs}' is a fixed step, so its right side must be numbers; "
                                       f"an equation is written for t, as in {s.lhs.canonical}[t] = ...",
                                       s.rhs.span or s.span)
                    raise self.err(f"this equation has no time index on its left side; write "
                                   f"{s.lhs.canonical}[t] = ... (or {s.lhs.canonical}_t, "
                                   f"{s.lhs.canonical}^{{(t)}})", s.lhs.span)
                canonical, time = self.resolve_value_name(s.lhs, model)
                if model.symbols[canonical].kind == "variable" and time is None:
                    raise self.err(f"'{canonical}' is computed by an equation; give its initial value "
                                   f"as {canonical}[0] = ... (or {canonical}_0)", s.lhs.span, cls=ValueSpecError)
                out.append(Value(canonical, _constant(s.rhs), "value", time, s.span))
        return out

    def function_value(self, s: S.Assign) -> Value:
        fn = s.rhs.name if isinstance(s.rhs, S.Ref) else None
        known = _is_function_word(fn) if fn is not None else None
        if known is None:
            raise self.err(f"'{s.lhs.canonical}' is a generic activation; give it a function, as in "
                           f"{s.lhs.canonical} = tanh", s.rhs.span or s.span, cls=ValueSpecError,
                           hint="one of tanh, sigmoid, relu, softmax, exp, log, identity")
        return Value(s.lhs.canonical, known, "function", None, s.span)

    def dims_of(self, node: S.Node) -> tuple[int, ...]:
        def ints(n):
            if isinstance(n, S.BinOp) and n.op == "prod":
                return ints(n.left) + ints(n.right)
            name = n.name if isinstance(n, S.Ref) else None
            if name is not None and name.base == "x" and len(name.subs) == 1 and name.subs[0].isdigit() \
                    and name.time is None and not name.sups and not name.accent:
                return (int(name.subs[0]),)  # `5x3` reads as 5 times the name x3
            if name is not None and name.canonical == "x" and name.time is None:
                return ()  # the x of `5 x 3`
            if _is_constant(n):
                v = _constant(n)
                vs = v if isinstance(v, list) else [v]
                if all(isinstance(x, float) and x.is_integer() and x >= 1 for x in vs):
                    return tuple(int(x) for x in vs)
            raise self.err("a size is a whole number (dim x = 3) or several (dim W = 5 \\times 3)",
                           n.span, cls=ValueSpecError)

        dims = ints(node)
        if not dims:
            raise self.err("a size is a whole number (dim x = 3) or several (dim W = 5 \\times 3)",
                           node.span, cls=ValueSpecError)
        return dims


def _constant(node: S.Node):
    """Evaluate a constant syntax node: a float or nested lists of floats."""
    if isinstance(node, S.Num):
        return float(node.value)
    if isinstance(node, S.Neg):
        v = _constant(node.operand)
        return _negate(v)
    if isinstance(node, S.Frac):
        den = _constant(node.den)
        if den == 0:
            raise ValueSpecError("division by zero in \\frac", node.span)
        return _constant(node.num) / den
    if isinstance(node, S.Bracket):
        return [_constant(i) for i in node.items]
    raise AssertionError(node)  # pragma: no cover


def _negate(v):
    return [_negate(x) for x in v] if isinstance(v, list) else -v


def build_model(program: S.Program) -> Model:
    """Give a parsed program its meaning.

    Raises:
        ModelError: duplicates, loops, future reads, and the like.
        ValueSpecError: a value line that names nothing the equations use.
    """
    sources = {program.file: program.source}
    return _Builder(program.file, program.source, sources).build(program)


def load_model(text: str, file: str = "<input>") -> Model:
    """Parse ``text`` and build its model."""
    return build_model(parse_text(text, file))


def parse_assignment(text: str, file: str = "--set") -> S.Program:
    """Parse one ``--set NAME=VALUE`` argument as a program of values."""
    return parse_text(re.sub(r"\s*=\s*", " = ", text, count=1), file)
