"""The tasks of a sheet: each writes its question, its worked solution and its answers.

A task is a function of a :class:`Context` (one variant's model, its forward pass and,
for a scalar model, the exact pass) returning a :class:`Part`. The tasks are those
the course sheets ask:

- ``draw``: draw the folded and the unfolded network (the diagrams in the solution only);
- ``forward``: calculate every variable at every step (``h_1 = relu(-3·0 + 3·2) = 6``);
- ``plot``: plot the results for each step (and compare the first and last output);
- ``params``: count the parameters (``3×5 + 5×5 + 5 = 45``);
- ``grad``: a derivative by backpropagation through time, the sum with each term;
- ``loss``: the loss summed over time and its derivatives by the weights, each step's backward
  sum written out (``dL/dh_1 = dL/do_1·do_1/dh_1 + dL/da_2·da_2/dh_1 = 0.5232·2 + ...``);
- ``gates``: assign the gates to their roles, with the structural reason;
- ``formula``: the target written out in the inputs, initial states and parameters;
- ``jacobian``: the state's Jacobian ``dc_t/dc_{t-1}`` expanded, and what it does to the gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import RnnvizError, UsageError
from ..formulas.unrolled import Printer
from ..language import Model
from ..language import expr as E
from .arith import Number, exact, fmt, fmt_full
from .counting import loss_weights
from .document import Chain, Figure, Math, Para
from .phased import exact_pass
from .scalar import NotScalar, ScalarPass, uses_fractions
from .variants import default_target, default_wrt

__all__ = ["TASKS", "Answer", "Part", "Context", "default_target", "default_wrt", "build_part"]

#: Task name -> what the sheet calls it, in the order a sheet lists them.
TASKS = {
    "draw": "Drawing the network",
    "forward": "Forward pass",
    "plot": "Plotting the forward pass",
    "params": "Number of parameters",
    "grad": "Backpropagation through time",
    "loss": "Loss and its gradient",
    "gates": "Gates",
    "formula": "Unrolled formula",
    "jacobian": "Jacobian of the state",
}


@dataclass(frozen=True)
class Answer:
    """One answer line: ``kind`` is value, grad, gate, cell or params.

    ``key`` names what is answered in the canonical form ``check`` reads (``h[2]``,
    ``d h[3] / d V``, ``g_1``, ``parameters``); ``label`` is how the sheet writes it;
    ``value`` a number, a list of numbers (a vector, a matrix) or a role word.
    """

    kind: str
    key: str
    label: Math
    value: object
    exact: bool = False

    def line(self, fractions: bool = True) -> str:
        """The answer line as a solution sheet (and ``rnnviz check``) writes it."""
        return f"{self.label.plain} = {_value_plain(self.value, fractions)}"


@dataclass
class Part:
    """One task of one variant."""

    task: str
    title: str
    question: list
    solution: list
    answers: list = field(default_factory=list)


class Context:
    """One variant's model and passes (run when a task first needs them), and what the tasks ask about."""

    def __init__(self, model: Model, *, target: str | None = None, wrt: str | None = None, index: int = 1) -> None:
        self.model = model
        self.index = index
        self.wrt = wrt or default_wrt(model)
        #: Whether the sheet was asked for this parameter (--wrt) rather than the default one.
        self.wrt_given = wrt is not None
        self._target = target
        self._trace = None
        self._run: ScalarPass | None | bool = False
        #: Whether an earlier task of this variant already stated the values.
        self.values_stated = False
        #: Matrices too large for the values sentence, displayed after the question that states them.
        self.displayed_values: list = []

    @classmethod
    def of(cls, model: Model, *, target: str | None = None, wrt: str | None = None, index: int = 1
           ) -> "Context":
        return cls(model, target=target, wrt=wrt, index=index)

    @property
    def trace(self):
        """The numpy forward pass (raises the model's shape errors when a numeric task needs it)."""
        if self._trace is None:
            from ..numeric.forward_pass import forward

            self._trace = forward(self.model)
        return self._trace

    @property
    def run(self) -> ScalarPass | None:
        """The exact pass of a scalar model (cross-checked against numpy's), else None."""
        if self._run is False:
            try:
                self._run = exact_pass(self.model, trace=self.trace, seeds=[self.wrt] if self.wrt else ())
            except NotScalar:
                self._run = None
            if self._run is not None:
                _cross_check(self._run, self.trace)
        return self._run  # type: ignore[return-value]

    @property
    def target(self) -> str:
        return self._target or default_target(self.model, self.steps, self.decoder_steps)

    @property
    def phased(self) -> bool:
        """An encoder-decoder: the encoder's T steps, the context, the decoder's T' steps."""
        return self.model.phases is not None

    @property
    def decoder_steps(self) -> int | None:
        """T', the decoder's steps (None for a model of one phase)."""
        return self.trace.decoder_steps if self.phased else None

    def steps_of(self, name: str) -> range:
        """The steps at which ``name`` is computed (``c = h_T``: step T alone)."""
        from .variants import value_steps

        return value_steps(self.model, self.trace, name)

    @property
    def once(self) -> frozenset:
        """What is computed once, at the last step (``c``, ``s_0``): written without a step."""
        return frozenset(self.model.once)

    @property
    def steps(self) -> int:
        try:
            return self.trace.steps
        except RnnvizError:  # no sizes for a drawing-only sheet: the textbook's three steps
            return 3

    @property
    def fractions(self) -> bool:
        return uses_fractions(self.model)

    def phase_of(self, name: str) -> tuple:
        """The model and trace of the phase that computes ``name`` (the whole model and its trace for one phase)."""
        if not self.phased:
            return self.model, self.trace
        enc, dec = self.model.phases.bind(self.model)
        if self.model.phases.phase_of(name) == "decoder":
            return dec, self.trace.decoder
        return enc, self.trace.encoder

    def bare_in(self, model: Model) -> frozenset:
        """The names ``model`` writes without a step: its once-computed values, a decoder's contexts."""
        contexts = self.model.phases.contexts if self.phased else ()
        return frozenset(model.once) | frozenset(c for c in contexts if c in model.symbols)

    def name(self, n: str, step=None, *, latex: bool = True) -> str:
        return Printer(self.model, latex=latex).name(n, None if n in self.once else step)

    def math(self, n: str, step=None) -> Math:
        return Math(self.name(n, step), self.name(n, step, latex=False))


def _cross_check(run: ScalarPass, trace) -> None:
    """The exact pass and numpy's forward pass must agree: a disagreement is a bug, not a sheet."""
    for (name, t), d in run.vals.items():
        ref = float(trace.value(name, t))
        if not math.isclose(float(d.v), ref, rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"exact {name}_{t} = {d.v} but the forward pass gives {ref}")


# -- numbers and values in text ---------------------------------------------------------


def _value_plain(v: object, fractions: bool = True) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + ", ".join(_value_plain(x, fractions) for x in v) + "]"
    return fmt_full(v, fractions=fractions)  # type: ignore[arg-type]


def _value_latex(v: object, fractions: bool = True, digits: int = 4) -> str:
    if isinstance(v, list):
        if v and isinstance(v[0], list):
            rows = " \\\\ ".join(" & ".join(fmt(x, latex=True, digits=digits, fractions=fractions) for x in r)
                                 for r in v)
        else:
            rows = " \\\\ ".join(fmt(x, latex=True, digits=digits, fractions=fractions) for x in v)
        return f"\\begin{{pmatrix}} {rows} \\end{{pmatrix}}"
    return fmt(v, latex=True, digits=digits, fractions=fractions)  # type: ignore[arg-type]


