"""The model: equations in evaluation order, the symbols they use with their roles, values.

A model is built by :func:`rnnviz.language.model_build.build_model` (equations, order,
roles, checks); its value lines are resolved by :mod:`rnnviz.language.value_lines`, whose
names this module re-exports.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t] + b)")
    >>> m.role("h"), m.role("x"), m.role("W")
    ('output', 'input', 'parameter')
    >>> m.delays("h")
    (1,)
"""

from __future__ import annotations

from collections.abc import Callable
from .._dataclasses import dataclass, field, replace
from typing import ClassVar

from ..errors import RnnvizError, Span
from . import expr as E
from . import syntax as S
from .directions import BACKWARD, FORWARD, Sweep
from .phases import decoder_length_line
from .model_syntax import FUNCTION_ALIASES
from .value_lines import Value, ValueLines, parse_assignment

__all__ = ["Symbol", "Equation", "Value", "Model", "Phases", "FUNCTION_ALIASES", "parse_assignment"]

# Keys of Model.memo's own bookkeeping.
_BUILT_FROM = object()
_KEEP = object()

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
    #: Computed once, at the last step (``o = V h_T + c``): its reads are relative to T.
    once: bool = False


@dataclass
class Model:
    """Equations in evaluation order, the symbols they use, and the values given."""

    equations: tuple[Equation, ...]
    symbols: dict[str, Symbol]
    values: tuple[Value, ...] = ()
    file: str = "<input>"
    source: str = ""
    sources: dict[str, str] = field(default_factory=dict, repr=False)
    #: What reading the text did that its author should hear of, one "FILE:LINE:COL: message"
    #: each (a chain read by its last side, letters written together read split, ...).
    notes: list[str] = field(default_factory=list, repr=False)
    #: The loops over the steps, in the order they run (see :mod:`rnnviz.language.directions`);
    #: empty means one forward sweep of every equation.
    sweep_list: tuple[Sweep, ...] = ()
    #: Totals over time, ``L = \\sum_t L^{(t)}``: (total's name, the per-step variable it sums).
    totals: tuple[tuple[str, str], ...] = ()
    #: The totals that are averages over the steps, ``L = \frac{1}{T} \sum_t L^{(t)}``.
    means: tuple[str, ...] = ()
    #: An encoder-decoder's two phases (:class:`Phases`), or None for a model of one phase.
    phases: "Phases | None" = None
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: object, make):
        """``make()``, computed once per model and ``key``, then remembered.

        For facts that follow from the equations and value lines alone (the reads
        of an equation, the delays of a variable, a shape inference, a compiled
        plan): a forward pass at teaching size spent three quarters of its time
        working them out again on every call. What is remembered is forgotten when
        ``equations``, ``symbols`` or ``values`` are replaced. Callers must not change what they
        get back.

        Example:
            >>> from rnnviz.language import load_model
            >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
            >>> calls = []
            >>> [m.memo("answer", lambda: calls.append(1) or 42) for _ in range(3)], len(calls)
            ([42, 42, 42], 1)
        """
        memo = self._memo
        built_from = (id(self.equations), id(self.symbols), id(self.values))
        if memo.get(_BUILT_FROM) != built_from:
            memo.clear()
            memo[_BUILT_FROM] = built_from
            memo[_KEEP] = (self.equations, self.symbols, self.values)  # their ids stay theirs meanwhile
        if key not in memo:
            memo[key] = make()
        return memo[key]

    #: How a model shows itself as HTML in a notebook. The pictures are a later stage,
    #: which this one never imports: the package top (``rnnviz/__init__.py``) puts
    #: :func:`rnnviz.site.jupyter.model_html` here, and without it a model is its repr.
    html_renderer: ClassVar[Callable[["Model"], str] | None] = None

    def _repr_html_(self) -> str | None:
        """Jupyter's rich display: the equations typeset and the folded diagram."""
        render = Model.html_renderer
        return None if render is None else render(self)

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
        return list(self._index().variables)

    @property
    def parameters(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "parameter"]

    @property
    def functions(self) -> list[str]:
        return [n for n, s in self.symbols.items() if s.kind == "function"]

    def _index(self) -> "_Index":
        """Tables built once per tuple of equations (each query was a scan of all of them, which
        made 10,000 equations quadratic); rebuilt if ``equations`` is given a new tuple."""
        index = self.__dict__.get("_index_cache")
        if index is None or index.equations is not self.equations:
            index = _Index(self.equations, self.reads)
            self.__dict__["_index_cache"] = index
        return index

    def equation(self, name: str) -> Equation:
        return self._index().by_target[name]

    def reads(self, eq: Equation) -> list[E.Var]:
        """The variables an equation reads, in order, each (name, delay) once."""
        def make() -> tuple[Equation, tuple[E.Var, ...]]:
            seen: list[E.Var] = []
            for node in E.walk(eq.expr):
                if isinstance(node, E.Var) and all((v.name, v.delay) != (node.name, node.delay) for v in seen):
                    seen.append(node)
            return eq, tuple(seen)

        known, seen = self.memo(("reads", eq.target, id(eq)), make)
        return list(seen) if known is eq else list(make()[1])

    @property
    def sweeps(self) -> tuple[Sweep, ...]:
        """The loops over the steps, in the order they run: forward (1..T) or backward (T..1)."""
        return self.sweep_list or (Sweep(FORWARD, tuple(self.variables)),)

    def direction(self, name: str) -> str:
        """``forward`` or ``backward``: the direction of the sweep that computes ``name``."""
        for s in self.sweeps:
            if name in s.targets:
                return s.direction
        raise KeyError(name)

    @property
    def once(self) -> list[str]:
        """Variables computed once, at the last step (``o = V h_T + c``, Fig. 10.5)."""
        return [eq.target for eq in self.equations if eq.once]

    @property
    def losses(self) -> list[str]:
        """The per-step variables a total sums over time (``L^{(t)}`` of ``L = \\sum_t L^{(t)}``)."""
        return list(dict.fromkeys(per_step for _, per_step in self.totals))

    @property
    def backward(self) -> list[str]:
        """Computed variables read at a later step (they need values at T+1, ...)."""
        return [n for n in self.variables if self.leads(n)]

    def leads(self, name: str) -> tuple[int, ...]:
        """The offsets k >= 1 at which ``name`` is read ahead (``g[t+k]``), sorted."""
        ks = {-v.delay for eq in self.equations for v in self.reads(eq) if v.name == name and v.delay <= -1}
        return tuple(sorted(ks))

    def max_lead(self, name: str) -> int:
        return max(self.leads(name), default=0)

    def delays(self, name: str) -> tuple[int, ...]:
        """The delays (k >= 1) at which ``name`` is read anywhere, sorted."""
        return self._index().delays.get(name, ())

    def max_delay(self, name: str) -> int:
        return max(self.delays(name), default=0)

    def step_in_subscript(self, name: S.Name) -> tuple[str, int] | None:
        """``x_3`` read as ``x`` at step 3: when ``x_3`` is no symbol, ``x`` is, and 3 is a number.

        Whether ``x`` may have steps (a parameter has none) is for the caller to judge.

        Example:
            >>> from rnnviz.language import load_model, parse_text
            >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
            >>> [m.step_in_subscript(parse_text(f"{n} = 0").statements[0].lhs) for n in ("x_3", "h_0", "x", "y_2")]
            [('x', 3), ('h', 0), None, None]
        """
        sub = name.numeric_sub
        if sub is None or name.canonical in self.symbols:
            return None
        shorter = name.without_last_sub().canonical
        return (shorter, sub) if shorter in self.symbols else None

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
        phases = self.phases
        for prog in programs:
            sources[prog.file] = prog.source
            builder = ValueLines(prog.file, prog.source, sources)
            if builder.has_equations(prog):
                first = next(s for s in prog.statements if isinstance(s, S.Assign))
                raise builder.err("a values file holds values only, but this line is an equation", first.span)
            statements = list(prog.statements)
            if phases is not None:  # T' = 5 (--set "T'=5"): the decoder's length
                length, span = decoder_length_line(statements, builder.err)
                if length is not None:
                    phases = replace(phases, length=length, length_span=span)
            values.extend(builder.values_of(statements, self))
        notes = list(self.notes) + [n for prog in programs for n in prog.notes]
        return Model(self.equations, self.symbols, tuple(values), self.file, self.source, sources, notes,
                     self.sweep_list, self.totals, self.means, phases)


