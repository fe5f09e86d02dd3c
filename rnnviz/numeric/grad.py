"""Backpropagation through time over the forward pass's trace.

The forward pass (:func:`rnnviz.numeric.forward_pass.forward`) keeps every node of every
equation at every step, and :mod:`rnnviz.numeric.ops` keeps each operation's backward
beside its forward. Backprop here walks the same trees in reverse, in
min-char-rnn's shape: a loop over the steps from the last to the first that
carries the gradient of each variable into the earlier steps it was read at
(``adjoint[(h, t-1)] += ...``), and accumulates the parameters' gradients over
the steps.

The derivative is of a scalar :class:`~rnnviz.numeric.target.Target` (``h[3]``,
``h[3][0]``, ``sum(h)``; a vector, and a batch, is summed) with respect to every
parameter, every input at every step, every initial state, and every computed
variable at every step.

Example:
    >>> from rnnviz import load_model
    >>> from rnnviz.numeric.forward_pass import forward
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    >>> g = gradients(m, forward(m), "h[3]")
    >>> float(g.params["V"]), float(g.params["W"]), float(g.inputs[("x", 3)])
    (0.0, 1.0, 3.0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import NumericError
from ..language import Model
from ..language import expr as E
from ..language.parse import parse_text, suggest
from .ops import unbroadcast
from .target import Target, TargetError, _error, parse_target, relabel

__all__ = ["Gradients", "gradients", "gradients_phased", "backprop", "state_grad_norms", "phased_state_grad_norms",
           "recurrent_spectra", "select"]

Key = tuple[str, int]


@dataclass
class Gradients:
    """d target / d everything, for one run.

    Attributes:
        target: what was differentiated.
        params: parameter name -> array in the parameter's shape.
        inputs: (input name, step) -> array (steps 1..T, and any step read ahead).
        initial: (variable, step) -> array, for the starting values of the recurrent
            variables: steps <= 0 of a forward chain, T+1.. of a backward one.
        nodes: (name, step) -> d target / d that value, for every computed
            variable at steps 1..T, every initial state and every input: what
            the unrolled diagram annotates. Shapes are those of ``trace.value``.
    """

    target: Target
    params: dict[str, np.ndarray] = field(default_factory=dict)
    inputs: dict[Key, np.ndarray] = field(default_factory=dict)
    initial: dict[Key, np.ndarray] = field(default_factory=dict)
    nodes: dict[Key, np.ndarray] = field(default_factory=dict)
    #: T, the steps of the run (an encoder-decoder's: the encoder's).
    steps: int = 0
    #: T', an encoder-decoder's decoder steps (0 for a model of one phase).
    decoder_steps: int = 0

    def named(self) -> dict[str, np.ndarray]:
        """Every gradient by its canonical name: ``W``, ``x[1]``, ``h[0]``."""
        out: dict[str, np.ndarray] = dict(self.params)
        out.update({f"{n}[{t}]": v for (n, t), v in self.inputs.items()})
        out.update({f"{n}[{t}]": v for (n, t), v in self.initial.items()})
        return out

    def to_json(self, wrt: Iterable[str] | None = None, *, precision: int | None = None) -> str:
        """``{"of": "h[3]", "grad": {"V": ..., "x[1]": ...}}``; scalars as numbers, arrays as lists."""
        named = self.named()
        keys = list(wrt) if wrt is not None else list(named)
        return json.dumps({"of": str(self.target),
                           "grad": {k: _plain(named[k], precision) for k in keys}})


def _plain(a: np.ndarray, precision: int | None):
    a = np.asarray(a, dtype=float)
    if precision is not None:
        a = np.round(a, precision)
    a = a + 0.0  # turns -0.0 (a relu' of 0 times a negative) into 0.0
    return float(a) if a.ndim == 0 else a.tolist()


def _seed(trace, tgt: Target, text: str) -> dict[Key, np.ndarray]:
    """The adjoint of the target itself: ones (a sum), or one component."""
    shape = trace.shapes.of(tgt.name)
    size = shape[0] if shape else 1
    if tgt.component is not None and tgt.component >= size:
        raise _error(f"'{tgt}': {tgt.name} has {size} entr{'ies' if size != 1 else 'y'} "
                     f"(components 0..{size - 1})", text)
    seeds = {}
    once = tgt.name in trace.model.once
    if once and tgt.step is not None and tgt.step != trace.steps:
        raise _error(f"'{tgt}': {tgt.name} is computed once, at the last step ({tgt.name}[{trace.steps}]); "
                     f"write --of {tgt.name}", text)
    for t in tgt.steps(trace.steps):
        lo, hist = trace._history[tgt.name]
        stored = hist[t - lo]
        if stored is None:  # a variable computed once has no value before the last step
            continue
        if tgt.component is None or np.ndim(stored) == 0:  # h[3][0] of a number is the number
            g = np.ones_like(stored)
        else:
            g = np.zeros_like(stored)
            g[..., tgt.component] = 1.0
        seeds[(tgt.name, t)] = g
    if tgt.mean:  # L = \frac{1}{T} \sum_t L_t
        seeds = {k: v / trace.steps for k, v in seeds.items()}
    return seeds


def backprop(trace, seeds: dict[Key, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[Key, np.ndarray]]:
    """Reverse-mode over the unrolled trace from the adjoints ``seeds``.

    Returns the parameter gradients and the adjoint of every (name, step)
    reached, in the stored shapes of the trace (a batched scalar is ``(B, 1)``).
    """
    model = trace.model
    params = {p: np.zeros_like(np.asarray(v, dtype=np.float64)) for p, v in trace.params.items()}
    adj: dict[Key, np.ndarray] = {k: np.array(v, dtype=np.float64) for k, v in seeds.items()}
    last = max((t for _, t in seeds), default=0)
    T = trace.steps
    by_name = {eq.target: eq for eq in model.equations}
    # The forward pass's own order, reversed: the last sweep first, each against its direction.
    order = [(t, by_name[name]) for sweep in model.sweeps for t in sweep.steps(T) for name in sweep.targets]
    if len(model.sweeps) == 1 and model.sweeps[0].direction == "forward":
        order = [(t, eq) for t, eq in order if t <= last]  # nothing after the last seed feeds it
    for t, eq in reversed(order):
        g = adj.get((eq.target, t))
        if g is None:
            continue
        plan = trace.plan[eq.target]
        vals = trace.backward_nodes(eq.target, t)
        grads: list = [None] * len(plan)
        grads[0] = g
        # Pre-order puts every parent before its children: one forward sweep is reverse mode.
        for p in plan:
            gi = grads[p.index]
            if gi is None:
                continue
            node = p.expr
            if p.op is not None:
                inputs = tuple(vals[k] for k in p.children)
                out = vals[p.index]
                if p.index == 0 and np.shape(gi) != np.shape(out):  # pragma: no cover - defensive
                    gi = unbroadcast(gi, np.shape(out))
                for k, gk in zip(p.children, p.op.backward(inputs, out, gi, p.ctx)):
                    grads[k] = gk if grads[k] is None else grads[k] + gk
            elif isinstance(node, E.Param):
                params[node.name] = params[node.name] + unbroadcast(gi, params[node.name].shape)
            elif isinstance(node, E.Var):
                key = (node.name, t - node.delay)
                lo, hist = trace._history[node.name]
                gi = unbroadcast(gi, hist[key[1] - lo].shape)
                adj[key] = gi if key not in adj else adj[key] + gi
    return params, adj


def gradients(model: Model, trace, target: str | Target, *, option: str = "--of") -> Gradients:
    """The gradient of ``target`` with respect to everything the run used.

    Args:
        model: the model (the same one the trace ran).
        trace: a :class:`rnnviz.numeric.forward_pass.Trace` (run with ``keep_nodes=True``).
        target: ``"h[3]"``, ``"h_3"``, ``"h[3][0]"``, ``"sum(h)"`` or a :class:`Target`.

    Raises:
        TargetError: an unknown variable, a step beyond the run, a component out of range;
            it points into ``option``, the command-line option the target came with.
    """
    if model.phases is not None:  # an encoder-decoder: through the decoder, the context, the encoder
        return gradients_phased(model, trace, target, option=option)
    try:
        return _gradients(model, trace, target)
    except TargetError as err:
        raise relabel(err, option) from None


def _gradients(model: Model, trace, target: str | Target) -> Gradients:
    text = target if isinstance(target, str) else str(target)
    tgt = parse_target(target, model) if isinstance(target, str) else target
    tgt.check_steps(trace.steps, text=text)
    with np.errstate(over="ignore", invalid="ignore"):
        params, adj = backprop(trace, _seed(trace, tgt, text))
    bad = [k for k, v in list(params.items()) + list(adj.items()) if not np.isfinite(v).all()]
    if bad:
        what = bad[0] if isinstance(bad[0], str) else f"{bad[0][0]}[{bad[0][1]}]"
        raise NumericError(f"the gradient of {tgt} overflowed (or became NaN) at {what}",
                           hint="smaller weights or inputs, or fewer steps, keep the gradients finite")
    out = Gradients(tgt, params=params, steps=trace.steps)

    def grad_of(name: str, t: int) -> np.ndarray:
        lo, hist = trace._history[name]
        g = adj.get((name, t))
        return trace._unbatch(name, g if g is not None else np.zeros_like(hist[t - lo]))

    for name in model.inputs:
        lo, hist = trace._history[name]
        for t in range(max(lo, 1), lo + len(hist)):
            out.inputs[(name, t)] = out.nodes[(name, t)] = grad_of(name, t)
    for name in model.variables:
        lo, hist = trace._history[name]
        for t in range(lo, lo + len(hist)):
            g = grad_of(name, t)
            out.nodes[(name, t)] = g
            if t <= 0 or t > trace.steps:  # a starting value: step 0 forward, T+1 backward
                out.initial[(name, t)] = g
    return out


def select(model: Model, grads: Gradients, wrt: Iterable[str]) -> list[str]:
    """Canonical names (``W``, ``x[1]``, ``h[0]``) for the ``--wrt`` words, in order.

    ``x`` alone means every step of the input ``x``; ``h`` alone every initial
    state of ``h``; ``x_1`` and ``h^{(0)}`` are spellings of ``x[1]``, ``h[0]``.

    Raises:
        TargetError: a word that is not a parameter, an input at a step of the
            run, or an initial state.
    """
    named = grads.named()
    out: list[str] = []
    for word in wrt:
        try:
            name = parse_text(f"{word} = 0", "--wrt").statements[0].lhs
        except Exception:
            raise TargetError(f"cannot read '{word}'; --wrt takes parameters (W), inputs at a step (x[1]) "
                              "and initial states (h[0])") from None
        canonical, step = name.canonical, None
        if name.time is not None and name.time.end:
            step = grads.steps + name.time.offset  # g[T+1]
        elif name.time is not None and name.time.absolute:
            step = name.time.offset
        elif (found := model.step_in_subscript(name)) is not None:
            canonical, step = found
        sym = model.symbols.get(canonical)
        if sym is None or sym.kind == "function":
            known = [n for n in model.symbols if model.symbols[n].kind != "function"]
            close = suggest(canonical, known)
            raise TargetError(f"'{word}' is not a parameter, input or initial state of the equations",
                              hint=f"did you mean {close}?" if close else
                              "the equations have " + ", ".join(model.parameters + model.inputs)
                              + "".join(f", {r}[0]" for r in model.recurrent)
                              + "".join(f", {r}[T+1]" for r in model.backward))
        if sym.kind == "parameter":
            if step is not None or name.time is not None:
                raise TargetError(f"'{word}': {canonical} is a parameter, it has no steps; write --wrt {canonical}")
            out.append(canonical)
            continue
        pool = grads.inputs if sym.kind == "input" else grads.initial
        if step is None and name.time is None:
            out.extend(f"{n}[{t}]" for (n, t) in pool if n == canonical)
            continue
        if step is None or (canonical, step) not in pool:
            if sym.kind == "input":
                steps = sorted(t for (n, t) in pool if n == canonical)
                raise TargetError(f"'{word}': the run has {canonical} at steps {steps[0]}..{steps[-1]}")
            raise TargetError(f"'{word}' is not an initial state: {canonical} is computed at steps 1, 2, ...; "
                              f"--wrt takes its initial value {canonical}[0]",
                              hint="d target / d a computed value is in the Python API: Gradients.nodes")
        out.append(f"{canonical}[{step}]")
    for key in out:
        assert key in named, key
    return list(dict.fromkeys(out))


def state_grad_norms(model: Model, trace, target: str | Target) -> dict[str, list[float]]:
    """The norm of d target / d (state at step t), t = 0..T, for each recurrent variable; a chain that
    runs backward (a bidirectional RNN's) over t = 1..T+1, its list starting with NaN for t = 0 (it
    has no step 0), so that the list's index is the step.

    Example:
        >>> from rnnviz import load_model
        >>> from rnnviz.numeric.forward_pass import forward
        >>> m = load_model("h_t = tanh(w h_{t-1} + x_t)\\nw = 0.5, h_0 = 0, x = [1, 1, 1]")
        >>> [round(v, 3) for v in state_grad_norms(m, forward(m), "h[3]")["h"]]
        [0.002, 0.011, 0.101, 1.0]
    """
    g = gradients(model, trace, target)
    out = {name: [_norm(g.nodes[(name, t)]) for t in range(trace.steps + 1) if (name, t) in g.nodes]
           for name in model.recurrent}
    for name in model.backward:
        out[name] = [math.nan] + [_norm(g.nodes[(name, t)]) if (name, t) in g.nodes else math.nan
                                  for t in range(1, trace.steps + 2)]
    return out


def phased_state_grad_norms(model: Model, trace, target: str | Target) -> dict[str, dict[str, list[float]]]:
    """An encoder-decoder's :func:`state_grad_norms`: for ``"encoder"`` and ``"decoder"``, the norm
    of d target / d (state at step t) of each of the phase's recurrent variables over its own
    steps (the encoder's t = 0..T, the decoder's t = 0..T').

    Example:
        >>> from rnnviz import load_model
        >>> from rnnviz.numeric.forward_pass import forward
        >>> m = load_model("h_t = tanh(w h_{t-1} + x_t)\\nc = h_T\\ns_t = tanh(a s_{t-1} + y_{t-1} + c)\\n"
        ...                "w = 0.5, a = 0.5, h_0 = 0, s_0 = 0, x = [1, -1], y = [0, 1]")
        >>> {p: {n: len(v) for n, v in d.items()} for p, d in phased_state_grad_norms(m, forward(m), "s[2]").items()}
        {'encoder': {'h': 3}, 'decoder': {'s': 3}}
    """
    g = gradients(model, trace, target)
    ph = model.phases
    out: dict[str, dict[str, list[float]]] = {}
    for phase, sub, steps in (("encoder", ph.encoder, trace.steps), ("decoder", ph.decoder, trace.decoder_steps)):
        out[phase] = {name: [_norm(g.nodes[(name, t)]) for t in range(steps + 1) if (name, t) in g.nodes]
                      for name in sub.recurrent}
    return out


def _norm(value) -> float:
    """The Euclidean norm, scaled first so that squaring 1e200 does not overflow."""
    a = np.abs(np.asarray(value, dtype=np.float64)).ravel()
    top = float(a.max()) if a.size else 0.0
    if not 0 < top < math.inf:
        return top
    return top * float(np.linalg.norm(a / top))


def _acting_on_past(u: E.Expr, recurrent: set[str]) -> list[tuple[str, int | None]]:
    """The recurrent variables read at an earlier step by ``u``; index: which concat block."""
    if isinstance(u, E.Concat):
        return [(name, i) for i, item in enumerate(u.items)
                for name, _ in _acting_on_past(item, recurrent)]
    names = [n.name for n in E.walk(u) if isinstance(n, E.Var) and n.delay != 0 and n.name in recurrent]
    return [(n, None) for n in dict.fromkeys(names)]


def recurrent_spectra(model: Model, trace) -> dict[str, tuple[float, float]]:
    """Spectral radius and largest singular value of each square weight on a previous state.

    A weight ``W`` in ``W h[t-1]`` (or ``h[t-1] W``) is taken whole; in
    ``W [h[t-1], x[t]]`` the block of columns acting on ``h`` is taken, keyed
    ``"W[:, h]"``. A scalar weight is a 1x1 matrix; a vector weight acting
    element-wise is its diagonal matrix.

    Example:
        >>> from rnnviz import load_model
        >>> from rnnviz.numeric.forward_pass import forward
        >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
        >>> recurrent_spectra(m, forward(m))
        {'V': (3.0, 3.0)}
    """
    recurrent = set(model.recurrent) | set(model.backward)  # a backward chain reads its next step
    out: dict[str, tuple[float, float]] = {}
    for eq in model.equations:
        shapes = trace.shapes.nodes[eq.target]
        index = {id(n): i for i, n in enumerate(E.walk(eq.expr))}
        for node in E.walk(eq.expr):
            if not isinstance(node, E.Prod):
                continue
            if isinstance(node.left, E.Param):
                p, u, right = node.left, node.right, False
            elif isinstance(node.right, E.Param):
                p, u, right = node.right, node.left, True
            else:
                continue
            W = np.asarray(trace.params[p.name], dtype=np.float64)
            acting = _acting_on_past(u, recurrent)
            for name, block in acting:
                M = W
                key = p.name
                if block is not None and W.ndim == 2:
                    sizes = [(shapes[index[id(it)]] or (1,))[0] for it in u.items]  # type: ignore[attr-defined]
                    start = sum(sizes[:block])
                    M = W[start:start + sizes[block], :] if right else W[:, start:start + sizes[block]]
                    key = f"{p.name}[:, {name}]"
                if M.ndim == 0:
                    M = M.reshape(1, 1)
                elif M.ndim == 1:
                    M = np.diag(M)
                if M.shape[0] != M.shape[1] or key in out:
                    continue
                rho = float(np.max(np.abs(np.linalg.eigvals(M))))
                sigma = float(np.linalg.norm(M, 2))
                out[key] = (rho, sigma)
    return out


# -- an encoder-decoder: through the decoder's steps, the context and the encoder's -----------

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