def _value_math(v: object, fractions: bool = True, digits: int = 4) -> Math:
    plain = _value_plain(v, fractions) if digits >= 6 else (
        "[" + ", ".join(_value_math(x, fractions, digits).plain for x in v) + "]" if isinstance(v, list)
        else fmt(v, digits=digits, fractions=fractions))  # type: ignore[arg-type]
    return Math(_value_latex(v, fractions, digits), plain)


def _exact_tree(a) -> object:
    """An array (or number) as exact numbers where they are short decimals, else floats."""
    import numpy as np

    arr = np.asarray(a, dtype=float)
    if arr.ndim == 0:
        return exact(float(arr))
    return [_exact_tree(x) for x in arr]


def _listing(items: list) -> list:
    """``a, b and c`` as paragraph parts."""
    out: list = []
    for i, it in enumerate(items):
        if i:
            out.append(" and " if i == len(items) - 1 else ", ")
        out.append(it)
    return out


def values_sentence(ctx: Context) -> list:
    """``V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1`` (parts), from the given values."""
    vals = variant_values_of(ctx)
    fr = ctx.fractions
    from .vectors import SMALL

    items = []
    shown: list = []
    for n, v in vals["params"].items():
        if isinstance(v, list) and v and isinstance(v[0], list) and max(len(v), len(v[0])) > SMALL:
            # A matrix beyond a line of text goes below the sentence, displayed.
            shown.append(Chain(ctx.math(n), (Math(_value_latex(v, fr, 6), _value_plain(v, fr)),)))
            continue
        items.append(Math(f"{ctx.name(n)} = {_value_latex(v, fr, 6)}", f"{ctx.name(n, latex=False)} = "
                          f"{_value_plain(v, fr)}"))
    if shown:
        ctx.displayed_values = shown
        items.append(Math(", ".join(c.lhs.latex for c in shown), ", ".join(c.lhs.plain for c in shown)))
        items[-1] = Math(items[-1].latex + " \\text{ as below}", items[-1].plain + " as below")
    for (n, s), v in vals["initial"].items():
        items.append(Math(f"{ctx.name(n, s)} = {_value_latex(v, fr, 6)}",
                          f"{ctx.name(n, s, latex=False)} = {_value_plain(v, fr)}"))
    stepped = [((n, s), v) for n, seq in vals["inputs"].items() for s, v in enumerate(seq, start=1)]
    for (n, s), v in stepped + list(vals.get("stepped", {}).items()):
        items.append(Math(f"{ctx.name(n, s)} = {_value_latex(v, fr, 6)}",
                          f"{ctx.name(n, s, latex=False)} = {_value_plain(v, fr)}"))
    return _listing(items)


def variant_values_of(ctx: Context) -> dict:
    from .variants import _given

    return _given(ctx.model)


def _relu_sentence(ctx: Context) -> list:
    if not any(isinstance(n, E.Call) and n.func == "relu" for eq in ctx.model.equations for n in E.walk(eq.expr)):
        return []
    r0 = exact(ctx.model.relu_prime0)
    return [" Use that ", Math(f"\\mathrm{{ReLU}}'(0) = {fmt(r0, latex=True)}", f"ReLU'(0) = {fmt(r0)}"), "."]


def _with_values(ctx: Context, lead: list) -> list:
    """``lead`` followed by ``where V = ...`` the first time a variant's values are needed."""
    if ctx.values_stated:
        return lead + [" with the values above."]
    ctx.values_stated = True
    return lead + [" where "] + values_sentence(ctx) + ["."]


def _sizes_parts(ctx: Context) -> list:
    """``x_t ∈ R^3 and h_t ∈ R^5`` from the sizes."""
    shapes = ctx.trace.shapes
    items = []
    for n in list(ctx.model.inputs) + list(ctx.model.variables):
        shape = shapes.of(n)
        size = shape[0] if shape else 1
        items.append(Math(f"{ctx.name(n, 't')} \\in \\mathbb{{R}}^{{{size}}}", f"{ctx.name(n, 't', latex=False)} in R^{size}"))
    return _listing(items)


# -- the tasks ------------------------------------------------------------------------


def _figure(ctx: Context, view: str, *, values: bool = False) -> Figure:
    from ..diagrams.diagram import draw
    from .variants import variant_source

    steps = ctx.steps
    diagram = draw(ctx.model, view, steps, values=ctx.trace if values else None)
    opts = f"view={view}" + (f" unroll={steps}" if view != "folded" else "") + (" values=true" if values else "")
    fence = f"```rnnviz {{{opts}}}\n{variant_source(ctx.model, values=values)}```"
    return Figure(f"v{ctx.index}-{view}{'-values' if values else ''}", f"the {view} network",
                  lambda fmt_: diagram.render(fmt_, dpi=200), fence,
                  width=0.45 if view == "folded" else 0.9)


def task_draw(ctx: Context) -> Part:
    if ctx.phased:
        contexts = _listing([ctx.math(c) for c in ctx.model.phases.contexts])
        q = [Para(tuple([f"Draw the folded network and the network unfolded: the encoder over its T = {ctx.steps} "
                         "steps, the context "] + contexts + [f", and the decoder over its T' = {ctx.decoder_steps} "
                                                              "steps. Mark the delayed (recurrent) connections and "
                                                              "label each edge with its parameter."]))]
    else:
        q = [Para(("Draw the folded network and the network unfolded over ", Math(str(ctx.steps), str(ctx.steps)),
                   " time steps. Mark the delayed (recurrent) connections and label each edge with its parameter."))]
    from ..diagrams.diagram import draw

    folded = draw(ctx.model, "folded").graph
    edges = []
    for e in folded.get("edges", []):
        src, dst = ctx.math(e["source"]), ctx.math(e["target"])
        edge = Math(f"{src.latex} \\to {dst.latex}", f"{src.plain} -> {dst.plain}")
        notes: list = [ctx.math(e["param"])] if e.get("param") else []
        if e.get("delay"):
            notes.append(", delayed" if notes else "delayed")
        edges.append([edge] + ([" ("] + notes + [")"] if notes else []))
    listing: list = ["Its edges: "]
    for i, parts in enumerate(edges):
        listing += (["; "] if i else []) + parts
    listing.append(".")
    s = [Para(("The folded network has one node per variable; a delayed edge (a black square) reads the value "
               "of the previous step:",)),
         _figure(ctx, "folded"),
         Para(tuple(listing)),
         Para(("Unfolded, each step is a column; the delayed edges run from one column to the next:",)),
         _figure(ctx, "unrolled")]
    return Part("draw", TASKS["draw"], q, s)


def _vector_worked(ctx: Context, name: str, t: int) -> list:
    """A vector step: worked with its sums where the vectors are small, else the equation and its value."""
    from .vectors import vector_worked

    from .vectors import large_worked

    model, trace = ctx.phase_of(name)
    stages = vector_worked(model, trace, name, t, fractions=ctx.fractions, bare=ctx.bare_in(model))
    if stages is not None and len(stages) > 2:
        return [Chain(Math(*stages[0]), tuple(Math(a, b) for a, b in stages[1:]))]
    large = None if stages is not None else large_worked(model, trace, name, t, fractions=ctx.fractions,
                                                         bare=ctx.bare_in(model))
    if large is not None:  # the first entries of each product as sums, the rest alike
        first = large["stages"]
        out: list = [Chain(Math(*first[0]), (Math(*first[1]),))]
        shown = max(1, min(n for *_, n in large["products"]))
        out.append(Para((f"The first entries of each matrix product as their sums (the other "
                         f"{'entries' if shown > 2 else 'entry'} alike):",)))
        for label, terms, value, _ in large["products"]:
            out.append(Chain(Math(*label), (Math(*terms), Math(*value))))
        out.append(Chain(Math(*first[0]), tuple(Math(a, b) for a, b in first[2:])))
        return out
    from ..formulas.unrolled import at_steps
    from .scalar import StepPrinter

    p = StepPrinter(model, latex=True, bare=ctx.bare_in(model))
    pp = StepPrinter(model, latex=False, bare=ctx.bare_in(model))
    eq = model.equation(name)
    val = _exact_tree(trace.value(name, t))
    return [Chain(Math(p.name(name, t), pp.name(name, t)),
                  (Math(p.expr(at_steps(eq.expr, str(t))), pp.expr(at_steps(eq.expr, str(t)))),
                   _value_math(val, ctx.fractions)), "=")]


