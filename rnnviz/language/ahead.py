"""Equations written one step ahead: ``h_{t+1} = f(h_t, x_t)`` with untimed gates ``z = \\sigma(W_z x_t)``.

Many texts write the new state at ``t+1`` from the state and the input at ``t``,
and leave the gates without a time (``z``, ``r``): they belong to the step being
computed. Read literally, the gates would sit at ``t`` and read ``h_t`` while
``h_{t+1}`` reads them, and the input ``x_t`` would be one step late. Read as
meant, it is the usual model ``h_t = f(h_{t-1}, x_t)``: every equation is at the new
step, the states on the right are the previous ones, and ``x_t`` is the input of
the step (when no equation reads an input at ``t+1``). A note says so.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model('''
    ... z = \\\\sigma(W_z x_t + b_z)
    ... h_{t+1} = z \\\\odot \\\\tanh(W x_t + U h_t) + (1 - z) \\\\odot h_t
    ... ''')
    >>> m.variables, m.delays("h"), [v.delay for v in m.reads(m.equation("z"))]
    (['z', 'h'], (1,), [0])
"""

from __future__ import annotations

from . import syntax as S
from .model_syntax import refs

__all__ = ["Ahead", "one_step_ahead"]


class Ahead:
    """How a system written one step ahead is read: the shift of untimed left sides, the lag of inputs."""

    def __init__(self, untimed_shift: int = 0, input_lag: int = 0, note: str | None = None) -> None:
        self.untimed_shift = untimed_shift
        self.input_lag = input_lag
        self.note = note


def one_step_ahead(eq_stmts: list[S.Assign]) -> Ahead:
    """An :class:`Ahead` for the equations: the identity unless every timed left side is at ``t+1``."""
    timed = [s for s in eq_stmts if s.lhs.time is not None]
    if not timed or any(s.lhs.time.offset != 1 for s in timed):
        return Ahead()
    targets = {s.lhs.canonical for s in eq_stmts}
    input_offsets = {n.time.offset for s in eq_stmts for n, _ in refs(s.rhs)
                     if n.time is not None and not n.time.absolute and n.canonical not in targets}
    lag = 1 if input_offsets and 1 not in input_offsets else 0
    untimed = [s.lhs.canonical for s in eq_stmts if s.lhs.time is None]
    if not lag and not untimed:
        return Ahead()  # h[t+1] = f(h[t], x[t+1]): the usual model with t renamed; nothing to say
    first = timed[0]
    parts = []
    if untimed:
        parts.append(f"{', '.join(untimed)} {'is' if len(untimed) == 1 else 'are'} computed at that step too")
    if lag:
        parts.append("an input read at t is the input of that step")
    note = (f"{first.lhs.span}: the equations are written one step ahead ({first.lhs} = ...): read as the "
            f"usual model, each state on the right is the previous step; " + "; ".join(parts))
    return Ahead(1, lag, note)
