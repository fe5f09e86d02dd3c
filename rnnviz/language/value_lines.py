"""Value lines -> :class:`Value`: which symbol and step each names, and its numbers.

A value line gives a number or array (``h[0] = 0``, ``W = [[1, 2]]``), a size
(``dim x = 3``), a generic activation's function (``f = tanh``) or ``relu'(0)``.
Lines are resolved against a built model, so a value for a name the equations
never use is an error.

Example:
    >>> from rnnviz.language import load_model, parse_assignment
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> [(v.name, v.value, v.time) for v in m.with_values(parse_assignment("h_0=[1, 2]")).values]
    [('h', [1.0, 2.0], 0)]
"""

from __future__ import annotations

import math
import re
from .._dataclasses import dataclass, field
from typing import Protocol

from ..errors import ModelError, RnnvizError, Span, ValueSpecError
from ..limits import MAX_ENTRIES
from . import expr as E
from . import syntax as S
from .model_syntax import (
    constant,
    is_constant,
    is_equation,
    is_function_word,
    not_a_number,
)
from .parse import parse_text, suggest

__all__ = ["Value", "ValueLines", "parse_assignment"]


class Model(Protocol):
    """What value lines need of a :class:`~rnnviz.language.model.Model` (which imports this module)."""

    equations: tuple
    symbols: dict

    def step_in_subscript(self, name: S.Name) -> tuple[str, int] | None: ...


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
    #: ``time`` counts from the last step: ``g[T+1] = 0`` is time 1 from the end.
    from_end: bool = False