def _sweep_groups(ctx: Context) -> list[tuple[str, list[tuple[str, int]]]]:
    """The steps as a hand calculation takes them: one group per step, a backward sweep from T down to 1.

    Each group is ``(heading, [(name, t), ...])``; a model with a backward chain gets a
    sentence before each sweep saying which way it runs.
    """
    from .scalar import computation_order

    T = ctx.steps
    sweeps = ctx.model.sweeps
    groups: list[tuple[str, list[tuple[str, int]]]] = []
    for sweep in sweeps:
        order = [k for k in computation_order(ctx.model, T) if k[0] in sweep.targets]
        steps = list(dict.fromkeys(t for _, t in order))
        for t in steps:
            groups.append((f"Step {t}:", [k for k in order if k[1] == t]))
    return groups


def _sweep_sentence(ctx: Context, sweep) -> Para:
    T = ctx.steps
    names = _listing([ctx.math(n, "t") for n in sweep.targets])
    if sweep.direction == "forward":
        return Para(tuple(["Forward, from t = 1 to " + str(T) + ": "] + names + ["."]))
    chains = [n for n in sweep.chains]
    start = _listing([Math(ctx.name(n, T + ctx.model.max_lead(n)), ctx.name(n, T + ctx.model.max_lead(n), latex=False))
                      for n in chains])
    return Para(tuple(["Backward, from t = " + str(T) + " down to 1 (each step reads the one after it, starting from "]
                      + start + ["): "] + names + ["."]))


def _worked(ctx: Context, n: str, t: int) -> tuple[list, object, bool]:
    """One value worked out (blocks), its value and whether it is exact."""
    if ctx.run is not None:
        w = ctx.run.worked(n, t)
        parts, plain = w.latex.split(" = "), w.plain.split(" = ")
        value = ctx.run.value(n, t)
        return [Chain(Math(parts[0], plain[0]), tuple(Math(a, b) for a, b in zip(parts[1:], plain[1:])))], value, \
            isinstance(value, Fraction)
    _, trace = ctx.phase_of(n)
    return _vector_worked(ctx, n, t), _exact_tree(trace.value(n, t)), False


def _steps_math(steps) -> Math:
    text = "t = " + ", ".join(map(str, steps))
    return Math(text, text)


def _forward_phased(ctx: Context) -> Part:
    """An encoder-decoder: the encoder's steps, what is computed once at its end, the decoder's steps."""
    phases = ctx.model.phases
    once = [n for n in ctx.model.variables if n in ctx.once]
    encoder = [n for n in phases.encoder.variables if n not in ctx.once]
    decoder = list(phases.decoder.variables)
    T, T2 = ctx.steps, ctx.decoder_steps
    inputs_enc = [n for n in ctx.model.inputs if phases.phase_of(n) == "encoder"]

    def once_words(n: str) -> list:
        if n in phases.contexts:
            return ["the context ", ctx.math(n)]
        return ["the decoder's start ", ctx.math(n)]

    def once_listing() -> list:
        out: list = []
        for i, n in enumerate(once):
            if i:
                out.append(" and " if i == len(once) - 1 else ", ")
            out += once_words(n)
        return out

    def per_step(names: list[str], steps) -> list:
        if len(names) == 1:
            return _listing([ctx.math(names[0], t) for t in steps])
        return _listing([ctx.math(n, "t") for n in names]) + [" for ", _steps_math(steps)]

    lead = ["Run the encoder over "] + _listing([ctx.math(x, t) for x in inputs_enc for t in range(1, T + 1)])
    lead += [f" (T = {T} steps): calculate "] + per_step(encoder, range(1, T + 1))
    if once:
        lead += [", then "] + once_listing()
    lead += [f". Then run the decoder over T' = {T2} steps: calculate "] + per_step(decoder, range(1, T2 + 1))
    q = [Para(tuple(_with_values(ctx, lead)))]
    run = ctx.run
    if run is None or any(isinstance(run.value(n, t), float) for n in ctx.model.variables for t in ctx.steps_of(n)):
        q.append(Para(("Give numbers that are not whole to four decimals.",)))
    s: list = []
    answers: list = []

    def work(n: str, t: int) -> None:
        blocks, value, exact_ = _worked(ctx, n, t)
        s.extend(blocks)
        key = n if n in ctx.once else f"{n}[{t}]"
        answers.append(Answer("value", key, ctx.math(n, t), value, exact=exact_))

    s.append(Para((f"The encoder, from t = 1 to {T}:",)))
    for t in range(1, T + 1):
        s.append(Para((f"Step {t}:",)))
        for n in encoder:
            work(n, t)
    if once:
        s.append(Para(tuple([f"Once, at the encoder's last step (t = T = {T}): "] + once_listing() + [":"])))
        for n in once:
            work(n, T)
    reads = _listing([ctx.math(c) for c in phases.contexts])
    s.append(Para(tuple([f"The decoder, from t = 1 to {T2}, reading "] + reads + [" at every step:"])))
    for t in range(1, T2 + 1):
        s.append(Para((f"Step {t}:",)))
        for n in decoder:
            work(n, t)
    return Part("forward", TASKS["forward"], q, s, answers)


def task_forward(ctx: Context) -> Part:
    if ctx.phased:
        return _forward_phased(ctx)
    names = ctx.model.variables
    steps = list(range(1, ctx.steps + 1))
    if len(names) == 1:
        asked = _listing([ctx.math(names[0], t) for t in steps])
    else:
        asked = _listing([ctx.math(n, "t") for n in names]) + [" for "] + [Math(
            "t = " + ", ".join(map(str, steps)), "t = " + ", ".join(map(str, steps)))]
    lead = ["Calculate "] + asked
    q = [Para(tuple(_with_values(ctx, lead)))]
    backward = ctx.model.backward
    if backward:
        q.append(Para(tuple(_listing([ctx.math(n, "t") for n in backward]) +
                            [" runs backward in time: compute it from t = " + str(ctx.steps) + " down to 1."])))
    if ctx.run is None or any(isinstance(ctx.run.value(n, t), float) for n in names for t in steps):
        q.append(Para(("Give numbers that are not whole to four decimals.",)))
    s: list = []
    answers = []
    sweeps = ctx.model.sweeps
    for sweep in sweeps:
        if len(sweeps) > 1:
            s.append(_sweep_sentence(ctx, sweep))
        for head, keys in [g for g in _sweep_groups(ctx) if g[1][0][0] in sweep.targets]:
            s.append(Para((head,)))
            for n, t in keys:
                if ctx.run is not None:
                    w = ctx.run.worked(n, t)
                    parts = w.latex.split(" = ")
                    plain = w.plain.split(" = ")
                    s.append(Chain(Math(parts[0], plain[0]),
                                   tuple(Math(a, b) for a, b in zip(parts[1:], plain[1:]))))
                    value: object = ctx.run.value(n, t)
                else:
                    s += _vector_worked(ctx, n, t)
                    value = _exact_tree(ctx.trace.value(n, t))
                answers.append(Answer("value", f"{n}[{t}]", ctx.math(n, t), value,
                                      exact=ctx.run is not None and isinstance(value, Fraction)))
    return Part("forward", TASKS["forward"], q, s, answers)


