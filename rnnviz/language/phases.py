"""Phases: an encoder over the input sequence and a decoder over the output sequence.

The encoder-decoder of Goodfellow et al. (§10.4, Fig. 10.12) and of d2l.ai's seq2seq is
written in one file:

    h_t = \\tanh(W h_{t-1} + U x_t)              encoder, t = 1..T (T: the input's length)
    c = h_T                                     the context, computed once at the encoder's end
    s_0 = \\tanh(D c)                            the decoder's start, computed from the context
    s_t = \\tanh(A s_{t-1} + B y_{t-1} + C c)    decoder, t = 1..T' (T': the output's length)
    o_t = E s_t

A *context* is a variable computed once at the encoder's last step (``c = h_T``,
``C = \\tanh(V h^{(\\tau)})``) that an equation at every step reads; a *start* is the
decoder chain's value at step 0 computed from a context (``s_0 = \\tanh(D c)``, also
``s[0]``, ``s^{(0)}``). The equations that read a context at every step, the chains that
start from one, and every equation tied to them by a read are the decoder; the others
are the encoder. The two run over steps of their own: the encoder over the input
sequence (T steps), the decoder over the output sequence (T' steps: as many as its inputs
are given for, so ``y_0, y_1, y_2`` read as ``y_{t-1}`` make three, or ``T' = 3``, also
``n_y = 3``, when the decoder reads its own previous output).

What has no meaning is refused with its position: an encoder equation that reads the
context (it is known only once the encoder has ended), a decoder equation that reads an
encoder variable at a step (or the other way round: the two have different steps), and
an input read by both.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_t = tanh(A s_{t-1} + B y_{t-1} + C c)")
    >>> m.phases.encoder.variables, m.phases.contexts, m.phases.decoder.variables
    (['h', 'c'], ('c',), ['s'])
"""

from __future__ import annotations

from collections.abc import Callable
from .._dataclasses import dataclass, field

from ..errors import RnnvizError, Span
from . import syntax as S
from .model_syntax import map_refs, refs

__all__ = ["Split", "split_phases", "start_lhs", "with_context_at_t", "decoder_length_line", "LENGTH_NAMES",
           "DECODER"]

#: The phase of the decoder's sweeps (:attr:`rnnviz.language.directions.Sweep.phase`).
DECODER = "decoder"

#: Value lines that give the decoder's length: d2l.ai's ``T'`` and the book's ``n_y``.
LENGTH_NAMES = ("T^prime", "n_y")


@dataclass
class Split:
    """The statements of each phase, and what ties them."""

    encoder: list[S.Assign]
    context: list[S.Assign]  # computed once, at the encoder's last step (contexts and starts)
    decoder: list[S.Assign]
    contexts: tuple[str, ...]  # the once variables the decoder reads
    starts: dict[str, str] = field(default_factory=dict)  # decoder chain -> the variable that starts it


def decoder_length_line(statements: list, error: Callable[..., RnnvizError]) -> tuple[int | None, Span | None]:
    """Take the decoder's length lines (``T' = 3``, ``n_y = 3``) out of ``statements``: (the last one's
    length, its span), or (None, None). A length that is no whole number of steps is an error."""
    from .model_syntax import constant, is_constant

    length, span = None, None
    for s in list(statements):
        if not (isinstance(s, S.Assign) and s.lhs.canonical in LENGTH_NAMES and s.lhs.time is None):
            continue
        value = constant(s.rhs) if is_constant(s.rhs) else None
        if value is None or value != int(value) or value < 1:
            written = "T'" if s.lhs.canonical == "T^prime" else str(s.lhs)
            raise error(f"{written} is the decoder's length (the output sequence's steps): a whole number of "
                        "at least 1, as in T' = 3", s.rhs.span or s.span)
        length, span = int(value), s.span
        statements.remove(s)
    return length, span


def start_lhs(stmt: S.Assign) -> S.Assign:
    """``s[0] = \\tanh(D c)`` and ``s^{(0)} = ...`` spelled ``s_0 = ...`` (a name of its own)."""
    t = stmt.lhs.time
    if t is None or not t.absolute or t.end or t.offset != 0:
        return stmt
    n = stmt.lhs
    return S.Assign(S.Name(n.base, n.accent, n.subs + ("0",), n.sups, None, n.bold, n.span),
                    stmt.rhs, stmt.caption, stmt.span, stmt.earlier)


def with_context_at_t(stmt: S.Assign, contexts: set[str]) -> S.Assign:
    """A decoder equation with each context read as an input at step t (the same number at every step)."""
    at_t = S.Time(0)

    def fn(ref: S.Ref) -> S.Node:
        if ref.name.time is None and ref.name.canonical in contexts:
            return S.Ref(ref.name.with_time(at_t), ref.span)
        return ref

    return S.Assign(stmt.lhs, map_refs(stmt.rhs, fn), stmt.caption, stmt.span, stmt.earlier)