@dataclass(frozen=True)
class Phases:
    """An encoder-decoder (see :mod:`rnnviz.language.phases`): two models that run one after the other.

    ``encoder`` computes the encoder's variables over the input sequence (steps 1..T) and then,
    once at step T, the contexts and the decoder's starts; ``decoder`` runs over the output
    sequence (steps 1..T'), reading each context as an input that is the same at every step
    and starting each chain of ``starts`` from the variable that starts it. Both are built
    without values: :meth:`bind` gives each the values that concern it.
    """

    encoder: Model
    decoder: Model
    #: The variables computed once that the decoder reads at every step (``c`` of ``c = h_T``).
    contexts: tuple[str, ...]
    #: (decoder chain, the variable computed once that is its value at step 0): ``("s", "s_0")``.
    starts: tuple[tuple[str, str], ...] = ()
    #: T', when a value line gives it (``T' = 3``, ``n_y = 3``); else the decoder's inputs say it.
    length: int | None = None
    length_span: Span | None = field(default=None, compare=False)

    @property
    def start_of(self) -> dict[str, str]:
        return dict(self.starts)

    def phase_of(self, name: str) -> str:
        """``encoder`` or ``decoder``: the phase whose model has ``name``."""
        if name in self.contexts or name in self.start_of.values():
            return "encoder"
        if name in self.decoder.symbols and self.decoder.symbols[name].kind != "parameter":
            return "decoder"
        return "encoder"

    def bind(self, model: Model) -> tuple[Model, Model]:
        """The encoder and the decoder with the values of ``model`` that concern each."""
        def values_for(sub: Model, skip: set[str]) -> tuple[Value, ...]:
            return tuple(v for v in model.values
                         if v.kind == "relu_deriv" or v.name in sub.symbols and v.name not in skip)

        def with_values(sub: Model, values: tuple[Value, ...]) -> Model:
            return Model(sub.equations, sub.symbols, values, model.file, model.source, dict(model.sources),
                         [], sub.sweep_list, sub.totals, sub.means)

        def make() -> tuple[Model, Model]:
            return (with_values(self.encoder, values_for(self.encoder, set())),
                    with_values(self.decoder, values_for(self.decoder, set(self.contexts))))

        return model.memo("phases:bind", make)


class _Index:
    """Which equation computes each variable, and the delays each name is read at."""

    def __init__(self, equations: tuple[Equation, ...], reads) -> None:
        self.equations = equations
        self.variables = tuple(eq.target for eq in equations)
        self.by_target: dict[str, Equation] = {}
        for eq in equations:
            self.by_target.setdefault(eq.target, eq)
        found: dict[str, set[int]] = {}
        for eq in equations:
            for v in reads(eq):
                if v.delay >= 1:
                    found.setdefault(v.name, set()).add(v.delay)
        self.delays = {name: tuple(sorted(ks)) for name, ks in found.items()}