def task_plot(ctx: Context) -> Part:
    from ..diagrams.plot import figure_bytes, plot_phases, plot_steps
    from .variants import variant_source

    if ctx.phased:
        # Two sequences, two time axes: the encoder's steps t = 1..T beside the decoder's t = 1..T'.
        q = [Para(tuple(_with_values(ctx, ["Run the forward pass over the input sequence and then the output "
                                           "sequence"]) +
                        [" Plot the results of each phase for each of its steps."]))]
        fig = plot_phases(ctx.trace)
        caption = "the encoder's variables against its steps t = 1..T, the decoder's against t = 1..T'"
    else:
        q = [Para(tuple(_with_values(ctx, ["Run the forward pass over the whole sequence"]) +
                        [" Plot the results for each step."]))]
        fig = plot_steps(ctx.trace)
        caption = "every variable against the step t"
    figure = Figure(f"v{ctx.index}-plot", caption,
                    lambda f: figure_bytes(fig, f, dpi=150),
                    f"```rnnviz {{show=plot}}\n{variant_source(ctx.model)}```", width=0.8)
    s: list = [figure]
    if ctx.phased:
        return Part("plot", TASKS["plot"], q, s)
    out = [n for n in ctx.model.variables if ctx.model.role(n) == "output"]
    x = ctx.model.inputs
    T = ctx.steps
    if out and x and T > 1 and ctx.run is not None:
        o, xn = out[-1], x[0]
        same_input = all(ctx.run.value(i, 1) == ctx.run.value(i, T) for i in x)
        if same_input:
            q.append(Para(("Is the output ", ctx.math(o, 1), " equal to the output ", ctx.math(o, T), "? Why?")))
            a, b = ctx.run.value(o, 1), ctx.run.value(o, T)
            states = ctx.model.recurrent
            st1 = _listing([Math(ctx.name(r, 0), ctx.name(r, 0, latex=False)) for r in states])
            stT = _listing([Math(ctx.name(r, T - 1), ctx.name(r, T - 1, latex=False)) for r in states])
            if a == b or math.isclose(float(a), float(b), rel_tol=1e-12):
                s.append(Para((ctx.math(o, 1), " and ", ctx.math(o, T), " are equal: the input is the same (",
                               ctx.math(xn, 1), " = ", ctx.math(xn, T), ") and so is the state it meets.")))
            else:
                s.append(Para(tuple([
                    "No: ", Math(f"{ctx.name(o, 1)} = {fmt(a, latex=True)}", f"{ctx.name(o, 1, latex=False)} = {fmt(a)}"),
                    " but ", Math(f"{ctx.name(o, T)} = {fmt(b, latex=True)}", f"{ctx.name(o, T, latex=False)} = {fmt(b)}"),
                    ", although the input is the same (", Math(f"{ctx.name(xn, 1)} = {ctx.name(xn, T)}",
                                                                f"{ctx.name(xn, 1, latex=False)} = {ctx.name(xn, T, latex=False)}"),
                    "). The output also depends on the state carried from the earlier steps: at t = 1 the "
                    "network starts from "] + st1 + [", at t = " + str(T) + " from "] + stT +
                    [", which hold what the earlier inputs left behind."])))
    return Part("plot", TASKS["plot"], q, s)


def _group_label(ctx: Context, g) -> Math:
    """``parameters of layer 1 (H_1)``, ``parameters of O``: what an answer line names."""
    var = ctx.math(g.name)
    if g.layer is not None:
        return Math(f"\\text{{parameters of layer {g.layer} }} ({var.latex})", f"parameters of layer {g.layer}")
    return Math(f"\\text{{parameters of }} {var.latex}", f"parameters of {var.plain}")


def task_params(ctx: Context) -> Part:
    from .counting import parameter_groups

    shapes = ctx.trace.shapes
    lead = ["How many parameters (weights and biases) does the network have"]
    sized = any(shapes.of(n) != () for n in list(ctx.model.inputs) + list(ctx.model.variables))
    lead += ([", with "] + _sizes_parts(ctx) + ["?"]) if sized else [", where every variable is a number?"]
    groups = parameter_groups(ctx.model, shapes)
    q = [Para(tuple(lead))]
    if len(groups) > 1:
        layered = any(g.layer for g in groups)
        q.append(Para(("Give the count of each " + ("layer and of the output" if layered else "equation") +
                       " and the total.",)))
    s: list = []
    terms = [t for g in groups for t in g.terms]
    scalars = [ctx.math(p) for p, _t, _c in terms if not shapes.of(p)]
    if scalars:
        s.append(Para(tuple(["Each of "] + _listing(scalars) + [" is one number."])))
    for pname, _text, count in terms:
        shape = shapes.of(pname)
        if shape:
            desc = "×".join(map(str, shape)) + (f" = {count}" if len(shape) == 2 else "")
            s.append(Para((ctx.math(pname), f": {desc} numbers")))
    answers = []
    if len(groups) > 1:
        s.append(Para(("Equation by equation (each parameter counted where it first appears):",)))
        for g in groups:
            label = _group_label(ctx, g)
            rhs = (Math(g.sum_text.replace("×", " \\times "), g.sum_text),) if len(g.terms) > 1 else ()
            s.append(Chain(label, rhs + (Math(str(g.count), str(g.count)),)))
            answers.append(Answer("params", label.plain, label, Fraction(g.count), True))
        total_l = " + ".join(str(g.count) for g in groups)
    else:
        total_l = " + ".join(t for _, t, _ in terms)
    total = sum(c for _, _, c in terms)
    s.append(Chain(Math("\\text{parameters}", "parameters"),
                   (Math(total_l.replace("×", " \\times "), total_l), Math(str(total), str(total)))))
    answers.append(Answer("params", "parameters", Math("\\text{parameters}", "parameters"), Fraction(total), True))
    return Part("params", TASKS["params"], q, s, answers)


def _grad_label(ctx: Context, tname: str, tstep: int, wrt: str) -> Math:
    return Math(f"\\frac{{\\partial {ctx.name(tname, tstep)}}}{{\\partial {ctx.name(wrt)}}}",
                f"d{ctx.name(tname, tstep, latex=False)}/d{ctx.name(wrt, latex=False)}")


def _formula_chains(text: str) -> list:
    """The LaTeX lines of :func:`rnnviz.formulas.gradient.gradient_formula` as displayed lines."""
    out = []
    for line in text.splitlines():
        line = line.strip().rstrip("\\").strip()
        if not line or line == "\\text{where}":
            continue
        if line.startswith("\\text{"):
            out.append(Para((line[6:].rstrip("}").replace("\\,", " ") ,)))
            continue
        if " = " in line:
            lhs, rhs = line.split(" = ", 1)
            out.append(Chain(Math(lhs, lhs), (Math(rhs, rhs),)))
        else:
            out.append(Chain(Math(line, line), (), ""))
    return [c for c in out if not (isinstance(c, Chain) and not c.rhs)]


