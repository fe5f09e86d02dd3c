"""Checking a solution sheet: its answer lines against the model its equations and values make.

A sheet is equation text (plain or LaTeX, as ``rnnviz`` reads it) with answer lines
among its lines:

- ``h_2 = 2/3`` (also ``h[2]``, ``h^{(2)}``): a computed variable at a step; a vector as ``[1, 2]``;
- ``dh_3/dV = 2/3`` (also ``\\frac{\\partial h_3}{\\partial V}``, ``∂h_3/∂V``): a derivative, of
  a variable at a step with respect to a parameter, an input at a step or an initial state
  (or, where every variable is a number, a computed value: ``dh_3/dh_1``, ``dL/dh_1``);
- ``g_1 = output gate`` (forget, input/update, output, update, reset): a gate's role;
- ``cell state = c``: the cell state;
- ``L = 0.174``, ``dL/dW = -0.361``: the loss summed over time (``L = \\sum_t L^{(t)}``) and its
  derivatives;
- ``parameters = 45``: the number of parameters; ``parameters of layer 2 = 136``,
  ``parameters of O = 18``: those an equation (a layer of a stack) brings in.

Numbers may be exact (``3/2``, ``\\frac{3}{2}``, ``-3``) or decimals; a decimal passes when
it is the right value rounded to the places written (``0.667`` for 2/3). The report says
for each answer whether it is right and, if not, the right value; and where a wrong chain
went astray: the first wrong value of the forward pass, and the later answers that are
right *for that wrong value* (a carried error): ``h_2 should be 3/2; dh_3/dV = 2/3 builds on it``.

Example:
    >>> report = check_text('''h_t = relu(V h_{t-1} + W x_t)
    ... V = 2, W = \\\\frac{1}{2}, h_0 = 0, x = [-1, 3, 1]
    ... h_1 = 0
    ... h_2 = 2/3
    ... dh_3/dV = 2/3
    ... ''')
    >>> report.ok
    False
    >>> print(report.summary())
    h_2 should be 3/2; dh_3/dV = 2/3 builds on it
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import RnnvizError, Span, ValueSpecError
from ..language import Model, build_model
from ..language import syntax as S
from ..language.model_syntax import is_equation
from ..language.parse import parse_text, read_source, suggest
from .arith import Number, fmt_full, number_matches, parse_number

__all__ = ["AnswerLine", "Verdict", "CheckReport", "check_text", "check_file", "read_answers"]

_ROLE_WORDS = {
    "forget": "forget", "input": "input", "update": "update", "output": "output", "reset": "reset",
    "external input": "input", "input/update": "input", "update/input": "input",
}
_DERIV = re.compile(
    r"^\s*(?:\\frac\s*\{\s*(?:\\partial|d)\s*(?P<a>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\s*"
    r"\{\s*(?:\\partial|d)\s*(?P<b>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}"
    r"|(?:d|∂|\\partial\s*)(?P<a2>[^/=]+?)\s*/\s*(?:d|∂|\\partial\s*)(?P<b2>[^=]+?))\s*=\s*(?P<rhs>.*)$")
_PARAMS = re.compile(r"^\s*(?:number of parameters|parameters|params|parameter count|#\s*params)\s*=\s*(?P<rhs>.*)$",
                     re.IGNORECASE)
_GROUP_PARAMS = re.compile(r"^\s*(?:the\s+)?(?:number of\s+)?parameters\s+(?:of|in)\s+(?P<what>[^=]+?)\s*=\s*(?P<rhs>.*)$",
                           re.IGNORECASE)
_CELL = re.compile(r"^\s*cell state\s*=\s*(?P<rhs>.*)$", re.IGNORECASE)
_ROLE = re.compile(r"^\s*(?P<lhs>[^=]+?)\s*=\s*(?P<rhs>(?:the\s+)?(?:forget|input|update|output|reset|external input|"
                   r"input/update|update/input)(?:\s+gate)?)\s*\.?\s*$", re.IGNORECASE)
_VALUE = re.compile(r"^\s*(?P<lhs>[^=,]+?)\s*=\s*(?P<rhs>[^=]*)$")
#: A right side that reads a variable at a step relative to t: an equation, not a value.
_TIMED = re.compile(r"(_\{?\s*t\b|\[\s*t\b|\(\s*t\s*[-+)])")
#: A name without a step: a value line's left side, or a total over time.
_BARE = re.compile(r"^\s*[A-Za-z\\][\w{}^\\]*\s*$")
_STEPPED = re.compile(r"(_\{?\s*\d+\s*\}?|\[\s*\d+\s*\]|\^\{?\s*\(\s*\d+\s*\)\s*\}?)\s*$")


@dataclass
class AnswerLine:
    """One answer line as read: its kind, the parts written, where it stands."""

    kind: str  # value, grad, gate, cell, params
    line: int
    text: str
    lhs: str
    rhs: str
    rhs_column: int
    #: Filled when the line is resolved against the model.
    name: str | None = None
    step: int | None = None
    wrt: object = None
    given: object = None


@dataclass
class Verdict:
    answer: AnswerLine
    right: bool
    expected: object
    note: str = ""


@dataclass
class CheckReport:
    file: str
    verdicts: list[Verdict] = field(default_factory=list)
    #: The first wrong value of the forward pass, and the answers built on it.
    astray: Verdict | None = None
    carried: list[Verdict] = field(default_factory=list)
    fractions: bool = True

    @property
    def ok(self) -> bool:
        return all(v.right for v in self.verdicts)

    def label(self, v: Verdict) -> str:
        return v.answer.lhs.strip()

    def expected_text(self, v: Verdict) -> str:
        return _show(v.expected, self.fractions)

    def summary(self) -> str:
        """One line: nothing wrong, or where the chain went astray and what builds on it."""
        wrong = [v for v in self.verdicts if not v.right]
        if not wrong:
            return f"all {len(self.verdicts)} answers are right"
        if self.astray is not None:
            head = f"{self.label(self.astray)} should be {self.expected_text(self.astray)}"
            if self.astray.note:
                head += f" ({self.astray.note})"
            if self.carried:
                built = ", ".join(f"{self.label(v)} = {v.answer.rhs.strip()}" for v in self.carried)
                return f"{head}; {built} build{'s' if len(self.carried) == 1 else ''} on it"
            return head
        first = wrong[0]
        note = f" ({first.note})" if first.note else ""
        return f"{self.label(first)} should be {self.expected_text(first)}{note}"

    def describe(self) -> str:
        """One line per answer (``file:line: ok`` or the right value), then the summary."""
        lines = []
        for v in self.verdicts:
            a = v.answer
            where = f"{self.file}:{a.line}"
            if v.right:
                lines.append(f"{where}: ok      {a.text.strip()}")
            else:
                note = f" ({v.note})" if v.note else ""
                lines.append(f"{where}: WRONG   {a.text.strip()}   -> {self.label(v)} = {self.expected_text(v)}{note}")
        wrong = sum(not v.right for v in self.verdicts)
        lines.append(f"{len(self.verdicts) - wrong} of {len(self.verdicts)} answers right"
                     + ("" if not wrong else f"; {self.summary()}"))
        return "\n".join(lines)


def _show(x: object, fractions: bool) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return "[" + ", ".join(_show(v, fractions) for v in x) + "]"
    return fmt_full(x, fractions=fractions)  # type: ignore[arg-type]


def _strip_comment(line: str) -> str:
    """A line without its comment (``%`` or a ``#`` that does not start ``#params``)."""
    m = re.search(r"%|#(?!\s*params)", line)
    return line[: m.start()] if m else line


def read_answers(text: str) -> tuple[list[AnswerLine], list[AnswerLine], list[str]]:
    """The answer lines, the lines that may be answers or values (``x_2 = 3``), and the rest blanked."""
    answers, maybe, kept = [], [], []
    for i, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        col = lambda m: m.start("rhs") + 1
        m = _DERIV.match(line)
        if m and "=" in line:
            a, b = (m.group("a"), m.group("b")) if m.group("a") is not None else (m.group("a2"), m.group("b2"))
            answers.append(AnswerLine("grad", i, line, line[: m.start("rhs")].rstrip().rstrip("=").strip(),
                                      m.group("rhs"), col(m), wrt=(a.strip(), b.strip())))
            kept.append("")
            continue
        for kind, rx in (("params", _PARAMS), ("params", _GROUP_PARAMS), ("cell", _CELL), ("gate", _ROLE)):
            m = rx.match(line)
            if m:
                lhs = m.group("lhs") if kind == "gate" else line[: m.start("rhs")].rstrip().rstrip("=").strip()
                answers.append(AnswerLine(kind, i, line, lhs, m.group("rhs"), col(m),
                                          wrt=m.group("what") if rx is _GROUP_PARAMS else None))
                kept.append("")
                break
        else:
            chain = _chain(line, i)
            if chain:  # c = h_2 = -0.550573: each name is answered by the number
                maybe += chain
                kept.append("")
                continue
            m = _VALUE.match(line)
            if m and _STEPPED.search(m.group("lhs")) and not is_time_lhs(m.group("lhs")) \
                    and not _TIMED.search(m.group("rhs")) and not _formula(m.group("rhs")):
                maybe.append(AnswerLine("value", i, line, m.group("lhs"), m.group("rhs"), col(m)))
                kept.append("")
            elif m and _BARE.match(m.group("lhs")) and _parse_value(m.group("rhs")) is not None:
                # ``L = 0.17``: the loss summed over time, or a value line (``W = 0.5``): the model decides
                maybe.append(AnswerLine("total", i, line, m.group("lhs"), m.group("rhs"), col(m)))
                kept.append("")
            else:
                kept.append(raw)
    return answers, maybe, kept


def _chain(line: str, number: int) -> list[AnswerLine]:
    """``c = h_2 = -0.550573``: one answer line per name, each with the number at the end; else []."""
    parts = line.split("=")
    if len(parts) < 3 or parse_number(parts[-1].strip().rstrip(".")) is None:
        return []
    names = [p.strip() for p in parts[:-1]]
    if not all(names) or any(_TIMED.search(n) or is_time_lhs(n) or not _NAMEISH.match(n) for n in names):
        return []
    column = len(line) - len(parts[-1]) + 1 + (len(parts[-1]) - len(parts[-1].lstrip()))
    out = []
    for n in names:
        kind = "value" if _STEPPED.search(n) else "total"
        out.append(AnswerLine(kind, number, f"{n} = {parts[-1].strip()}", n, parts[-1], column))
    return out


#: A name as a sheet writes one (``h_2``, ``c``, ``s^{(0)}``), not an expression.
_NAMEISH = re.compile(r"^[A-Za-z\\][\w{}^\\()\[\]]*$")


def _formula(rhs: str) -> bool:
    """``tanh(D c)``, ``c``: a right side that computes (an equation such as ``s_0 = \\tanh(D c)``), not a value."""
    if _parse_value(rhs) is not None:
        return False
    if re.search(r"[A-Za-z]\s*\(|\\[A-Za-z]", rhs):  # a function, LaTeX
        return True
    words = re.findall(r"[A-Za-z]+", rhs)  # names (c, D c); words (``three halves``) are an unreadable answer
    return bool(words) and all(len(w) <= 2 for w in words)


def is_time_lhs(lhs: str) -> bool:
    """``h_t``, ``h^{(t)}``: an equation's left side, not a step."""
    return bool(re.search(r"(_\{?t\}?|\(t\)|\[t\])\s*$", lhs))


def _span(file: str, a: AnswerLine, *, lhs: bool = False) -> Span:
    if lhs:
        start = len(a.text) - len(a.text.lstrip()) + 1
        return Span(file, a.line, start, a.line, start + max(1, len(a.lhs)))
    return Span(file, a.line, a.rhs_column, a.line, a.rhs_column + max(1, len(a.rhs.rstrip())))


def _err(file: str, source: str, message: str, a: AnswerLine, *, lhs: bool = False, hint: str | None = None
         ) -> RnnvizError:
    return ValueSpecError(message, _span(file, a, lhs=lhs), hint=hint).with_source(source)


def _parse_value(text: str) -> object | None:
    """A number, or a bracketed list of numbers (nested for a matrix)."""
    t = text.strip().rstrip(".").strip()
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        if not inner:
            return None
        items, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
                continue
            depth += ch == "["
            depth -= ch == "]"
            cur += ch
        items.append(cur)
        out = [_parse_value(x) for x in items]
        return None if any(x is None for x in out) else out
    return parse_number(t)


def _name_of(text: str) -> S.Name | None:
    try:
        stmt = parse_text(f"{text.strip()} = 0", "<answer>").statements[0]
    except RnnvizError:
        return None
    return getattr(stmt, "lhs", None)


def _resolve_step(model: Model, name: S.Name) -> tuple[str, int] | None:
    """``h_2``, ``h[2]``, ``h^{(2)}`` -> (h, 2) for a symbol with steps."""
    if name.time is not None and name.time.absolute and name.canonical in model.symbols:
        return name.canonical, name.time.offset
    return model.step_in_subscript(name)


def check_file(path: str) -> CheckReport:
    file, text = read_source(path)
    return check_text(text, file)


def check_text(text: str, file: str = "<sheet>") -> CheckReport:
    """Check every answer line of a sheet; errors (an unreadable line) are positioned."""
    answers, maybe, kept = read_answers(text)
    base = parse_text("\n".join(kept) + "\n", file)
    base = S.Program(base.statements, file, text)
    if not any(is_equation(s) or (isinstance(s, S.Assign) and s.lhs.time is None) for s in base.statements):
        raise ValueSpecError("the sheet has no equations to check its answers against", Span(file, 1, 1, 1, 1))
    eq_model = build_model(base)
    value_lines = ["" for _ in kept]
    totals = {t for t, _ in eq_model.totals}
    once = set(eq_model.once)
    for a in maybe:
        name = _name_of(a.lhs)
        if name is not None and name.time is None and name.canonical in once:
            a.kind, a.name, a.step = "value", name.canonical, None  # c = h_T: one value, at the last step
            answers.append(a)
            continue
        if a.kind == "total":
            if name is not None and name.canonical in totals:
                a.name = name.canonical
                answers.append(a)
            else:
                value_lines[a.line - 1] = a.text
            continue
        found = _resolve_step(eq_model, name) if name is not None else None
        if found is not None and found[0] in eq_model.variables and found[1] >= 1:
            a.name, a.step = found
            answers.append(a)
        else:
            value_lines[a.line - 1] = a.text
    model = eq_model
    if any(value_lines):
        model = model.with_values(parse_text("\n".join(value_lines) + "\n", file))
    model.sources[file] = text
    answers.sort(key=lambda a: a.line)
    if not answers:
        raise ValueSpecError("the sheet has no answer lines (such as h_2 = 3/2, dh_3/dV = 1, g_1 = output gate, "
                             "parameters = 45)", Span(file, 1, 1, 1, 1))
    return _Checker(model, answers, file, text).run()


class _Checker:
    def __init__(self, model: Model, answers: list[AnswerLine], file: str, source: str) -> None:
        from ..numeric.forward_pass import forward
        from .scalar import uses_fractions

        self.model, self.answers, self.file, self.source = model, answers, file, source
        self._trace = None
        self._forward = forward
        self.fractions = uses_fractions(model)

    @property
    def trace(self):
        """The forward pass, run when an answer needs numbers (gates and counts do not)."""
        if self._trace is None:
            self._trace = self._forward(self.model)
        return self._trace

    def steps_of(self, name: str) -> int:
        """The last step of the phase of ``name``: T, or the decoder's T'."""
        if self.model.phases is not None and self.model.phases.phase_of(name) == "decoder":
            return self.trace.decoder_steps
        return self.trace.steps

    def no_step(self, name: str, step: int) -> str:
        if self.model.phases is not None and self.model.phases.phase_of(name) == "decoder":
            return f"the sheet's decoder runs {self.steps_of(name)} steps; there is no step {step}"
        return f"the sheet's inputs run {self.trace.steps} steps; there is no step {step}"

    def at_step(self, name: S.Name) -> tuple[str, int] | None:
        """``h_2`` -> (h, 2); a value computed once (``c``, ``s_0``) -> at the last step T."""
        if name.time is None and name.canonical in self.model.once:
            return name.canonical, self.trace.steps
        return _resolve_step(self.model, name)

    def err(self, message: str, a: AnswerLine, **kw) -> RnnvizError:
        return _err(self.file, self.source, message, a, **kw)

    def resolve(self, a: AnswerLine) -> None:
        """Read the answer's value and what it answers; an unreadable line is an error at its place."""
        m = self.model
        if a.kind in ("value", "grad", "params", "total"):
            a.given = _parse_value(a.rhs)
            if a.given is None:
                raise self.err(f"cannot read '{a.rhs.strip()}' as a number (write 3/2, -0.25, \\frac{{2}}{{3}} "
                               "or a list [1, 2])", a)
        if a.kind == "value" and a.step is None:  # computed once, at the last step
            a.step = self.trace.steps
        elif a.kind == "value" and a.step > self.steps_of(a.name):
            raise self.err(self.no_step(a.name, a.step), a, lhs=True)
        if a.kind == "grad":
            top, bottom = a.wrt
            tn = _name_of(top)
            total = tn is not None and tn.time is None and tn.canonical in dict(m.totals)
            found = (tn.canonical, 0) if total else self.at_step(tn) if tn is not None else None
            if found is not None and total:
                pass  # dL/dW of the loss summed over time
            elif found is None or found[0] not in m.variables:
                close = suggest(top, [f"{v}_{self.trace.steps}" for v in m.variables])
                raise self.err(f"'{top}' is not a computed variable at a step", a, lhs=True,
                               hint=f"did you mean {close}?" if close else "write it as h_3, h[3] or h^{(3)}")
            if not total and not 1 <= found[1] <= self.steps_of(found[0]):
                raise self.err(self.no_step(found[0], found[1]), a, lhs=True)
            a.name, a.step = found[0], (None if total else found[1])
            bn = _name_of(bottom)
            if bn is not None and bn.canonical in m.parameters:
                a.wrt = bn.canonical
            else:
                at = self.at_step(bn) if bn is not None else None
                if at is None or at[0] in m.parameters:
                    close = suggest(bottom, m.parameters)
                    raise self.err(f"'{bottom}' is not a parameter, an input at a step or an initial state", a,
                                   lhs=True, hint=f"did you mean {close}?" if close else None)
                a.wrt = at
        if a.kind == "params" and a.wrt is not None:
            from .counting import group_named, parameter_groups

            groups = parameter_groups(m, self.trace.shapes)
            named = _name_of(a.wrt)  # a variable as the sheet spells it (h~, \tilde{h}, H^{(1)})
            key = named.canonical if named is not None and named.canonical in m.variables else a.wrt
            group = group_named(groups, key, m)
            if group is None:
                names = [f"layer {g.layer}" if g.layer else g.name for g in groups]
                raise self.err(f"'{a.wrt.strip()}' is no equation or layer that brings in parameters", a, lhs=True,
                               hint="the counts are of " + ", ".join(names))
            a.name = group.name
            a.step = group.count
        if a.kind == "gate":
            n = _name_of(a.lhs)
            if n is None or n.canonical not in m.variables:
                close = suggest(a.lhs.strip(), m.variables)
                raise self.err(f"'{a.lhs.strip()}' is not a variable of the equations", a, lhs=True,
                               hint=f"did you mean {close}?" if close else None)
            a.name = n.canonical
            word = re.sub(r"^the\s+|\s+gate$", "", a.rhs.strip().rstrip(".").lower()).strip()
            a.given = _ROLE_WORDS[word]
        if a.kind == "cell":
            n = _name_of(a.rhs)
            if n is None or n.canonical.split("[")[0] not in m.variables:
                raise self.err(f"'{a.rhs.strip()}' is not a variable of the equations", a)
            a.given = n.canonical

    def run(self) -> CheckReport:
        from .phased import exact_pass
        from .scalar import NotScalar

        for a in self.answers:
            self.resolve(a)
        seeds = sorted({a.wrt for a in self.answers if a.kind == "grad"}, key=str)
        run = None
        if any(a.kind in ("value", "grad") for a in self.answers):
            try:
                run = exact_pass(self.model, trace=self.trace, seeds=seeds)
            except NotScalar:
                run = None
        report = CheckReport(self.file, fractions=self.fractions)
        for a in self.answers:
            expected = self.expected(a, run)
            report.verdicts.append(Verdict(a, _matches(a.given, expected, a.kind), expected))
        if run is not None:
            self.carried(report, run, seeds)
            self.diagnose(report, run)
        elif any(a.kind in ("value", "grad") for a in self.answers):
            self.diagnose_vectors(report)
        if report.astray is None:
            self.carried_count(report)
        return report

    def diagnose(self, report: CheckReport, run) -> None:
        """A note on each wrong answer that a known slip explains (ReLU'(0), a path left out, ...)."""
        from .diagnose import diagnose_grad, diagnose_total_grad, diagnose_value
        from .scalar import ScalarPass

        if not isinstance(run, ScalarPass):
            return
        for v in report.verdicts:
            a = v.answer
            if v.right or v.note:
                continue
            if a.kind == "value":
                v.note = diagnose_value(run, a.name, a.step, a.given) or ""
            elif a.kind == "grad" and a.step is None:
                per = dict(self.model.totals)[a.name]
                v.note = diagnose_total_grad(run, per, self.steps_of(per), a.wrt, a.given) or ""
            elif a.kind == "grad":
                v.note = diagnose_grad(run, a.name, a.step, a.wrt, a.given) or ""

    def diagnose_vectors(self, report: CheckReport) -> None:
        """A model of vectors: the first wrong value in the order of the pass, the slip behind it (a weight
        transposed), and the later values that are right for it; a gradient in the other orientation."""
        import numpy as np

        from .diagnose import diagnose_vector_grad, diagnose_vector_value, vector_value
        from .tasks import _exact_tree

        order = {}
        for t in range(1, self.trace.steps + 1):
            for eq in self.model.equations:
                order.setdefault((eq.target, t), len(order))
        values = [v for v in report.verdicts if v.answer.kind == "value" and (v.answer.name, v.answer.step) in order]
        wrong = sorted((v for v in values if not v.right), key=lambda v: order[(v.answer.name, v.answer.step)])
        for v in report.verdicts:
            a = v.answer
            if not v.right and not v.note and a.kind == "grad":
                v.note = diagnose_vector_grad(self.model, a.wrt, v.expected, a.given) or ""
        if not wrong:
            return
        report.astray = first = wrong[0]
        first.note = first.note or diagnose_vector_value(self.model, self.trace, first.answer.name,
                                                         first.answer.step, first.answer.given) or ""
        given: dict = {}
        for v in wrong:
            a = v.answer
            if v is not first:
                try:
                    alt = vector_value(self.model, self.trace, a.name, a.step, values=given)
                except (ValueError, KeyError):
                    alt = None
                if alt is not None and _matches(a.given, _exact_tree(alt), "value"):
                    v.note = f"right for your {self._label(first)}"
                    report.carried.append(v)
            given[(a.name, a.step)] = np.asarray(a.given, dtype=float)

    def carried_count(self, report: CheckReport) -> None:
        """A wrong count of a layer (an equation), and a total that is right for it: the total builds on it."""
        from .counting import parameter_groups

        counts = [v for v in report.verdicts if v.answer.kind == "params"]
        parts = [v for v in counts if v.answer.name is not None]
        wrong = [v for v in parts if not v.right]
        if not wrong:
            return
        report.astray = wrong[0]
        given = {v.answer.name: v.answer.given for v in parts}
        groups = parameter_groups(self.model, self.trace.shapes)
        theirs = sum(given.get(g.name, g.count) for g in groups)
        for v in counts:
            if v.answer.name is None and not v.right and v.answer.given == theirs:
                v.note = f"right for your {self._label(wrong[0])}"
                report.carried.append(v)

    def expected(self, a: AnswerLine, run) -> object:
        import numpy as np

        if a.kind == "grad" and run is None and isinstance(a.wrt, tuple) and a.wrt[0] in self.model.variables \
                and a.wrt[1] >= 1:
            raise self.err(f"a derivative by a computed value ({a.wrt[0]} at step {a.wrt[1]}) is checked where "
                           "every variable is a number; here they are vectors", a, lhs=True,
                           hint="check the derivatives by the parameters, the inputs or the initial states")

        from .tasks import _exact_tree

        if a.kind == "value":
            return run.value(a.name, a.step) if run is not None else _exact_tree(self.trace.value(a.name, a.step))
        if a.kind == "total":
            per = dict(self.model.totals)[a.name]
            if run is not None:
                return _sum(run.value(per, t) for t in range(1, self.steps_of(per) + 1))
            return _exact_tree(sum(self.trace.value(per, t) for t in range(1, self.steps_of(per) + 1)))
        if a.kind == "grad" and a.step is None:  # of the loss summed over time
            per = dict(self.model.totals)[a.name]
            if run is not None:
                return _sum(run.deriv(per, t, a.wrt) for t in range(1, self.steps_of(per) + 1))
            from ..numeric.grad import gradients

            named = gradients(self.model, self.trace, f"sum({per})").named()
            key = a.wrt if isinstance(a.wrt, str) else f"{a.wrt[0]}[{a.wrt[1]}]"
            return _exact_tree(np.asarray(named.get(key, 0.0)))
        if a.kind == "grad":
            if run is not None:
                return run.deriv(a.name, a.step, a.wrt)
            from ..numeric.grad import gradients

            g = gradients(self.model, self.trace, f"{a.name}[{a.step}]")
            if isinstance(a.wrt, str):
                return _exact_tree(g.params[a.wrt])
            named = g.named()
            key = f"{a.wrt[0]}[{a.wrt[1]}]"
            return _exact_tree(np.asarray(named.get(key, 0.0)))
        if a.kind == "params" and a.name is not None:
            return Fraction(a.step)  # the count of the equation (layer) named, resolved above
        if a.kind == "params":
            from ..numeric.shapes import parameter_count

            return Fraction(parameter_count(self.model))
        from ..language.gates import analyze

        report = analyze(self.model)
        if a.kind == "gate":
            return report.roles.get(a.name, "no gate")
        return report.cell_state or "none"

    def carried(self, report: CheckReport, run, seeds) -> None:
        """The first wrong forward value, and the wrong answers that are right for it (carried)."""
        # The order of the hand calculation: a backward chain's g_3 comes before its g_2.
        order = {k: i for i, k in enumerate(run.order)}
        values = [v for v in report.verdicts if v.answer.kind == "value"]
        wrong_values = sorted((v for v in values if not v.right), key=lambda v: order[(v.answer.name, v.answer.step)])
        if not wrong_values:
            self.carried_backward(report, run, order)
            return
        report.astray = first = wrong_values[0]
        overrides: dict = {}
        for v in wrong_values:
            overrides[(v.answer.name, v.answer.step)] = v.answer.given
        start = order[(first.answer.name, first.answer.step)]
        redo = run.with_overrides(overrides, seeds)
        for v in report.verdicts:
            a = v.answer
            if v.right or v is first:
                continue
            if a.kind == "value":
                if order[(a.name, a.step)] <= start:
                    continue
                # Right for the wrong values before it (its own wrong value left out).
                own = {k: x for k, x in overrides.items() if order[k] < order[(a.name, a.step)]}
                alt = run.with_overrides(own, ())
                if _matches(a.given, alt.value(a.name, a.step), "value"):
                    v.note = f"right for your {self._label(first)}"
                    report.carried.append(v)
            elif a.kind == "grad" and a.step is None:
                per = dict(self.model.totals)[a.name]
                if _matches(a.given, _sum(redo.deriv(per, t, a.wrt) for t in range(1, self.steps_of(per) + 1)), "grad"):
                    v.note = f"right for your {self._label(first)}"
                    report.carried.append(v)
            elif a.kind == "total":
                per = dict(self.model.totals)[a.name]
                if _matches(a.given, _sum(redo.value(per, t) for t in range(1, self.steps_of(per) + 1)), "value"):
                    v.note = f"right for your {self._label(first)}"
                    report.carried.append(v)
            elif a.kind == "grad" and _matches(a.given, redo.deriv(a.name, a.step, a.wrt), "grad"):
                v.note = f"right for your {self._label(first)}"
                report.carried.append(v)

    def carried_backward(self, report: CheckReport, run, order: dict) -> None:
        """The first wrong step of a backpropagation by hand (``dL/da_2``), and the derivatives right for it.

        Backpropagation runs from the last value computed to the first: the first wrong
        derivative by a computed value in that order went astray; a later derivative (by an
        earlier value, or by a weight) that is right for the wrong ones before it builds on it.
        """
        def top(a: AnswerLine):
            return (a.name,) if a.step is None else (a.name, a.step)

        def roots(a: AnswerLine) -> list:
            if a.step is None:
                per = dict(self.model.totals)[a.name]
                return [(per, t) for t in range(1, self.steps_of(per) + 1)]
            return [(a.name, a.step)]

        grads = [v for v in report.verdicts if v.answer.kind == "grad"]
        steps = [v for v in grads if isinstance(v.answer.wrt, tuple) and v.answer.wrt in order]
        back = lambda v: -order[v.answer.wrt]  # noqa: E731  (last computed first)
        wrong = sorted((v for v in steps if not v.right), key=back)
        if not wrong:
            return
        first = wrong[0]
        report.astray = first
        same = [v for v in grads if top(v.answer) == top(first.answer) and not v.right and v is not first]
        for v in same:
            a = v.answer
            # Right for the wrong steps before it (its own wrong value left out).
            before = {w.answer.wrt: w.answer.given for w in wrong
                      if w is not v and (not isinstance(a.wrt, tuple) or a.wrt not in order or back(w) < back(v))}
            if _matches(a.given, run.backprop(roots(first.answer), before).of(a.wrt), "grad"):
                v.note = f"right for your {self._label(first)}"
                report.carried.append(v)

    def _label(self, v: Verdict) -> str:
        return f"{v.answer.lhs.strip()} = {v.answer.rhs.strip()}"


def _sum(xs) -> Number:
    out: Number = Fraction(0)
    for x in xs:
        out = out + x
    return out


def _matches(given: object, expected: object, kind: str) -> bool:
    if kind in ("gate", "cell"):
        if kind == "gate" and given == "update" and expected == "input":
            return True  # some texts call the LSTM's input gate its update gate
        return given == expected
    if isinstance(expected, list) or isinstance(given, list):
        if not (isinstance(expected, list) and isinstance(given, list)) or len(expected) != len(given):
            return False
        return all(_matches(g, e, kind) for g, e in zip(given, expected))
    return number_matches(given, expected)  # type: ignore[arg-type]
