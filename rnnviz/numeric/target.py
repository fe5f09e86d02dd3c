"""Targets of a derivative or a formula: ``h[3]``, ``h_3``, ``h[3][0]``, ``sum(h)``.

A target names a computed variable at one step (``h[3]``, also as sheets
write it, ``h_3`` or ``h^{(3)}``), optionally one component of it
(``h[3][0]``, 0-based), or a sum: ``sum(h)`` adds the variable over every
step 1..T, ``sum(h[3])`` is the same as ``h[3]``. A vector target without a
component is summed over its components (and over the batch).

Parsing needs the model (to tell ``h_1`` the variable from ``h`` at step 1)
but no numbers; :meth:`Target.check_steps` then checks the step against the
number of steps of a run.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
    >>> parse_target("h_3", m)
    Target(name='h', step=3, component=None, summed=False)
    >>> str(parse_target("sum(h)", m)), str(parse_target("h[2][1]", m))
    ('sum(h)', 'h[2][1]')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import RnnvizError, Span, ValueSpecError
from ..language import Model
from ..language.parse import parse_text, suggest

__all__ = ["Target", "parse_target", "TargetError"]

_FILE = "--of"


class TargetError(ValueSpecError):
    """A target that names nothing the model computes."""


@dataclass(frozen=True)
class Target:
    """A scalar quantity of the unrolled network; ``step`` None means every step."""

    name: str
    step: int | None
    component: int | None = None
    summed: bool = False

    def __str__(self) -> str:
        if self.step is None:
            inner = self.name
        else:
            inner = f"{self.name}[{self.step}]"
            if self.component is not None:
                inner += f"[{self.component}]"
        return f"sum({inner})" if self.step is None else inner

    def steps(self, total: int) -> list[int]:
        """The steps the target adds up, for a run of ``total`` steps."""
        return list(range(1, total + 1)) if self.step is None else [self.step]

    def check_steps(self, total: int, *, text: str | None = None) -> None:
        """Raise :class:`TargetError` when the step is beyond a run of ``total`` steps."""
        if self.step is not None and self.step > total:
            raise _error(f"'{self}' is beyond the last step: the run has {total} step"
                         f"{'s' if total != 1 else ''} (t = 1..{total})", text or str(self),
                         hint=f"use a step from 1 to {total}, or more steps (--steps {self.step}; "
                              f"--unroll {self.step} when drawing)")


def _error(message: str, text: str, *, start: int = 0, end: int | None = None,
           hint: str | None = None, file: str = _FILE) -> TargetError:
    end = len(text) if end is None else end
    span = Span(file, 1, start + 1, 1, max(end, start + 1) + 1)
    return TargetError(message, span, source=text, hint=hint)


_SUM = re.compile(r"^\s*(?:\\?sum|\\sum)\s*\((.*)\)\s*$")
_COMPONENT = re.compile(r"^(.*\S)\s*\[\s*(-?\d+)\s*\]\s*\[\s*(-?\d+)\s*\]\s*$")


def relabel(err: TargetError, option: str) -> TargetError:
    """The same error, pointing at the option the target was given with (``--grad`` for draw).

    Example:
        >>> relabel(_error("bad", "h[9]"), "--grad").span.file
        '--grad'
    """
    if err.span is not None and err.span.file == _FILE and option != _FILE:
        err.span = replace(err.span, file=option)
    return err


def parse_target(text: str, model: Model, *, option: str = _FILE) -> Target:
    """Read a target as written on the command line.

    ``option`` is the command-line option errors point into (``--of``, or ``--grad``).

    Raises:
        TargetError: unreadable, an unknown name, a parameter or input, a step < 1.
    """
    try:
        # Once per model and text: reading a target parses it (a gradient at teaching size
        # would otherwise spend much of its time here on every call).
        return model.memo(("target", text), lambda: _parse_target(text, model))
    except TargetError as err:
        raise relabel(err, option) from None


def _parse_target(text: str, model: Model) -> Target:
    raw = text
    m = _SUM.match(text)
    summed = bool(m)
    body = m.group(1) if m else text
    offset = m.start(1) if m else 0
    component: int | None = None
    c = _COMPONENT.match(body)
    if c:
        body = f"{c.group(1)}[{c.group(2)}]"
        component = int(c.group(3))
        if component < 0:
            raise _error("a component index counts from 0", raw, start=offset + c.start(3),
                         end=offset + c.end(3))
    if not body.strip():
        raise _error("empty target; write a variable at a step, such as h[3]", raw)
    try:
        stmt = parse_text(f"{body} = 0", _FILE).statements[0]
        name = stmt.lhs
    except (RnnvizError, IndexError, AttributeError):
        raise _error(f"cannot read the target '{raw}'", raw,
                     hint="write a variable at a step: h[3], h_3, h[3][0] (one component) or sum(h)") from None
    canonical, step = name.canonical, None
    if name.time is not None:
        if not name.time.absolute:
            raise _error(f"'{raw}' names the step t; give a number, as in {canonical}[3]", raw)
        step = name.time.offset
    elif (found := model.step_in_subscript(name)) is not None:
        canonical, step = found
    sym = model.symbols.get(canonical)
    if sym is None and name.time is None and canonical in dict(model.totals):
        return Target(dict(model.totals)[canonical], None, None, True)  # a total named apart: J = \sum_t L_t
    if sym is None:
        known = model.variables
        close = suggest(canonical, known)
        raise _error(f"'{canonical}' is not a variable of the equations", raw, start=offset,
                     end=offset + len(body),
                     hint=f"did you mean {close}?" if close else "the equations compute " + ", ".join(known))
    if sym.kind != "variable":
        what = {"parameter": "a parameter", "input": "an input", "function": "a function"}[sym.kind]
        raise _error(f"'{canonical}' is {what}; a target is a computed variable such as "
                     f"{model.variables[-1]}[3]", raw, start=offset, end=offset + len(body))
    if step is None and not summed and canonical in model.once:
        return Target(canonical, None, component, True)  # o = V h_T + c: its one value, at the last step
    total = dict(model.totals)
    if step is None and not summed and component is None and name.canonical in total:
        return Target(total[name.canonical], None, None, True)  # L = \sum_t L^{(t)}: the total loss
    if step is None and not summed:
        raise _error(f"'{canonical}' needs a step, as in {canonical}[3]", raw,
                     hint=f"or write sum({canonical}) for the sum over every step")
    if step is not None and step < 1:
        raise _error(f"'{canonical}[{step}]' is an initial value, not computed; "
                     f"the equations compute {canonical} at steps 1, 2, ...", raw)
    if step is None and component is not None:  # pragma: no cover - the regex needs a step
        raise _error("a component needs a step, as in h[3][0]", raw)
    return Target(canonical, step, component, summed)
