"""The forward pass and backprop of an encoder-decoder: two runs, tied by the context.

The encoder runs over the input sequence (steps 1..T) and computes, once at step T, the
contexts (``c = h_T``) and the decoder's starts (``s_0 = \\tanh(D c)``). The decoder then
runs over the output sequence (steps 1..T'), reading each context as the same number at
every step and starting each chain from its start. Backprop goes the other way: through
the decoder's steps, then into the context, the start and through the encoder's steps
(:func:`rnnviz.numeric.grad.backprop` from the decoder's adjoints of the contexts, summed
over its steps, and of the starts).

T' is a value line's (``T' = 3``, also ``n_y = 3``) or, without one, as many steps as the
decoder's inputs are given for: a decoder that reads its previous target ``y_{t-1}`` (teacher
forcing) runs one step per ``y_0, y_1, ...`` given; one that reads its own previous output
needs ``T'``.

Example:
    >>> from rnnviz import load_model
    >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_t = tanh(A s_{t-1} + B y_{t-1} + C c)\\n"
    ...                "W = 0.5, U = 1, A = 0.5, B = 1, C = 1, x = [1, -1], y_0 = 0, y_1 = 1")
    >>> tr = forward_phased(m)
    >>> tr.steps, tr.decoder_steps, round(float(tr.value("c", 2)), 6)
    (2, 2, -0.550573)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import NumericError, ValueSpecError
from ..language import Model
from .grad import Gradients, _seed, backprop, gradients
from .target import Target, TargetError, _error, parse_target, relabel
from .shapes import Shapes
from .trace import Trace
from .values import given_values

__all__ = ["PhasedTrace", "forward_phased", "gradients_phased", "decoder_length"]


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
    """
    from .forward_pass import _Runner

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


def _stored(trace: Trace, name: str, t: int, g: np.ndarray) -> np.ndarray:
    lo, hist = trace._history[name]
    return np.reshape(g, np.shape(hist[t - lo]))


def _collect(model: Model, trace: Trace, adj: dict, out: Gradients, skip_inputs=(), skip_initial=()) -> None:
    """Put the adjoints of one run into ``out``, as :func:`rnnviz.numeric.grad.gradients` does."""
    def grad_of(name: str, t: int) -> np.ndarray:
        lo, hist = trace._history[name]
        g = adj.get((name, t))
        return trace._unbatch(name, g if g is not None else np.zeros_like(hist[t - lo]))

    for name in model.inputs:
        if name in skip_inputs:
            continue
        lo, hist = trace._history[name]
        for t in range(max(lo, 1), lo + len(hist)):
            out.inputs[(name, t)] = out.nodes[(name, t)] = grad_of(name, t)
    for name in model.variables:
        lo, hist = trace._history[name]
        for t in range(lo, lo + len(hist)):
            if hist[t - lo] is None:  # a variable computed once has no value before step T
                continue
            g = out.nodes[(name, t)] = grad_of(name, t)
            if (t <= 0 or t > trace.steps) and name not in skip_initial:
                out.initial[(name, t)] = g


def gradients_phased(model: Model, trace: PhasedTrace, target: str | Target, *, option: str = "--of") -> Gradients:
    """d target / d everything: through the decoder's steps, the context and the encoder's steps.

    A target in the encoder (``h[2]``, ``c``) reaches the encoder only; one in the decoder
    (``o[3]``, the total loss) reaches both. ``Gradients.steps`` is T and
    ``Gradients.decoder_steps`` T'.
    """
    phases = model.phases
    encoder, decoder = trace.encoder.model, trace.decoder.model
    try:
        tgt = parse_target(target, model) if isinstance(target, str) else target
    except TargetError as err:
        raise relabel(err, option) from None
    text = target if isinstance(target, str) else str(target)
    T, n = trace.steps, trace.decoder_steps
    chains = {chain for chain, _ in phases.starts}
    out = Gradients(tgt, steps=T, decoder_steps=n)
    if phases.phase_of(tgt.name) == "decoder":
        if tgt.step is not None and tgt.step > n:
            raise relabel(_error(f"'{tgt}' is beyond the decoder's last step: it runs {n} step{'s' * (n != 1)} "
                                 f"(t = 1..{n})", text, hint=f"use a step from 1 to {n}, or a longer decoder "
                                 f"(T' = {tgt.step}, or more decoder inputs)"), option)
        gd = gradients(decoder, trace.decoder, tgt if isinstance(target, Target) else text, option=option)
        with np.errstate(over="ignore", invalid="ignore"):
            _, dec_adj = backprop(trace.decoder, _seed(trace.decoder, tgt, text))
        seeds = {}
        for c in phases.contexts:
            total = sum(gd.inputs[(c, t)] for t in range(1, n + 1))
            seeds[(c, T)] = _stored(trace.encoder, c, T, np.asarray(total, dtype=np.float64))
        for chain, start in phases.starts:
            seeds[(start, T)] = _stored(trace.encoder, start, T, np.asarray(gd.initial[(chain, 0)]))
        dec_params = gd.params
        dec_nodes = gd
        # The decoder's first input is read at step 0 (y_0, the start of the targets): its
        # derivative is as much a part of the answer as y_1's.
        for name in decoder.inputs:
            if name in phases.contexts or (name, 0) not in dec_adj:
                continue
            g = trace.decoder._unbatch(name, dec_adj[(name, 0)])
            gd.inputs[(name, 0)] = gd.nodes[(name, 0)] = g
    else:
        gd = None
        dec_params = {p: np.zeros_like(np.asarray(v, dtype=np.float64)) for p, v in trace.decoder.params.items()}
        seeds = None
    with np.errstate(over="ignore", invalid="ignore"):
        if seeds is None:
            ge = gradients(encoder, trace.encoder, tgt if isinstance(target, Target) else text, option=option)
            enc_params, adj = ge.params, None
        else:
            enc_params, adj = backprop(trace.encoder, seeds)
    bad = [k for k, v in list(enc_params.items()) + list((adj or {}).items()) if not np.isfinite(v).all()]
    if bad:
        what = bad[0] if isinstance(bad[0], str) else f"{bad[0][0]}[{bad[0][1]}]"
        raise NumericError(f"the gradient of {tgt} overflowed (or became NaN) at {what}",
                           hint="smaller weights or inputs, or fewer steps, keep the gradients finite")
    params = dict(enc_params)
    for p, g in dec_params.items():
        params[p] = params[p] + g if p in params else g
    # Parameters in the models' order: the encoder's, then the decoder's.
    out.params = {p: params[p] for p in model.parameters if p in params}
    if adj is None:
        out.inputs.update(ge.inputs)
        out.initial.update(ge.initial)
        out.nodes.update(ge.nodes)
    else:
        _collect(encoder, trace.encoder, adj, out)
    if gd is not None:
        out.inputs.update({k: v for k, v in sorted(dec_nodes.inputs.items()) if k[0] not in phases.contexts})
        out.initial.update({k: v for k, v in dec_nodes.initial.items() if k[0] not in chains})
        out.nodes.update({k: v for k, v in dec_nodes.nodes.items() if k[0] not in phases.contexts})
    else:
        _collect(decoder, trace.decoder, {}, out, skip_inputs=phases.contexts, skip_initial=chains)
    return out