def task_grad(ctx: Context) -> Part:
    from ..formulas.gradient import gradient_formula
    from ..numeric.grad import gradients
    from ..numeric.target import parse_target

    tgt = parse_target(ctx.target, ctx.model)
    tname, T = tgt.name, tgt.step or ctx.steps
    wrt = ctx.wrt
    label = _grad_label(ctx, tname, T, wrt)
    lead = ["Calculate ", label, " by backpropagation through time"]
    if ctx.trace.shapes.of(tname) != () and tgt.component is None:
        lead += [" (of the sum of the entries of ", ctx.math(tname, T), ")"]
    q = [Para(tuple(_with_values(ctx, lead) + _relu_sentence(ctx)))]
    s: list = []
    if ctx.phased:
        phases = ctx.model.phases
        s.append(Para(tuple(["The derivative runs back through the decoder's steps, then into "] +
                            _listing([ctx.math(c) for c in phases.contexts]) +
                            [" (every decoder step reads it" + (", and so does the decoder's start " if phases.starts
                                                                else "")] +
                            _listing([ctx.math(st) for _, st in phases.starts]) +
                            ["), and through it into the encoder's steps. The derivative of ", ctx.math(tname, T),
                             " by each value collects the paths through the values that read it, last computed "
                             "first:"])))
    elif ctx.model.backward:
        # The expansion over time is a product of Jacobians along one direction of time; a
        # backward chain's derivative is carried step by step instead, in the order computed.
        s.append(Para(tuple(["The chain "] + _listing([ctx.math(n, "t") for n in ctx.model.backward]) +
                            [" runs backward in time, so the expansion along one direction does not apply: "
                             "backpropagate value by value instead. The derivative of ", ctx.math(tname, T),
                             " by each value it depends on collects the paths through the values "
                             "that read it, last computed first:"])))
    else:
        try:
            s += _formula_chains(gradient_formula(ctx.model, ctx.target, wrt, latex=True))
        except RnnvizError:  # a form the expansion does not write (a norm of a vector): by hand below
            s.append(Para(("Backpropagate value by value: the derivative of ", ctx.math(tname, T),
                           " by each value collects the paths through the values that read it, last computed "
                           "first:")))
    grads = gradients(ctx.model, ctx.trace, ctx.target).named()
    numeric = grads[wrt]
    fr = ctx.fractions
    if ctx.run is not None:
        value = ctx.run.deriv(tname, T, wrt)
        if not math.isclose(float(value), float(numeric), rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"exact d{tname}_{T}/d{wrt} = {value}, backprop gives {float(numeric)}")
        states = ctx.model.recurrent
        if ctx.model.backward or ctx.phased:  # both directions of time, or two phases: value by value
            s += _backward_sums(ctx, [(tname, T)], ((tname, T), False), [wrt], {wrt: numeric})[0]
        elif states == [tname] or (len(states) == 1 and tname in states):
            s += _bptt_terms(ctx, tname, T, wrt)
        else:
            s.append(Para(("Step by step (forward mode: each value's derivative from those it reads):",)))
            for n, t in ctx.run.order:  # up to the target: what comes after it does not reach it
                d = ctx.run.deriv(n, t, wrt)
                s.append(Chain(_grad_label(ctx, n, t, wrt), (Math(fmt(d, latex=True, fractions=fr),
                                                                  fmt(d, fractions=fr)),)))
                if (n, t) == (tname, T):
                    break
        answer: object = value
    else:
        answer = _exact_tree(numeric)
        if tgt.component is None:
            s += _vector_backward(ctx, [(tname, T)], [wrt])
    s.append(Chain(label, (_value_math(answer, fr, digits=6),)))
    return Part("grad", TASKS["grad"], q, s,
                [Answer("grad", f"d {tname}[{T}] / d {wrt}", label, answer,
                        exact=isinstance(answer, Fraction))])


def _bptt_terms(ctx: Context, h: str, T: int, wrt: str) -> list:
    """The BPTT sum of a one-state scalar model, each Jacobian and each term with its numbers."""
    run = ctx.run
    assert run is not None
    fr = ctx.fractions
    J = {j: run.step_partials(j, [(h, j - 1)])[h].d.get((h, j - 1), Fraction(0)) for j in range(2, T + 1)}
    imm = {k: run.step_partials(k, [wrt])[h].d.get(wrt, Fraction(0)) for k in range(1, T + 1)}

    def num(x: Number) -> Math:
        return Math(fmt(x, latex=True, fractions=fr), fmt(x, fractions=fr))

    out: list = [Para(("With the numbers of the forward pass, the Jacobians and the immediate derivatives are:",))]
    for j in range(2, T + 1):
        lhs = Math(f"\\frac{{\\partial {ctx.name(h, j)}}}{{\\partial {ctx.name(h, j - 1)}}}",
                   f"d{ctx.name(h, j, latex=False)}/d{ctx.name(h, j - 1, latex=False)}")
        out.append(Chain(lhs, (num(J[j]),)))
    for k in range(1, T + 1):
        lhs = Math(f"\\frac{{\\partial^{{+}} {ctx.name(h, k)}}}{{\\partial {ctx.name(wrt)}}}",
                   f"d+{ctx.name(h, k, latex=False)}/d{ctx.name(wrt, latex=False)}")
        out.append(Chain(lhs, (num(imm[k]),)))
    terms_l, terms_p, total = [], [], Fraction(0)
    for k in range(1, T + 1):
        factors = [J[j] for j in range(T, k, -1)] + [imm[k]]
        prod: Number = Fraction(1)
        for f in factors:
            prod = prod * f
        total = total + prod
        fl = [fmt(f, latex=True, fractions=fr) for f in factors]
        fp = [fmt(f, fractions=fr) for f in factors]
        terms_l.append(" \\cdot ".join(f"({x})" if x.startswith("-") else x for x in fl))
        terms_p.append("·".join(f"({x})" if x.startswith("-") else x for x in fp))
        out.append(Chain(Math(f"\\text{{term }} k = {k}", f"term k = {k}"),
                         (Math(terms_l[-1], terms_p[-1]), num(prod)) if len(factors) > 1 else (num(prod),)))
    out.append(Chain(_grad_label(ctx, h, T, wrt), (Math(" + ".join(f"\\left({t}\\right)" for t in terms_l),
                                                         " + ".join(f"({t})" for t in terms_p)), num(total))))
    return out


def _vector_backward(ctx: Context, roots: list, wrts: list[str], *, top=None) -> list:
    """A backpropagation by hand over vectors (see :mod:`rnnviz.teaching.vector_backprop`), or [] where
    an operation's local derivative is not written there."""
    from .vector_backprop import Unsupported, backward_blocks

    try:
        lines, _ = backward_blocks(ctx.model, ctx.trace, roots, wrts, fractions=ctx.fractions,
                                   bare=ctx.bare_in(ctx.model), top=top)
    except Unsupported:
        return []
    out: list = []
    for line in lines:
        if line is None:
            out.append(Para(("The weights: each step that uses one adds its share.",)))
            continue
        (lhs_l, lhs_p), stages = line
        out.append(Chain(Math(lhs_l, lhs_p), tuple(Math(a, b) for a, b in stages)))
    return out


def _d(ctx: Context, top, bottom, *, total: bool = False) -> Math:
    """``dL/dh_2``: ``top`` the total loss's name (``total``) or a (name, step); ``bottom`` a (name, step)
    or a parameter."""
    b_l = ctx.name(*bottom) if isinstance(bottom, tuple) else ctx.name(bottom)
    b_p = ctx.name(*bottom, latex=False) if isinstance(bottom, tuple) else ctx.name(bottom, latex=False)
    t_l, t_p = (top, top) if total else (ctx.name(*top), ctx.name(*top, latex=False))
    return Math(f"\\frac{{\\partial {t_l}}}{{\\partial {b_l}}}", f"d{t_p}/d{b_p}")


def _local(ctx: Context, node: tuple, bottom) -> Math:
    """``do_1/dh_1``: the local partial of a computed value by something it reads."""
    b_l = ctx.name(*bottom) if isinstance(bottom, tuple) else ctx.name(bottom)
    b_p = ctx.name(*bottom, latex=False) if isinstance(bottom, tuple) else ctx.name(bottom, latex=False)
    return Math(f"\\frac{{\\partial {ctx.name(*node)}}}{{\\partial {b_l}}}",
                f"d{ctx.name(*node, latex=False)}/d{b_p}")