def _reads(stmt: S.Assign) -> list[S.Name]:
    return [n for n, _ in refs(stmt.rhs)]


def split_phases(eq_stmts: list[S.Assign], once_ids: set[str], end_name: Callable[[S.Name], str | None],
                 error: Callable[[str, Span | None], RnnvizError]) -> Split | None:
    """The encoder, context and decoder statements of ``eq_stmts``; None when there is one phase.

    Args:
        eq_stmts: the equations, in file order (once-computed ones included).
        once_ids: the targets computed once, at the last step.
        end_name: the variable a read of the last step names (``h_T`` -> ``h``), else None.
        error: builds the error to raise from a message and a span.
    """
    once = [s for s in eq_stmts if s.lhs.canonical in once_ids]
    per_step = [s for s in eq_stmts if s.lhs.canonical not in once_ids]
    targets = {s.lhs.canonical for s in per_step}
    by_target = {s.lhs.canonical: s for s in per_step}
    starts: dict[str, str] = {}
    for s in once:
        n = s.lhs
        if n.numeric_sub == 0 and n.without_last_sub().canonical in targets:
            starts[n.without_last_sub().canonical] = n.canonical
    start_names = set(starts.values())
    context_names = once_ids - start_names
    contexts = tuple(dict.fromkeys(n.canonical for s in per_step for n in _reads(s)
                                   if n.time is None and n.canonical in once_ids))
    if not contexts and not starts:
        return None
    # What the context needs: the per-step variables its computation reads, and theirs.
    needed: dict[str, tuple[str, S.Name]] = {}  # variable -> (who reads it, the read)
    frontier = [(end_name(n), s.lhs.canonical, n) for s in once for n in _reads(s) if end_name(n) in targets]
    frontier.reverse()
    while frontier:
        name, reader, read = frontier.pop(0)
        if name in needed:
            continue
        needed[name] = (reader, read)
        frontier += [(n.canonical, name, n) for n in _reads(by_target[name]) if n.canonical in targets]
    for name in needed:
        for n in _reads(by_target[name]):
            if n.time is None and n.canonical in once_ids:
                chain, at = [], name
                while at in needed:
                    reader, read = needed[at]
                    chain.append(f"{reader} reads {read}")
                    at = reader
                raise error(f"'{n.canonical}' is computed once, at the last step, so an equation at every step "
                            f"cannot read it: {n.canonical} needs {name} ({', '.join(reversed(chain))}), and {name} "
                            f"would need {n.canonical} before it", n.span)
    if not needed:
        first = next(iter(context_names or start_names))
        raise error(f"'{first}' is read by the decoder as its context, but it reads no encoder variable "
                    "at its last step; write the context from the encoder's end, as in c = h_T", 
                    next(s for s in once if s.lhs.canonical == first).lhs.span)
    # Grow both phases one read at a time from their seeds; where they meet, a read crosses.
    side: dict[str, str] = {name: "encoder" for name in needed}
    for s in per_step:
        t = s.lhs.canonical
        if t in side:
            continue
        if t in starts or any(n.time is None and n.canonical in context_names for n in _reads(s)):
            side[t] = "decoder"
    edges = [(s.lhs.canonical, n) for s in per_step for n in _reads(s) if n.canonical in targets]
    changed = True
    while changed:
        changed = False
        for a, n in edges:
            b = n.canonical
            sa, sb = side.get(a), side.get(b)
            if sa and sb and sa != sb:
                if sa == "decoder":
                    raise error(f"the decoder reads '{b}' at a step ({n}), but {b} belongs to the encoder, "
                                "whose steps are not the decoder's; the decoder reads the encoder through "
                                "the context (as in c = h_T)", n.span)
                raise error(f"the encoder reads '{b}' at a step ({n}), but {b} belongs to the decoder, "
                            "which runs after the encoder has ended", n.span)
            if sa and not sb:
                side[b] = sa
                changed = True
            elif sb and not sa:
                side[a] = sb
                changed = True
    inputs: dict[str, tuple[str, S.Name]] = {}
    for s in per_step:
        phase = side.get(s.lhs.canonical, "encoder")
        for n in _reads(s):
            c = n.canonical
            if n.time is None or c in targets:
                continue
            if c in inputs and inputs[c][0] != phase:
                dec = n if phase == "decoder" else inputs[c][1]
                raise error(f"'{c}' is read by both the encoder and the decoder; each runs over a sequence "
                            "of its own (the input of length T, the output of length T'), so give the decoder "
                            "an input of its own, such as y_{t-1}", dec.span)
            inputs.setdefault(c, (phase, n))
    encoder = [s for s in per_step if side.get(s.lhs.canonical, "encoder") == "encoder"]
    decoder = [s for s in per_step if side.get(s.lhs.canonical) == "decoder"]
    return Split(encoder, once, decoder, contexts, starts)
