"""Directions in time: which equations run forward (t = 1..T) and which backward (t = T..1).

A variable that reads itself, or a group it belongs to, at an earlier step (``h[t-1]``) runs
forward; one that reads itself at a later step (``g[t+1]``) runs backward, from T down to 1,
starting from its value at T+1 (zero unless given), as the backward chain of a bidirectional
RNN (Goodfellow et al., §10.3). The equations are grouped into *sweeps*: each sweep is one
loop over the steps in one direction, and a sweep reads only the sweeps before it and, in its
own direction, itself. A plain forward model is one forward sweep, as before.

A group of variables that reads itself both back and ahead (``h`` reads ``g[t+1]`` while ``g``
reads ``h[t-1]``) has no order in time: that is an error naming the cycle.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])\\ng[t] = tanh(R g[t+1] + S x[t])\\no[t] = V h[t] + Q g[t]")
    >>> [(s.direction, s.targets) for s in m.sweeps]
    [('forward', ('h',)), ('backward', ('g', 'o'))]
    >>> m.direction("g"), m.leads("g")
    ('backward', (1,))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from .._dataclasses import dataclass

from ..errors import RnnvizError, Span
from . import expr as E
from . import syntax as S
from .model_syntax import refs

__all__ = ["Sweep", "sweeps_of", "check_reads_ahead", "concatenations", "FORWARD", "BACKWARD", "END"]

FORWARD = "forward"
BACKWARD = "backward"
#: Equations computed once, after every sweep, at the last step (``o = V h_T + c``).
END = "end"


@dataclass(frozen=True)
class Sweep:
    """One loop over the steps: ``forward`` (t = 1..T) or ``backward`` (t = T..1).

    ``targets`` are the variables it computes, in their order within a step.
    """

    direction: str
    targets: tuple[str, ...]
    #: The targets that read themselves (or their group) at another step: the chain of this sweep.
    chains: tuple[str, ...] = ()
    #: ``""`` for the one phase of most models; ``"decoder"`` for the sweeps of an encoder-decoder's
    #: decoder, which run over the output sequence's steps (see :mod:`rnnviz.language.phases`).
    phase: str = ""

    def steps(self, T: int) -> range:
        """The steps of this sweep, in the order it computes them (``end``: the last step only)."""
        if self.direction == END:
            return range(T, T + 1)
        return range(1, T + 1) if self.direction == FORWARD else range(T, 0, -1)


def _reads(equations) -> dict[str, list[E.Var]]:
    names = {eq.target for eq in equations}
    return {eq.target: [v for v in E.walk(eq.expr) if isinstance(v, E.Var) and v.name in names]
            for eq in equations}


def _components(order: Sequence[str], reads: dict[str, list[E.Var]]) -> list[list[str]]:
    """Strongly connected components over reads at any step, each after those it reads (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in dict.fromkeys(r.name for r in reads[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp, key=order.index))

    for v in order:
        if v not in index:
            visit(v)
    return out


def _path(reads: dict[str, list[E.Var]], members: set[str], start: str, goal: str) -> list[str]:
    """A shortest chain of reads start -> ... -> goal inside ``members`` (start itself when equal)."""
    if start == goal:
        return [start]
    prev: dict[str, str] = {start: start}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for r in reads[v]:
            if r.name in members and r.name not in prev:
                prev[r.name] = v
                if r.name == goal:
                    chain = [goal]
                    while chain[-1] != start:
                        chain.append(prev[chain[-1]])
                    return chain[::-1]
                queue.append(r.name)
    return [start, goal]  # pragma: no cover - members are strongly connected


def _spell(v: E.Var) -> str:
    return f"{v.name}[t]" if v.delay == 0 else f"{v.name}[t{-v.delay:+d}]"


def sweeps_of(equations, error: Callable[[str, Span | None], RnnvizError]) -> list[Sweep]:
    """Group ``equations`` (already in same-step order) into sweeps; raise ``error`` on a cycle in time.

    Args:
        equations: the model's equations, ordered so that same-step reads come first.
        error: builds the error to raise from a message and a span.
    """
    order = [eq.target for eq in equations]
    reads = _reads(equations)
    direction: dict[str, str | None] = {}
    comps = _components(order, reads)
    for comp in comps:
        members = set(comp)
        inner = [(a, r) for a in comp for r in reads[a] if r.name in members]
        back = [(a, r) for a, r in inner if r.delay > 0]
        ahead = [(a, r) for a, r in inner if r.delay < 0]
        if back and ahead:
            (a, r) = ahead[0]
            # The read back that best shows the wait: by the variable read ahead, and not of itself.
            (b, q) = min(back, key=lambda e: (e[0] != r.name, e[0] == e[1].name))
            # The cycle: a reads r ahead, r's chain leads to b, b reads q back, q's chain leads to a.
            chain = [a] + _path(reads, members, r.name, b)[:-1] + [b] + _path(reads, members, q.name, a)[1:]
            words = " -> ".join(dict.fromkeys(chain)) + f" -> {chain[0]}"
            raise error(f"no order in time computes {words}: {a} reads {_spell(r)} (a later step) while "
                        f"{b} reads {_spell(q)} (an earlier step), so each waits for the other; "
                        "a backward chain may read a forward one only at the same step, and the other way round",
                        r.span)
        d = FORWARD if back else BACKWARD if ahead else None
        for name in comp:
            direction[name] = d
    chains = {name for name, d in direction.items() if d is not None}
    # Place each group in the last sweep if it fits there, else open a new sweep.
    sweep_of: dict[str, int] = {}
    sweeps: list[tuple[str, list[str]]] = []
    for comp in comps:
        members = set(comp)
        d = direction[comp[0]]
        need = -1  # the earliest sweep this group may join
        for a in comp:
            for r in reads[a]:
                if r.name in members:
                    continue
                s = sweep_of[r.name]
                sd = sweeps[s][0]
                fits = r.delay == 0 or (r.delay > 0) == (sd == FORWARD)
                need = max(need, s if fits else s + 1)
        last = len(sweeps) - 1
        if sweeps and need <= last and (d is None or d == sweeps[last][0]):
            at = last
        else:
            sweeps.append((d or FORWARD, []))
            at = len(sweeps) - 1
        sweeps[at][1].extend(comp)
        for name in comp:
            sweep_of[name] = at
    return [Sweep(d, tuple(sorted(names, key=order.index)), tuple(n for n in order if n in names and n in chains))
            for d, names in sweeps]


def check_reads_ahead(equations, sweeps: Sequence[Sweep],
                      error: Callable[[str, Span | None, str], RnnvizError]) -> None:
    """A read at a later step needs a backward chain (its value at T+1 is its start); a read at an
    earlier step of a backward chain would need a step 0 it never computes."""
    backward = {n for s in sweeps if s.direction == BACKWARD for n in s.chains}
    computed = {eq.target for eq in equations}
    for eq in equations:
        for v in E.walk(eq.expr):
            if not isinstance(v, E.Var) or v.name not in computed:
                continue
            if v.delay < 0 and v.name not in backward:
                raise error(f"'{v.name}' is read at a later step ({_spell(v)}), but {v.name} is not a backward "
                            f"chain: nothing computes {v.name}[T{-v.delay:+d}]",
                            v.span, f"a variable that reads itself ahead, such as {v.name}[t] = tanh(W "
                            f"{v.name}[t+1] + U x[t]), runs backward from T+1; only inputs and such chains "
                            "can be read ahead")
            if v.delay > 0 and v.name in backward:
                raise error(f"'{v.name}' runs backward (from T down to 1), so {_spell(v)} at the first step "
                            f"would need {v.name}[{1 - v.delay}], which it never computes",
                            v.span, f"read the backward chain at the same step ({v.name}[t]) or ahead "
                            f"({v.name}[t+1])")


def concatenations(statements, targets: set[str]) -> dict[str, tuple[S.Name, tuple[str, str]]]:
    """A bare ``H_t`` that nothing computes, beside computed ``\\overrightarrow{H}_t`` and
    ``\\overleftarrow{H}_t``: the concatenation of the two (as d2l.ai and CS224n write it).

    Returns name -> (its first read, (forward name, backward name)).
    """
    out: dict[str, tuple[S.Name, tuple[str, str]]] = {}
    for s in statements:
        for n, called in refs(s.rhs):
            if called or n.time is None or n.accent or n.canonical in targets or n.canonical in out:
                continue
            fwd = [c for acc in ("fwd", "vec")
                   if (c := S.Name(n.base, acc, n.subs, n.sups).canonical) in targets]
            bwd = S.Name(n.base, "bwd", n.subs, n.sups).canonical
            if fwd and bwd in targets:
                out[n.canonical] = (n, (fwd[0], bwd))
    return out