def _sum_chain(ctx: Context, lhs: Math, terms: list[tuple[Math, Math, Number, Number]]) -> tuple[Chain, Number]:
    """``lhs = Σ adjoint·local`` with the labels, then the numbers, then the value."""
    fr = ctx.fractions
    total: Number = Fraction(0)
    for _, _, a, b in terms:
        total = total + a * b
    sym_l = " + ".join(f"{x.latex} {y.latex}" for x, y, _, _ in terms)
    sym_p = " + ".join(f"{x.plain}·{y.plain}" for x, y, _, _ in terms)

    def num(v: Number, latex: bool) -> str:
        text = fmt(v, latex=latex, fractions=fr)
        return f"({text})" if text.startswith("-") else text

    dot = " \\cdot "
    nums_l = " + ".join(f"{num(a, True)}{dot}{num(b, True)}" for _, _, a, b in terms)
    nums_p = " + ".join(f"{num(a, False)}·{num(b, False)}" for _, _, a, b in terms)
    value = Math(fmt(total, latex=True, fractions=fr), fmt(total, fractions=fr))
    return Chain(lhs, (Math(sym_l, sym_p), Math(nums_l, nums_p), value)), total


def _backward_sums(ctx: Context, roots: list[tuple[str, int]], top: tuple, wrts: list[str], reference: dict
                   ) -> tuple[list, dict]:
    """Backpropagation by hand: the derivative of ``top`` by each value, last computed first, then by each weight.

    ``roots`` are the values whose derivative is 1 (the losses a total adds, or the target
    itself); ``top`` is ``(name, True)`` for a total or ``((name, step), False)``. Each value's
    derivative collects the paths through the values that read it (their derivative times
    the local partial), written as that sum with its numbers; a value no path reaches is
    left out. ``reference`` (numpy's backpropagation) checks each weight's sum.
    """
    run = ctx.run
    assert run is not None
    d = lambda bottom: _d(ctx, top[0], bottom, total=top[1])  # noqa: E731
    bp = run.backprop(roots)
    blocks: list = []
    for k in reversed(run.order):
        if k in roots:
            blocks.append(Chain(d(k), (Math("1", "1"),)))
        elif k in bp.adj:
            blocks.append(_sum_chain(ctx, d(k), [(d(r), _local(ctx, r, k), a, b) for r, a, b in bp.terms(k)])[0])
    blocks.append(Para(("The weights: each step that uses one adds its share.",)))
    grads: dict = {}
    for w in wrts:
        terms = [(d(r), _local(ctx, r, w), a, b) for r, a, b in bp.terms(w)]
        if not terms:
            grads[w] = Fraction(0)
            blocks.append(Chain(d(w), (Math("0", "0"),)))
            continue
        chain, grads[w] = _sum_chain(ctx, d(w), terms)
        if not math.isclose(float(grads[w]), float(reference[w]), rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"the worked {d(w).plain} = {grads[w]}, numpy's backpropagation gives {reference[w]}")
        blocks.append(chain)
    return blocks, grads


def task_loss(ctx: Context) -> Part:
    """The total loss and its derivatives by the weights, backpropagated step by step from T down to 1."""
    if not ctx.model.totals:
        raise UsageError("the loss task needs a loss summed over time (L = \\sum_t L^{(t)}); these equations have none")
    total, per = ctx.model.totals[0]
    wrts = [ctx.wrt] if ctx.wrt_given else loss_weights(ctx.model)
    T = ctx.steps
    # The per-step loss's own steps: an encoder-decoder scores the decoder's T' steps, not the encoder's T.
    loss_steps = list(ctx.steps_of(per)) if ctx.phased else list(range(1, T + 1))
    fr = ctx.fractions
    sum_l = " + ".join(ctx.name(per, t) for t in loss_steps)
    sum_p = " + ".join(ctx.name(per, t, latex=False) for t in loss_steps)
    lead = ["Compute the loss ", Math(f"{total} = {sum_l}", f"{total} = {sum_p}"), " and its derivatives "]
    lead += _listing([_d(ctx, total, w, total=True) for w in wrts]) + [" by backpropagation through time"]
    q = [Para(tuple(_with_values(ctx, lead) + _relu_sentence(ctx)))]
    s: list = []
    answers: list = []
    label_total = Math(total, total)
    run = ctx.run
    if run is None:
        from ..numeric.grad import gradients

        value = _exact_tree(sum(ctx.trace.value(per, t) for t in loss_steps))
        grads = gradients(ctx.model, ctx.trace, f"sum({per})").named()
        if not ctx.phased:
            from .scalar import computation_order

            s.append(Para(("Forward, each step with its numbers:",)))
            for n, t in computation_order(ctx.model, T):
                s += _vector_worked(ctx, n, t)
        s.append(Chain(label_total, (Math(sum_l, sum_p), _value_math(value, fr))))
        worked = _vector_backward(ctx, [(per, t) for t in ctx.steps_of(per)], wrts, top=(total, total))
        if worked and ctx.phased:
            s.append(Para(tuple(["Backward, through the decoder's steps from the last down to 1, then ",
                                 *_listing([ctx.math(c) for c in ctx.model.phases.contexts]),
                                 " (the sum over every step that reads it), then the encoder's steps: the "
                                 "derivative of ", label_total, " by each value is the sum, over the values "
                                 "that read it, of the transposed local Jacobian times their derivative."])))
        elif worked:
            s.append(Para(tuple(["Backward, from t = " + str(T) + " down to 1: the derivative of ", label_total,
                                 " by each value is the sum, over the values that read it, of the transposed "
                                 "local Jacobian times their derivative."])))
        s += worked
        s.append(Para(("The results:" if worked else "By backpropagation through time (with vectors, each "
                       "derivative is a matrix of sums; the results):",)))
        answers.append(Answer("total", total, label_total, value))
        for w in wrts:
            g = _exact_tree(grads[w])
            s.append(Chain(_d(ctx, total, w, total=True), (_value_math(g, fr, digits=6),)))
            answers.append(Answer("grad", f"d {total} / d {w}", _d(ctx, total, w, total=True), g))
        return Part("loss", TASKS["loss"], q, s, answers)
    # Forward: each step worked, then the losses added.
    s.append(Para(("Forward, each step with its numbers:",)))
    for n, t in run.order:
        w = run.worked(n, t)
        lp, pp = w.latex.split(" = "), w.plain.split(" = ")
        s.append(Chain(Math(lp[0], pp[0]), tuple(Math(a, b) for a, b in zip(lp[1:], pp[1:]))))
    losses = [run.value(per, t) for t in loss_steps]
    value: Number = Fraction(0)
    for x in losses:
        value = value + x
    s.append(Chain(label_total, (Math(sum_l, sum_p),
                                 Math(" + ".join(fmt(x, latex=True, fractions=fr) for x in losses),
                                      " + ".join(fmt(x, fractions=fr) for x in losses)),
                                 Math(fmt(value, latex=True, fractions=fr), fmt(value, fractions=fr)))))
    answers.append(Answer("total", total, label_total, value, isinstance(value, Fraction)))
    from ..numeric.grad import gradients

    reference = gradients(ctx.model, ctx.trace, f"sum({per})").named()  # a cross-check, not the answer
    roots = [(per, t) for t in loss_steps]
    blocks, grads = _backward_sums(ctx, roots, (total, True), wrts, reference)
    s += [Para(tuple(["Backward, from t = " + str(loss_steps[-1]) + " down to 1: the derivative of ", label_total,
                      " by each value collects the paths through the values that read it."]))] + blocks
    for w in wrts:
        answers.append(Answer("grad", f"d {total} / d {w}", _d(ctx, total, w, total=True), grads[w],
                              isinstance(grads[w], Fraction)))
    return Part("loss", TASKS["loss"], q, s, answers)


