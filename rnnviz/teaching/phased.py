"""The exact pass of an encoder-decoder: the encoder's steps, the context, then the decoder's.

An encoder-decoder (see :mod:`rnnviz.language.phases`) runs as two passes: the encoder
over the input sequence (t = 1..T), then, once at its last step, the context
(``c = h_T``) and the decoder's start (``s_0 = \\tanh(D c)``), then the decoder over the
output sequence (t = 1..T'), reading the context at every step. :class:`PhasedPass`
holds a :class:`~rnnviz.teaching.scalar.ScalarPass` for each phase; the decoder's reads
the context (and its start) as the encoder's values themselves, derivatives included, so
``do_3/dW`` runs back through the context into the encoder. It answers what a solution
sheet asks of one pass: each value (``value``), its derivatives (``deriv``), a worked step
(``worked``) and a backpropagation by hand (``backprop``) over both phases, the context
collecting the paths from every decoder step that reads it.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_0 = tanh(D c)\\n"
    ...                "s_t = tanh(A s_{t-1} + B y_{t-1} + C c)\\nW = 0.5, U = 1, D = 1, A = 0.5, B = 1, C = 1\\n"
    ...                "h_0 = 0, x = [1, -1], y_0 = 0, y_1 = 1")
    >>> run = exact_pass(m, seeds=["W"])
    >>> round(float(run.value("c", 2)), 6), round(float(run.value("s", 2)), 6)
    (-0.550573, 0.116584)
    >>> print(run.worked("s", 1).plain)
    s_1 = tanh(A s_0 + B y_0 + C c) = tanh(0.5·(-0.5009) + 1·0 + 1·(-0.5506)) = tanh(-0.801) = -0.6646
"""

from __future__ import annotations

from fractions import Fraction

from ..language import Model
from .arith import Number, exact
from .scalar import Backprop, Dual, NotScalar, ScalarPass, Worked, backprop_of, is_scalar_model

__all__ = ["PhasedPass", "exact_pass"]