class ValueLines:
    """Resolves value lines against a model's symbols; errors point into ``sources``."""

    def __init__(self, file: str, source: str, sources: dict[str, str]) -> None:
        self.file = file
        self.source = source
        self.sources = sources

    def err(self, message: str, span: Span | None, cls=ModelError, **kw) -> RnnvizError:
        e = cls(message, span, **kw)
        if span is not None and span.file in self.sources:
            e.with_source(self.sources[span.file])
        return e

    def has_equations(self, prog: S.Program) -> bool:
        return any(is_equation(s) for s in prog.statements)

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
        # `H^{(0)} = [...]`: the input of a stack by layer index (d2l.ai's H_t^{(0)} = X_t, named H^(0) when
        # no equation defines it), which a value line otherwise reads as H at step 0.
        stack_input = f"{canonical}^(0)"
        if name.time is not None and name.time.absolute and name.time.offset == 0 and canonical not in syms \
                and stack_input in syms and syms[stack_input].kind == "input":
            return stack_input, None
        found = model.step_in_subscript(name) if name.time is None else None
        if name.time is None and name.subs and name.subs[-1] in ("T", "tau") and not size:
            short = name.without_last_sub().canonical
            if short in syms and syms[short].kind in ("input", "variable"):
                raise self.err(f"'{name}' is the last step of {short}, which the values do not fix; give the "
                               f"whole sequence ({short} = [...]) or a numbered step ({short}_3)", name.span,
                               cls=ValueSpecError)
        if found is not None and syms[found[0]].kind in ("input", "variable"):
            return found[0], (None if size else found[1])
        known = [n for n in syms if syms[n].kind != "function"]
        close = suggest(canonical, known)
        hint = f"did you mean {close}?" if close else "the equations use " + ", ".join(known)
        raise self.err(f"a value for '{canonical}', which the equations never use", name.span,
                       cls=ValueSpecError, hint=hint)

    def values_of(self, stmts, model: Model) -> list[Value]:
        out: list[Value] = []
        for s in stmts:
            if isinstance(s, S.ReluDeriv):
                if not is_constant(s.value):
                    raise self.err("relu'(0) takes a number, as in relu'(0) = 1", s.value.span, cls=ValueSpecError)
                value = constant(s.value)
                if not isinstance(value, float):
                    raise self.err("relu'(0) takes one number, as in relu'(0) = 1", s.value.span,
                                   cls=ValueSpecError)
                if not math.isfinite(value):
                    raise self.err(f"relu'(0) takes a finite number, not {value}", s.value.span,
                                   cls=ValueSpecError, hint="as in relu'(0) = 1 (the default is 0)")
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
                if any(d < 1 for d in dims):
                    raise self.err(f"a size is at least 1; '{canonical}' cannot have {_times(dims)} entries",
                                   s.span, cls=ValueSpecError)
                if math.prod(dims) > MAX_ENTRIES:
                    raise self.err(f"'{canonical}' would have {_times(dims)} entries, more than the "
                                   f"{MAX_ENTRIES:,} rnnviz allows", s.span, cls=ValueSpecError,
                                   hint="a limit of rnnviz; a course example needs far fewer")
                out.append(Value(canonical, dims, "size", None, s.span))
            elif isinstance(s, S.Assign):
                if s.lhs.canonical in model.symbols and model.symbols[s.lhs.canonical].kind == "function":
                    out.append(self.function_value(s))
                    continue
                per_layer = self.layer_functions(s, model)
                if per_layer:  # `\phi_l = \tanh`: the activation of every layer l (d2l.ai's deep RNN)
                    out += per_layer
                    continue
                if not is_constant(s.rhs):
                    fn = s.rhs.name if isinstance(s.rhs, S.Ref) else None
                    if fn is not None and is_function_word(fn):
                        raise self.err(f"'{s.lhs.canonical}' is not a generic activation of the equations, "
                                       "so it cannot be given a function", s.lhs.span, cls=ValueSpecError)
                    word = not_a_number(s.rhs)
                    if word is not None:
                        raise self.err(f"'{word}' is not a number rnnviz can compute with; give '{s.lhs}' "
                                       "a finite value", s.rhs.span or s.span, cls=ValueSpecError)
                    if s.lhs.time is not None and s.lhs.time.end:
                        raise self.err(f"'{s.lhs}' is a step counted from the last step T, so its right side "
                                       f"must be numbers; an equation is written for a lowercase t, as in "
                                       f"{s.lhs.canonical}[t] = ...", s.lhs.span)
                    if s.lhs.time is not None and s.lhs.time.absolute:
                        raise self.err(f"'{s.lhs}' is a fixed step, so its right side must be numbers; "
                                       f"an equation is written for t, as in {s.lhs.canonical}[t] = ...",
                                       s.rhs.span or s.span)
                    sym = model.symbols.get(s.lhs.canonical)
                    if (sym is not None and sym.kind in ("parameter", "input")) or s.span is None or \
                            s.span.file.startswith("--set"):
                        # `--set 'W=abc'`: a value for a known symbol that is not a number.
                        raise self.err(f"the value of '{s.lhs}' must be a number, a list such as [0.5, -1] or "
                                       f"a matrix such as [[1, 0], [0, 1]]", s.rhs.span or s.span,
                                       cls=ValueSpecError)
                    raise self.err(f"this equation has no time index on its left side; write "
                                   f"{s.lhs.canonical}[t] = ... (or {s.lhs.canonical}_t, "
                                   f"{s.lhs.canonical}^{{(t)}})", s.lhs.span)
                canonical, time = self.resolve_value_name(s.lhs, model)
                if model.symbols[canonical].kind == "variable" and time is None:
                    raise self.err(f"'{canonical}' is computed by an equation; give its initial value "
                                   f"as {canonical}[0] = ... (or {canonical}_0)", s.lhs.span, cls=ValueSpecError)
                from_end = bool(s.lhs.time is not None and s.lhs.time.end)
                if model.symbols[canonical].kind == "variable" and time is not None:
                    backward = canonical in getattr(model, "backward", ())
                    if backward and (time <= 0 and not from_end or from_end and time < 1):
                        raise self.err(f"'{canonical}' runs backward, computed by its equation at steps T, T-1, "
                                       f"..., 1; only its value after the last step (as {canonical}[T+1]) can "
                                       "be given", s.lhs.span, cls=ValueSpecError)
                    if from_end and not backward:
                        raise self.err(f"'{canonical}' is computed by its equation at steps 1, ..., T; only "
                                       f"initial values (step 0 or earlier, as {canonical}_0) can be given",
                                       s.lhs.span, cls=ValueSpecError)
                out.append(Value(canonical, constant(s.rhs), "value", time, s.span, from_end))
        return out

    def layer_functions(self, s: S.Assign, model) -> list[Value]:
        """``\\phi_l = \\tanh`` where the equations of layer l use ``\\phi_l`` (read as phi_1, ..., phi_L):
        one function value per layer; else nothing."""
        n = s.lhs
        if n.time is not None or not n.subs or n.subs[-1] != "l":
            return []
        stem = S.Name(n.base, n.accent, n.subs[:-1], n.sups, None, n.bold).canonical
        layers = [name for name, sym in model.symbols.items() if sym.kind == "function"
                  and re.fullmatch(re.escape(stem) + r"_?\d+", name)]
        return [self.function_value(S.Assign(S.Name(name), s.rhs, s.caption, s.span)) for name in layers]

    def function_value(self, s: S.Assign) -> Value:
        fn = s.rhs.name if isinstance(s.rhs, S.Ref) else None
        known = is_function_word(fn) if fn is not None else None
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
            if is_constant(n):
                v = constant(n)
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


def _times(dims: tuple[int, ...]) -> str:
    return " x ".join(f"{d:,}" if d < 10**12 else f"{d:.3g}" for d in dims)


def parse_assignment(text: str, file: str = "--set") -> S.Program:
    """Parse one ``--set NAME=VALUE`` argument as a program of values."""
    return parse_text(re.sub(r"\s*=\s*", " = ", text, count=1), file)