def task_gates(ctx: Context) -> Part:
    from ..language.gates import GATE_ROLES, analyze

    report = analyze(ctx.model)
    if not report.gates:
        raise UsageError("the gates task needs gates (sigmoid variables that multiply element-wise); "
                         "these equations have none")
    roles = []
    for g in report.gates:
        if GATE_ROLES[g.role] not in roles:
            roles.append(GATE_ROLES[g.role])
    order = ["forget gate", "input gate", "update gate", "reset gate", "output gate", "gate"]
    roles.sort(key=order.index)
    names = _listing([ctx.math(g.name, "t") for g in report.gates])
    q = [Para(tuple(["Assign these gates to the "] + _listing([r.replace(" gate", "") for r in roles]) +
                    [" gates: "] + names + ["."]))]
    if report.cell_state:
        q.append(Para(("Which variable is the cell state?",)))
    s: list = []
    answers = []
    for g in sorted(report.gates, key=lambda g: g.name):
        role = GATE_ROLES[g.role]
        reason = g.reason
        s.append(Para((ctx.math(g.name, "t"), f" is the {role}: it {reason}.")))
        answers.append(Answer("gate", g.name, ctx.math(g.name), role, True))
    if report.cell_state:
        c = report.cell_state
        s.append(Para((ctx.math(c, "t"), " is the cell state: the additive path from ", ctx.math(c, "t-1"),
                       " to ", ctx.math(c, "t"), ", scaled by the forget gate only.")))
        answers.append(Answer("cell", "cell state", Math("\\text{cell state}", "cell state"), c, True))
    return Part("gates", TASKS["gates"], q, s, answers)


def task_formula(ctx: Context) -> Part:
    from ..formulas.unrolled import unrolled_formula
    from ..numeric.target import parse_target

    tgt = parse_target(ctx.target, ctx.model)
    q = [Para(("Write ", ctx.math(tgt.name, tgt.step), " out in the inputs, the initial state",
               " and the parameters (unroll the recurrence).",))]
    latex = unrolled_formula(ctx.model, ctx.target, latex=True)
    plain = unrolled_formula(ctx.model, ctx.target)
    depth_note = None
    if len(latex) > 1200:
        latex = unrolled_formula(ctx.model, ctx.target, latex=True, depth=0)
        plain = unrolled_formula(ctx.model, ctx.target, depth=0)
        depth_note = "Written out in full it fills pages; here within the last step, the previous states as names:"
    s: list = [Para((depth_note,))] if depth_note else []
    # An encoder-decoder's formula comes with the start and the context it reads, one equation each.
    pieces_l, pieces_p = latex.split(",\\quad "), plain.split("\n")
    if len(pieces_l) != len(pieces_p):
        pieces_l, pieces_p = [latex], [plain]
    for i, (one_l, one_p) in enumerate(zip(pieces_l, pieces_p)):
        if i == 1:
            s.append(Para(("where",)))
        lhs_l, rhs_l = one_l.split(" = ", 1)
        lhs_p, rhs_p = one_p.split(" = ", 1)
        s.append(Chain(Math(lhs_l, lhs_p), tuple(Math(a, b) for a, b in zip(rhs_l.split(" = "), rhs_p.split(" = ")))))
    return Part("formula", TASKS["formula"], q, s)


def _jacobian_groups(ctx: Context) -> list[tuple]:
    """The chains whose Jacobians a sheet works: ``(pass, model, states, steps, prev)`` each.

    ``prev(j)`` is the step a state reads (j-1, or j+1 along a backward chain); an
    encoder-decoder has one group per phase. ``pass`` is None without the exact pass.
    """
    from ..language.gates import analyze

    run = ctx.run
    if ctx.phased:
        enc, dec = ctx.model.phases.bind(ctx.model)
        out = []
        for m, sub, steps in ((enc, run.encoder if run else None, ctx.steps),
                              (dec, run.decoder if run else None, ctx.decoder_steps)):
            states = [n for n in m.recurrent if n in m.variables]
            if states:
                out.append((sub, m, states, range(1, steps + 1), lambda j: j - 1))
        return out
    m = ctx.model
    report = analyze(m)
    forward = [n for n in m.recurrent if n not in m.backward]
    if report.cell_state and report.cell_state in forward:  # the cell state first: dc_t/dc_{t-1} is asked
        forward = [report.cell_state] + [n for n in forward if n != report.cell_state]
    out = [(run, m, forward, range(1, ctx.steps + 1), lambda j: j - 1)] if forward else []
    backward = [n for n in m.backward if n in m.variables]
    if backward:
        out.append((run, m, backward, range(ctx.steps, 0, -1), lambda j: j + 1))
    return out


def _pd(ctx: Context, top: tuple, bottom: tuple, *, immediate: bool = False) -> Math:
    """``\\partial c_2/\\partial h_1`` (``immediate``: ``\\partial^+``, the others held)."""
    plus_l, plus_p = ("^{+}", "+") if immediate else ("", "")
    return Math(f"\\frac{{\\partial{plus_l} {ctx.name(*top)}}}{{\\partial {ctx.name(*bottom)}}}",
                f"d{plus_p}{ctx.name(*top, latex=False)}/d{ctx.name(*bottom, latex=False)}")