class PhasedPass:
    """The encoder's exact pass and the decoder's, tied by the context.

    ``steps`` is T (the encoder's), ``decoder_steps`` T'. A value computed once (a
    context, a start) is at step T: ``value("c", T)``; a decoder value at its own step.
    """

    def __init__(self, model: Model, encoder: ScalarPass, decoder: ScalarPass) -> None:
        self.model = model
        self.phases = model.phases
        self.encoder, self.decoder = encoder, decoder
        self.steps, self.decoder_steps = encoder.steps, decoder.steps
        self.relu0 = encoder.relu0
        self.functions = {**decoder.functions, **encoder.functions}
        self.fractions = encoder.fractions
        self.seeds = encoder.seeds
        #: The values computed once, at the encoder's last step.
        self.once = frozenset(self.phases.contexts) | frozenset(start for _, start in self.phases.starts)
        self.bare = self.once

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_model(cls, model: Model, trace=None, *, seeds=(), overrides: dict | None = None) -> "PhasedPass":
        """Both passes, with the model's values (exact as written) and the trace's for the rest.

        ``overrides`` ((name, step) -> number) replaces computed values in either phase; a
        replaced context is what the decoder reads.
        """
        from ..numeric.forward_pass import forward

        trace = trace if trace is not None else forward(model)
        enc_model, dec_model = model.phases.bind(model)
        if not (is_scalar_model(enc_model, trace.encoder.shapes) and is_scalar_model(dec_model, trace.decoder.shapes)):
            raise NotScalar("the model has vectors")
        p, i, x = ScalarPass.numbers(enc_model, trace.encoder)
        relu0 = exact(model.relu_prime0)
        overrides = dict(overrides or {})
        enc = ScalarPass(enc_model, p, i, x, trace.encoder.steps, relu0=relu0, functions=trace.encoder.functions,
                         seeds=seeds, overrides={k: v for k, v in overrides.items() if k[0] in enc_model.variables})
        return cls(model, enc, cls._decoder(model, enc, dec_model, trace.decoder, seeds, overrides))

    @staticmethod
    def _decoder(model: Model, enc: ScalarPass, dec_model: Model, trace, seeds, overrides: dict) -> ScalarPass:
        p, i, x = ScalarPass.numbers(dec_model, trace)
        T = enc.steps
        for c in model.phases.contexts:  # the same number at every decoder step, with its derivatives
            for key in [k for k in x if k[0] == c]:
                x[key] = enc.read(c, T)
        for chain, start in model.phases.starts:
            i[(chain, 0)] = enc.read(start, T)
        dec = ScalarPass(dec_model, p, i, x, trace.steps, relu0=enc.relu0, functions=trace.functions, seeds=seeds,
                         overrides={k: v for k, v in overrides.items() if k[0] in dec_model.variables})
        dec.bare = frozenset(model.phases.contexts)
        return dec

    def with_overrides(self, overrides: dict, seeds=None) -> "PhasedPass":
        """The same passes with computed values replaced (a student's wrong ones), and what follows from them."""
        seeds = self.seeds if seeds is None else seeds
        e = self.encoder
        enc = ScalarPass(e.model, {n: d.v for n, d in e.params.items()}, e.initial, e.inputs, e.steps, relu0=e.relu0,
                         functions=e.functions, seeds=seeds,
                         overrides={k: v for k, v in overrides.items() if k[0] in e.model.variables})
        enc.bare = e.bare
        d = self.decoder
        p = {n: x.v for n, x in d.params.items()}
        dec = ScalarPass(d.model, p, self._rewired(d.initial, enc, initial=True), self._rewired(d.inputs, enc),
                         d.steps, relu0=d.relu0, functions=d.functions, seeds=seeds,
                         overrides={k: v for k, v in overrides.items() if k[0] in d.model.variables})
        dec.bare = d.bare
        return PhasedPass(self.model, enc, dec)

    def _rewired(self, values: dict, enc: ScalarPass, *, initial: bool = False) -> dict:
        """The decoder's inputs (initial states) with the contexts (starts) read from ``enc`` again."""
        out = dict(values)
        T = enc.steps
        if initial:
            for chain, start in self.phases.starts:
                out[(chain, 0)] = enc.read(start, T)
        else:
            for key in [k for k in out if k[0] in self.phases.contexts]:
                out[key] = enc.read(key[0], T)
        return out

    # -- what a sheet asks ---------------------------------------------------------
    def phase(self, name: str) -> ScalarPass:
        """The pass that computes (or reads) ``name``."""
        return self.decoder if self.phases.phase_of(name) == "decoder" else self.encoder

    def key(self, name: str, t: int) -> tuple[str, int]:
        """``(name, t)`` as this pass keeps it: a value computed once is at step T."""
        return (name, self.steps) if name in self.once else (name, t)

    def steps_of(self, name: str) -> int:
        """The steps of the phase of ``name``: T or T'."""
        return self.decoder_steps if self.phases.phase_of(name) == "decoder" else self.steps

    @property
    def order(self) -> list[tuple[str, int]]:
        """(name, step) in the order computed: the encoder's steps, the context, the decoder's steps."""
        return self.encoder.order + self.decoder.order

    @property
    def vals(self) -> dict:
        return {**self.encoder.vals, **self.decoder.vals}

    @property
    def params(self) -> dict:
        return {**self.decoder.params, **self.encoder.params}

    def read(self, name: str, t: int) -> Dual:
        return self.phase(name).read(*self.key(name, t))

    def value(self, name: str, t: int) -> Number:
        return self.read(name, t).v

    def deriv(self, name: str, t: int, seed) -> Number:
        return self.read(name, t).d.get(seed, Fraction(0))

    def worked(self, name: str, t: int) -> Worked:
        return self.phase(name).worked(*self.key(name, t))

    def relu_args(self) -> list[Number]:
        return self.encoder.relu_args() + self.decoder.relu_args()

    def local_partials(self, name: str, t: int) -> dict:
        """The partials of a value by what its equation reads; a decoder's read of the context (or
        of its start, ``s_0``) is the encoder's value at step T."""
        local = self.phase(name).local_partials(*self.key(name, t))
        if self.phases.phase_of(name) != "decoder":
            return local
        T, starts = self.steps, dict(self.phases.starts)
        out: dict = {}
        for k, v in local.items():
            if isinstance(k, tuple) and k[0] in self.phases.contexts:
                k = (k[0], T)
            elif isinstance(k, tuple) and k[0] in starts and k[1] == 0:
                k = (starts[k[0]], T)
            out[k] = out.get(k, 0) + v
        return out

    def backprop(self, roots, overrides: dict | None = None) -> Backprop:
        """Backpropagation by hand over both phases: the decoder's steps, the context, the encoder's."""
        return backprop_of(self.order, {k: self.local_partials(*k) for k in self.order}, roots, overrides)

    def step_partials(self, t: int, seeds, *, phase: str = "encoder") -> dict[str, Dual]:
        """The step partials of the encoder's step ``t`` (``phase="decoder"``: the decoder's)."""
        return (self.decoder if phase == "decoder" else self.encoder).step_partials(t, seeds)


def exact_pass(model: Model, *, trace=None, seeds=(), overrides: dict | None = None) -> "ScalarPass | PhasedPass":
    """The exact pass of a model of numbers: a :class:`ScalarPass`, or for an encoder-decoder a :class:`PhasedPass`.

    Raises:
        NotScalar: the model has vectors.
    """
    if model.phases is not None:
        return PhasedPass.from_model(model, trace, seeds=seeds, overrides=overrides)
    return ScalarPass.from_model(model, trace=trace, seeds=seeds, overrides=overrides)