def _jacobian_worked(ctx: Context, run, states: list[str], steps, prev) -> list:
    """Each step's Jacobian entries as the chain rule writes them, then their product over the steps."""
    from .jacobian import step_jacobian

    fr = ctx.fractions

    def num(x: Number, latex: bool) -> str:
        text = fmt(x, latex=latex, fractions=fr)
        return f"({text})" if text.startswith("-") else text

    dot_l, dot_p = " \\cdot ", "·"
    out: list = []
    Js: dict = {}
    for j in steps:
        rows, J = step_jacobian(run, j, states, prev(j))
        Js[j] = J
        out.append(Para((f"Step {j}:",)))
        for k, b, terms, total in rows:
            lhs = _pd(ctx, k, b)
            if len(terms) == 1 and terms[0][0] == b:  # read directly: the derivative worked out
                ld = terms[0][1]
                out.append(Chain(lhs, tuple(Math(a, p) for a, p in zip(ld.latex, ld.plain))))
                continue
            sym_l, sym_p, loc_l, loc_p, num_l, num_p = [], [], [], [], [], []
            for r, ld, through in terms:
                direct = r == b
                a = _pd(ctx, k, r, immediate=direct and len(terms) > 1)
                if direct:
                    sym_l.append(a.latex), sym_p.append(a.plain)
                    loc_l.append(ld.latex[0]), loc_p.append(ld.plain[0])
                    num_l.append(num(ld.value, True)), num_p.append(num(ld.value, False))
                    continue
                c = _pd(ctx, r, b)
                sym_l.append(f"{a.latex} {c.latex}"), sym_p.append(f"{a.plain}·{c.plain}")
                wrap_l = f"\\left({ld.latex[0]}\\right)" if " + " in ld.latex[0] or " - " in ld.latex[0] else ld.latex[0]
                wrap_p = f"({ld.plain[0]})" if " + " in ld.plain[0] or " - " in ld.plain[0] else ld.plain[0]
                loc_l.append(f"{wrap_l} {c.latex}"), loc_p.append(f"{wrap_p}·{c.plain}")
                num_l.append(num(ld.value, True) + dot_l + num(through, True))
                num_p.append(num(ld.value, False) + dot_p + num(through, False))
            stages = [(" + ".join(sym_l), " + ".join(sym_p)), (" + ".join(loc_l), " + ".join(loc_p)),
                      (" + ".join(num_l), " + ".join(num_p)),
                      (fmt(total, latex=True, fractions=fr), fmt(total, fractions=fr))]
            keep = [st for i, st in enumerate(stages) if i == 0 or st[1] != stages[i - 1][1]]
            out.append(Chain(lhs, tuple(Math(a, p) for a, p in keep)))
    # The product over the steps, and the check that it is the derivative over all of them.
    order = list(steps)
    last, first = order[-1], order[0]
    start = {s_: prev(first) for s_ in states}
    seeds = [(b, prev(first)) for b in states]
    exact_run = run.with_overrides({}, seeds=seeds)
    if len(states) == 1:
        a = states[0]
        factors = [Js[j][(a, a)] for j in reversed(order)]
        prod: Number = Fraction(1)
        for f in factors:
            prod = prod * f
        lhs = _pd(ctx, (a, last), (a, start[a]))
        sym = [_pd(ctx, (a, j), (a, prev(j))) for j in reversed(order)]
        out.append(Para(("Over the steps, the product of the Jacobians:",)))
        out.append(Chain(lhs, (Math(" ".join(m.latex for m in sym), "·".join(m.plain for m in sym)),
                               Math(dot_l.join(num(f, True) for f in factors), dot_p.join(num(f, False) for f in factors)),
                               Math(fmt(prod, latex=True, fractions=fr), fmt(prod, fractions=fr)))))
        ref = exact_run.deriv(a, last, (a, start[a]))
        if not math.isclose(float(prod), float(ref), rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"the product of the Jacobians {prod} is not d{a}_{last}/d{a}_0 = {ref}")
        return out

    def mat(J: dict, latex: bool) -> str:
        rows = [[fmt(J[(a, b)], latex=latex, fractions=fr) for b in states] for a in states]
        if latex:
            return "\\begin{pmatrix} " + " \\\\ ".join(" & ".join(r) for r in rows) + " \\end{pmatrix}"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"

    total = {(a, b): Fraction(int(a == b)) for a in states for b in states}
    for j in order:  # J_last ... J_first: each step's on the left
        total = {(a, b): sum((Js[j][(a, k)] * total[(k, b)] for k in states), Fraction(0))
                 for a in states for b in states}
    names_l = ", ".join(ctx.name(a, last) for a in states)
    names0_l = ", ".join(ctx.name(b, start[b]) for b in states)
    names_p = ", ".join(ctx.name(a, last, latex=False) for a in states)
    names0_p = ", ".join(ctx.name(b, start[b], latex=False) for b in states)
    out.append(Para(tuple(["The Jacobian of the state (", Math(names_l, names_p), ") at each step, rows ",
                           "the state now, columns the state it reads, and their product over the steps:"])))
    js = [f"J_{{{j}}}" for j in reversed(order)]
    out.append(Chain(Math(f"\\frac{{\\partial ({names_l})}}{{\\partial ({names0_l})}}",
                          f"d({names_p})/d({names0_p})"),
                     (Math(" ".join(js), " ".join(x.replace("{", "").replace("}", "") for x in js)),
                      Math(" ".join(mat(Js[j], True) for j in reversed(order)),
                           " ".join(mat(Js[j], False) for j in reversed(order))),
                      Math(mat(total, True), mat(total, False)))))
    a = states[0]
    ref = exact_run.deriv(a, last, (a, start[a]))
    if not math.isclose(float(total[(a, a)]), float(ref), rel_tol=1e-9, abs_tol=1e-12):
        raise AssertionError(f"the product of the Jacobians {total[(a, a)]} is not d{a}/d{a}_0 = {ref}")
    out.append(Chain(_pd(ctx, (a, last), (a, start[a])),
                     (Math(fmt(total[(a, a)], latex=True, fractions=fr), fmt(total[(a, a)], fractions=fr)),)))
    return out


def task_jacobian(ctx: Context) -> Part:
    from ..formulas.gradient import gradient_formula
    from ..language.gates import analyze

    groups = _jacobian_groups(ctx)
    if not groups:
        raise UsageError("the jacobian task needs a recurrent variable (one read at an earlier step)")
    report = analyze(ctx.model)
    asked = []
    for _, m, states, steps, prev in groups:
        st = states[0]
        j = "t+1" if prev(2) == 3 else "t-1"
        asked.append(Math(f"\\frac{{\\partial {ctx.name(st, 't')}}}{{\\partial {ctx.name(st, j)}}}",
                          f"d{ctx.name(st, 't', latex=False)}/d{ctx.name(st, j, latex=False)}"))
    if ctx.phased:
        q = [Para(tuple(["Derive "] + _listing(asked) + [" (the encoder's chain and the decoder's) and say what "
                                                          "they do to the gradient that flows back from the "
                                                          "decoder's outputs through the context into the "
                                                          "encoder."]))]
    else:
        q = [Para(tuple(["Derive "] + _listing(asked) + [" and say what " + ("they do" if len(asked) > 1 else
                                                                                "it does") +
                                                          " to the gradient that flows back through "] +
                        _listing([ctx.math(g[2][0], "t") for g in groups]) + [" over many steps."]))]
    s: list = []
    for run, m, states, steps, prev in groups:
        st = states[0]
        if ctx.phased:
            s.append(Para(("The " + ("decoder" if m.phases is None and st in ctx.model.phases.decoder.variables
                                     else "encoder") + "'s chain:",)))
        forward_chain = prev(2) == 1
        if forward_chain and not ctx.model.backward:
            try:
                first = steps[0] - 1
                s += _formula_chains(gradient_formula(m, f"{st}[{steps[-1]}]", f"{st}[{first}]", latex=True))
            except RnnvizError:
                pass
        else:
            s.append(Para(("The chain runs " + ("forward" if forward_chain else "backward") + " in time; its "
                           "Jacobian from one step to the next:",)))
        if run is not None:
            s += _jacobian_worked(ctx, run, states, steps, prev)
    if report.cell_state:
        forget = [g.name for g in report.gates if g.role in ("forget", "update") and g.target == report.cell_state]
        s.append(Para(tuple(["Along the cell state the Jacobian is the forget gate on the diagonal"] +
                            ([" (", ctx.math(forget[0], "t"), ")"] if forget else []) +
                            [": no weight matrix and no squashing derivative stand in the product, so where the "
                             "forget gate is near 1 the gradient passes back over many steps almost unchanged; "
                             "the network learns when to let it fade. The other entries (through the gates, "
                             "which read the previous hidden state) carry the recurrent weights."])))
    else:
        s.append(Para(("The gradient back over k steps is a product of k such Jacobians. Each holds the recurrent "
                       "weight and the derivative of the activation; when their norms stay below 1 the product "
                       "shrinks geometrically (vanishing gradient), above 1 it can grow (exploding gradient).",)))
    if ctx.phased:
        s.append(Para(tuple(["In the encoder-decoder the gradient of a decoder output reaches the encoder only "
                             "through "] + _listing([ctx.math(c) for c in ctx.model.phases.contexts]) +
                            [": it crosses the decoder's Jacobians back to each step that reads the context, "
                             "then the encoder's from its last step back to the first, so the first inputs get "
                             "the longest products."])))
    return Part("jacobian", TASKS["jacobian"], q, s)


_BUILDERS = {"draw": task_draw, "forward": task_forward, "plot": task_plot, "params": task_params,
             "grad": task_grad, "loss": task_loss, "gates": task_gates, "formula": task_formula, "jacobian": task_jacobian}


def build_part(task: str, ctx: Context) -> Part:
    """The part of ``task`` for the variant of ``ctx``."""
    part = _BUILDERS[task](ctx)
    if ctx.displayed_values:  # the large matrices the question's sentence names, right after it
        part.question[1:1] = ctx.displayed_values
        ctx.displayed_values = []
    return part
