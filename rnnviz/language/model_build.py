"""Syntax tree -> :class:`~rnnviz.language.model.Model`: equations, delays, order, roles, checks.

The builder tells equations from value lines, turns each right side into an
:mod:`rnnviz.language.expr` tree (delays relative to the equation's own step), rejects
what has no meaning (a variable computed twice, a read of the future, an
algebraic loop) and gives each symbol its role. Value lines are resolved by the
:class:`~rnnviz.language.value_lines.ValueLines` it inherits from.

Example:
    >>> from rnnviz.language.parse import parse_text
    >>> from rnnviz.language.model_build import ModelBuilder
    >>> prog = parse_text("y[t] = V h[t]\\nh[t] = tanh(W h[t-1] + U x[t])")
    >>> m = ModelBuilder(prog.file, prog.source, {prog.file: prog.source}).build(prog)
    >>> m.variables, [m.role(n) for n in m.variables]
    (['h', 'y'], ['state', 'output'])
"""

from __future__ import annotations

import re

from ..errors import ParseError, Span, ValueSpecError
from . import expr as E
from . import syntax as S
from .ahead import one_step_ahead
from .cell_form import rewrite_cell_form
from .glued import split_glued_products
from .directions import END, FORWARD, Sweep, check_reads_ahead, concatenations, sweeps_of
from .layers import expand_layers
from .model import Equation, Model, Phases, Symbol
from .model_syntax import (
    FUNCTION_ALIASES,
    can_be_generic,
    constant,
    is_constant,
    is_equation,
    is_function_word,
    map_refs,
    nodes,
    not_a_number,
    refs,
)
from .parse import parse_text, suggest
from .phases import DECODER, LENGTH_NAMES, decoder_length_line, split_phases, start_lhs, with_context_at_t
from .unit_index import refused_sum, rewrite_class_sums, rewrite_unit_index, rewrite_unit_superscript
from .value_lines import ValueLines

__all__ = ["ModelBuilder", "build_model", "load_model"]


#: The spellings of a cross-entropy loss of scores and a target (``cross_entropy(o_t, y_t)``).
CROSS_ENTROPY = ("cross_entropy", "crossentropy", "CrossEntropy", "CE", "cross_entropy_loss", "CrossEntropyLoss")


#: Cells that texts call as functions of their arguments, LSTM(x_t, h_{t-1}): abstract transitions.
CELL_NAMES = ("LSTM", "GRU", "RNN", "biLSTM", "BiLSTM", "LSTMCell", "GRUCell", "RNNCell", "biRNN", "BiRNN")


#: A name as written, with its sub- and superscripts (and a font group's closing brace).
_SPELLED = re.compile(r"[A-Za-z]+\}?(?:\s*[_^]\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[A-Za-z0-9]))+")


#: Names texts give the context of an encoder-decoder (Cho et al. 2014, d2l.ai, the Deep Learning book).
CONTEXT_NAMES = frozenset({"c", "C", "context"})


class ModelBuilder(ValueLines):
    """Builds one model from one program; holds what the checks need between steps."""

    # -- classification ------------------------------------------------------
    def classify(self, stmts) -> tuple[list[S.Assign], list]:
        """Split statements into equations and value statements."""
        eqs = [s for s in stmts if is_equation(s)]
        targets = {s.lhs.canonical for s in eqs}
        pending = [s for s in stmts if isinstance(s, S.Assign) and s.lhs.time is None and not is_constant(s.rhs)]
        # A sheet may drop the time index of a gate (`g_1 = \sigma(W_1 x_t + ...)`):
        # when the right side reads anything at a time, the left side is at t.
        changed = True
        while changed:
            changed = False
            for s in list(pending):
                if any(n.time is not None and not n.time.absolute
                       or n.canonical in targets and self.end_read(n, targets) is None
                       for n, _ in refs(s.rhs)):
                    eqs.append(s)
                    targets.add(s.lhs.canonical)
                    pending.remove(s)
                    changed = True
        # `o = V h_T + c` (Fig. 10.5): computed once, at the last step.
        # What reads such a variable is computed once too (`s_0 = \tanh(D c)` after `c = h_T`).
        self.once_ids = set()
        changed = True
        while changed:
            changed = False
            for s in list(pending):
                if any(self.end_read(n, targets) is not None or n.time is None and n.canonical in self.once_ids
                       for n, _ in refs(s.rhs)):
                    eqs.append(s)
                    targets.add(s.lhs.canonical)
                    self.once_ids.add(s.lhs.canonical)
                    pending.remove(s)
                    changed = True
        eq_ids = {id(s) for s in eqs}
        eqs = [s for s in stmts if id(s) in eq_ids]  # file order
        others = [s for s in stmts if id(s) not in eq_ids]
        return eqs, others

    def end_read(self, name: S.Name, timed: set[str]) -> int | None:
        """``h_T``, ``h[T]``, ``h^{(\\tau)}``, ``h_{T-1}``: a read of the last step (its offset from T), else None.

        A bare subscript T (or tau) is the last step only on a name that has steps (``W_T`` stays a name).
        """
        if name.time is not None and name.time.end:
            return name.time.offset
        if name.time is None and name.subs and name.subs[-1] in ("T", "tau"):
            short = name.without_last_sub().canonical
            if short in timed or short in getattr(self, "timed_names", set()):
                return 0
        return None

    # -- equations -----------------------------------------------------------
    def build(self, prog: S.Program) -> Model:
        self.notes: list[str] = []
        two_times = (prog.primed, prog.unprimed)
        stmts = self.sequence_statements(prog.statements)
        stmts = self.context_functions(stmts)
        stmts = self.at_the_last_step(stmts)
        stmts = self.backward_arrows(stmts)
        stmts, notes = rewrite_class_sums(stmts)
        self.notes += notes
        stmts, self.loss_functions = self.function_lhs(stmts)
        stmts = self.stacked(stmts)
        stmts, notes = rewrite_unit_index(stmts)
        self.notes += notes
        stmts, notes = rewrite_unit_superscript(stmts)
        self.notes += notes
        stmts, notes = rewrite_cell_form(stmts)
        self.notes += notes
        prog = S.Program(tuple(stmts), prog.file, prog.source, prog.notes)
        prog, layer_notes = expand_layers(prog)
        # A note with a position already names the file (FILE:LINE:COL: ...).
        self.notes += [n if n.startswith(f"{self.file}:") else f"{self.file}: {n}" for n in layer_notes]
        totals, statements = self.totals(prog.statements)
        statements = [start_lhs(s) if isinstance(s, S.Assign) and not is_constant(s.rhs) else s
                      for s in statements]
        self.timed_names = {n.canonical for s in statements if isinstance(s, S.Assign)
                            for n, _ in refs(s.rhs) if n.time is not None and not n.time.absolute}
        self.timed_names |= {s.lhs.canonical for s in statements if is_equation(s)}
        eq_stmts, value_stmts = self.classify(statements)
        if not eq_stmts:
            for s in value_stmts:
                if isinstance(s, S.Assign) and not is_constant(s.rhs) and not (
                    isinstance(s.rhs, S.Ref) and is_function_word(s.rhs.name)
                ):
                    if not_a_number(s.rhs) is not None:
                        raise self.err(f"'{not_a_number(s.rhs)}' is not a number rnnviz can compute with; "
                                       f"give '{s.lhs}' a finite value", s.rhs.span or s.span,
                                       cls=ValueSpecError)
                    if s.lhs.time is not None and s.lhs.time.end:
                        raise self.err(f"'{s.lhs}' is a step counted from the last step T; an equation is "
                                       f"written for a lowercase t, as in {s.lhs.canonical}[t] = ...", s.lhs.span)
                    raise self.err(f"this equation has no time index on its left side; write "
                                   f"{s.lhs.canonical}[t] = ... (or {s.lhs.canonical}_t, "
                                   f"{s.lhs.canonical}^{{(t)}})", s.lhs.span)
            span = prog.statements[0].span if prog.statements else Span(self.file, 1, 1, 1, 1)
            prose = any("reads like prose" in str(n) for n in prog.notes)
            raise self.err("no equations found" + ("; the text reads like prose and holds no equation, only "
                                                   "mentions of symbols" if prose else ""), span,
                           hint="write an equation such as h[t] = tanh(W h[t-1] + U x[t])")
        for s in value_stmts:
            if isinstance(s, S.Assign) and s.earlier:
                raise self.err("a value line holds one '=' per value; separate values with ',' or ';'",
                               s.rhs.span or s.span)
        for s in eq_stmts:
            if s.earlier:
                self.notes.append(f"{s.lhs.span}: '{s.lhs}' is written as a chain of {len(s.earlier) + 1} "
                                  f"right sides; the last one defines it")
        eq_stmts = [self.bare_calls(s) for s in eq_stmts]
        # Targets, duplicates.
        first_at: dict[str, S.Assign] = {}
        again: list[S.Assign] = []
        for s in eq_stmts:
            name = s.lhs.canonical
            if name in first_at:
                prev = first_at[name].span
                if s.lhs == first_at[name].lhs and s.rhs == first_at[name].rhs and self.blocks_used:
                    # The compact form of an equation given above, W_a [a_{t-1}, x_t] with
                    # W_a = [W_aa W_ax]: the same equation, written twice.
                    self.notes.append(f"{s.lhs.span}: '{s.lhs}' is written again in the compact form of line "
                                      f"{prev.line if prev else '?'} (the same equation); read once")
                    again.append(s)
                    continue
                raise self.err(f"'{name}' is computed twice (first on line {prev.line if prev else '?'}); "
                               "each variable has one equation", s.lhs.span)
            first_at[name] = s
        eq_stmts = [s for s in eq_stmts if not any(s is a for a in again)]
        targets = set(first_at)
        # `Ux_t`, `Wh_{t-1}`: LaTeX sets the index on the last letter; read as the product, or refused.
        declared = {s.name.canonical for s in value_stmts if isinstance(s, S.Size) and s.name.time is not None}
        eq_stmts, notes = split_glued_products(eq_stmts, targets, declared,
                                               lambda message, span, **kw: self.err(message, span, **kw),
                                               self.spelled)
        self.notes += notes
        eq_stmts = self.transposes(eq_stmts, targets)
        split = split_phases(eq_stmts, self.once_ids, self.end_name, lambda message, span: self.err(message, span))
        if two_times[0]:
            self.two_times(split, *two_times)
        if split is not None:
            return self.build_phased(prog, split, value_stmts)
        joined = concatenations(eq_stmts, targets)
        targets |= set(joined)
        # Names used without time and not computed, and names used with time.
        plain_used: dict[str, S.Name] = {}
        timed_used: dict[str, S.Name] = {}
        called: dict[str, S.Name] = {}  # names before a parenthesis: a function or a product
        for s in eq_stmts:
            for n, in_call_position in refs(s.rhs):
                if n.time is not None:
                    timed_used.setdefault(n.canonical, n)
                elif not in_call_position:
                    plain_used.setdefault(n.canonical, n)
                else:
                    called.setdefault(n.canonical, n)
        self.targets = targets
        self.plain_used = plain_used
        self.timed_used = timed_used
        self.generic: dict[str, S.Name] = {}
        self.display: dict[str, S.Name] = {}
        self.first_span: dict[str, Span | None] = {}

        self.given_noted: set[str] = set()
        # `s_t = \tanh(W s_{t-1} + C c)`: a context that a matrix reads, computed nowhere, is a parameter.
        for s in eq_stmts:
            for node in nodes(s.rhs):
                if isinstance(node, S.BinOp) and node.op == "prod" and isinstance(node.right, S.Ref) \
                        and node.right.name.base in CONTEXT_NAMES and not isinstance(node.left, S.Num):
                    self.given_argument(node.right.name)
        self.ahead = one_step_ahead(eq_stmts)
        if self.ahead.note:
            self.notes.append(self.ahead.note)
        equations = []
        for s in eq_stmts:
            lhs = s.lhs
            shift = lhs.time.offset if lhs.time is not None else self.ahead.untimed_shift
            self._note(lhs.canonical, lhs)
            self.at_end = s.lhs.time is None and s.lhs.canonical in self.once_ids
            expr = self.expr(s.rhs, shift)
            equations.append(Equation(lhs.canonical, expr, s.caption, s.span, lhs.span, self.at_end))
        self.at_end = False
        for name, (first, parts) in joined.items():
            items = tuple(E.Var(p, 0, first.span) for p in parts)
            for p in parts:
                self._note(p, self.display[p])
            equations.append(Equation(name, E.Concat(items, first.span), None, first.span, first.span))
            self.notes.append(f"{first.span}: {first.with_time(None)} is not computed; it is read as the concatenation "
                         f"[{'; '.join(parts)}] of the two directions")

        # `h_t^{(i)} = ... h_{t-1}`: h^i is computed, h read at a time but computed nowhere. The
        # superscript may be a unit index, or a typo; either way, h would silently be a new input.
        for name, n in timed_used.items():
            if name in targets:
                continue
            # y read beside the prediction \hat{y} in one equation, (\hat{y}_t - y_t)^2 or
            # -\log \hat{y}_{y_t}, is the target of that prediction, not a misspelling of it.
            beside = {r.canonical for s in eq_stmts for r, _ in refs(s.rhs)
                      if any(q.canonical == name for q, _ in refs(s.rhs))}
            # The target of a cross-entropy, cross_entropy(V h_t, y_t) beside \hat{y}_t = softmax(V h_t), likewise.
            ce_target = any(isinstance(node, S.Apply) and node.func.canonical in CROSS_ENTROPY
                            and any(r.canonical == name for a in node.args[1:] for r, _ in refs(a))
                            for s in eq_stmts for node in nodes(s.rhs))
            decorated = [t for t in targets if t != name and self.display.get(t) is not None
                         and self.display[t].base == n.base and not n.subs and not n.sups and not n.accent
                         and not (self.display[t].accent == "hat" and (t in beside or ce_target))]
            if decorated:
                other = decorated[0]
                raise self.err(f"'{name}' is read at a time ({n}) but computed nowhere, while '{other}' is "
                               f"computed; if '{other}' is meant as {name} (a superscript that marks a unit), "
                               f"write it as {name}", n.span)

        # A name read both with and without a time index is a mistake.
        for name, n in [*plain_used.items(), *called.items()]:
            if name in timed_used and name not in targets:
                t = timed_used[name]
                raise self.err(f"'{name}' is read with a time index elsewhere ({t}), but here without one; "
                               f"write {name}[t] or {name}[t-1]", n.span)

        # `Uh[t-1]` (a time in brackets indexes the whole name, so split_glued_products leaves it)
        # is one name `Uh`; if its tail is a computed variable, the sheet almost surely meant `U h[t-1]`.
        for name, n in timed_used.items():
            if name in targets or n.subs or n.sups or n.accent or len(n.base) < 2:
                continue
            for cut in range(1, len(n.base)):
                head, tail = n.base[:cut], n.base[cut:]
                if tail in targets:
                    raise self.err(f"'{n.base}' is read with a time index but never computed; "
                                   f"did you mean {head} {tail} (a product)?", n.span,
                                   hint=f"put a space or \\cdot between {head} and {tail}")

        once = {eq.target for eq in equations if eq.once}
        for eq in equations:
            for v in E.walk(eq.expr):
                if isinstance(v, E.Var) and v.name in once and not eq.once:
                    raise self.err(f"'{v.name}' is computed once, at the last step, so an equation at every step "
                                   "cannot read it at a step", v.span,
                                   hint=f"a decoder reads a context without a time, the same at each of its "
                                        f"steps: write {v.name}, as in s_t = \\tanh(A s_{{t-1}} + C {v.name})")
        ordered = self.order(equations)
        per_step = [eq for eq in ordered if not eq.once]
        sweeps = sweeps_of(per_step, lambda message, span: self.err(message, span)) if per_step else []
        check_reads_ahead(per_step, sweeps, lambda message, span, hint: self.err(message, span, hint=hint))
        if once:
            sweeps.append(Sweep(END, tuple(eq.target for eq in ordered if eq.once)))
        rank = {name: i for i, sw in enumerate(sweeps) for name in sw.targets}
        ordered = sorted(ordered, key=lambda eq: rank[eq.target])
        symbols = self.symbols(ordered)
        for name, (per_step, span) in totals.items():
            if per_step not in targets:
                raise self.err(f"'{name}' sums {per_step} over time, but no equation computes {per_step}[t]", span,
                               hint=f"write the loss at each step, as in {per_step}^{{(t)}} = \\frac{{1}}{{2}}"
                                    "(o^{(t)} - y^{(t)})^2")
            if name != per_step and name in symbols:
                raise self.err(f"'{name}' is the total of {per_step} over time, but the equations use {name} too",
                               span)
        model = Model(tuple(ordered), symbols, (), self.file, self.source, dict(self.sources),
                      list(prog.notes) + self.notes,
                      tuple(sweeps) if len(sweeps) > 1 or sweeps[0].direction != FORWARD else (),
                      tuple((name, per_step) for name, (per_step, _) in totals.items()), tuple(self.means))
        for s in value_stmts:
            if isinstance(s, S.Assign) and s.lhs.canonical in LENGTH_NAMES and s.lhs.time is None \
                    and s.lhs.canonical not in symbols:
                raise self.err(f"{'T' + chr(39) if s.lhs.canonical == 'T^prime' else s.lhs} is the length of an "
                               "encoder-decoder's output sequence, but these equations have no decoder", s.lhs.span,
                               hint="a decoder reads a context computed once at the encoder's end (c = h_T) at "
                                    "every step, or starts from it (s_0 = \\tanh(D c)); the input's length T is "
                                    "that of x, or --steps")
        values = self.values_of(value_stmts, model)
        model.values = tuple(values)
        return model

    def transposes(self, eq_stmts: list[S.Assign], targets: set[str]) -> list[S.Assign]:
        """``x_t^T W_{xh}``, ``h_{t-1}^\\top U`` (row-vector forms): the vector, with a note, since the order of
        a product already says how it multiplies. A transpose anywhere else, and a matrix read both as
        ``W`` and as ``W^T`` (the language has no transpose of a matrix), are errors."""
        plain = {n.canonical for s in eq_stmts for n, called in refs(s.rhs) if n.time is None and not called}
        for s in eq_stmts:
            for n, _ in refs(s.rhs):
                if n.time is None and n.sups and n.sups[-1] == "T" and n.canonical not in targets:
                    bare = S.Name(n.base, n.accent, n.subs, n.sups[:-1], None, n.bold).canonical
                    if bare in plain:
                        raise self.err(f"'{n.canonical}' is the transpose of {bare}, which the equations also read; "
                                       "the language has no transpose of a matrix", n.span,
                                       hint=f"name a matrix of its own apart (as in V), or write the product in the "
                                            f"other order: h^T {bare} is the row vector h times {bare}")
        noted: set[str] = set()

        def transposed(node: S.Node) -> bool:
            return isinstance(node, S.Ref) and node.name.time is not None and not node.name.time.absolute \
                and node.name.sups[-1:] == ("T",) and node.name.canonical not in targets

        def vector(ref: S.Ref) -> S.Ref:
            n = ref.name
            v = S.Name(n.base, n.accent, n.subs, n.sups[:-1], n.time, n.bold, n.span)
            if v.canonical not in noted:
                noted.add(v.canonical)
                self.notes.append(f"{n.span}: '{self.spelled(n.span) or n}' (a transposed vector) is read as "
                                  f"{v.canonical}[{n.time}] before the matrix: the order of a product says how it "
                                  f"multiplies (x W is the row vector x times W)")
            return S.Ref(v, ref.span)

        def first(node: S.Node) -> S.Node:
            while isinstance(node, S.BinOp) and node.op == "prod":
                node = node.left
            return node

        def walk(node: S.Node) -> S.Node:
            if isinstance(node, S.BinOp):
                if node.op == "prod" and transposed(node.left):
                    right = first(node.right)
                    if isinstance(right, S.Ref) and right.name.time is None:
                        return S.BinOp("prod", vector(node.left), walk(node.right), node.span)
                return S.BinOp(node.op, walk(node.left), walk(node.right), node.span)
            if transposed(node):
                raise self.err(f"'{self.spelled(node.span) or node.name}' transposes a vector; rnnviz reads a "
                               "transposed vector only before a matrix, as in x_t^T W", node.span,
                               hint="an inner product of two vectors (a score, as attention computes) is not "
                                    "part of the equation language")
            if isinstance(node, S.Call):
                return S.Call(node.func, walk(node.arg), node.span)
            if isinstance(node, S.Apply):
                return S.Apply(node.func, tuple(map(walk, node.args)), tuple(map(walk, node.params)), node.span)
            if isinstance(node, S.Neg):
                return S.Neg(walk(node.operand), node.span)
            if isinstance(node, S.Bracket):
                return S.Bracket(tuple(map(walk, node.items)), node.span)
            if isinstance(node, S.Frac):
                return S.Frac(walk(node.num), walk(node.den), node.span)
            return node

        return [S.Assign(s.lhs, walk(s.rhs), s.caption, s.span, s.earlier, s.args) for s in eq_stmts]

    def spelled(self, span: Span | None) -> str | None:
        """The text of the input that a one-line span covers, else None."""
        if span is None or span.line != span.end_line or span.file not in self.sources:
            return None
        lines = self.sources[span.file].splitlines()
        if span.line > len(lines):
            return None
        line = lines[span.line - 1]
        # A name with its scripts (`Ws_{t-1}`, `x_t^\top`), read from the text: after clean-up the
        # span's end may fall short of them.
        m = _SPELLED.match(line, span.column - 1)
        return m.group(0) if m else line[span.column - 1:span.end_column - 1]

    def end_name(self, name: S.Name) -> str | None:
        """The variable a read of the last step names (``h_T``, ``h[T]`` -> ``h``), else None."""
        if self.end_read(name, self.timed_names) is None:
            return None
        return name.canonical if name.time is not None else name.without_last_sub().canonical

    def two_times(self, split, primed: tuple[Span, ...], unprimed: tuple[Span, ...]) -> None:
        """A text that writes both t and t' (d2l.ai: the encoder over t = 1..T, the decoder over t' = 1..T'):
        every t' must be in a decoder equation and every t in an encoder equation; then t' reads as the
        decoder's t. Anything else is refused at the first time in the wrong place."""
        def inside(span: Span, stmt: S.Assign) -> bool:
            sp = stmt.span
            return sp is not None and span.file == sp.file and \
                (sp.line, sp.column) <= (span.line, span.column) and \
                (span.end_line, span.end_column) <= (sp.end_line, sp.end_column)

        first = primed[0]
        if split is None:
            # One sequence: two time letters have nothing to tell apart.
            raise self.err("these equations run over two times, t and t' (an encoder's and a decoder's "
                           "sequence), but no context ties an encoder to a decoder", first, cls=ParseError,
                           hint="an encoder-decoder reads the encoder through its context: write c = h_T and the "
                                "decoder s_{t'} = g(y_{t'-1}, c, s_{t'-1}); or write one time, t")
        for span in primed:
            stmt = next((s for s in split.encoder + split.context if inside(span, s)), None)
            if stmt is not None:
                raise self.err(f"'{stmt.lhs.canonical}' is an encoder equation (it runs over the input, t = 1, ..., T), but "
                               "it is written at t', the decoder's time", span, cls=ParseError,
                               hint="write the encoder at t and the decoder, which reads the context, at t'")
        for span in unprimed:
            stmt = next((s for s in split.decoder if inside(span, s)), None)
            if stmt is not None:
                raise self.err(f"'{stmt.lhs.canonical}' is a decoder equation (it reads the context and runs over the "
                               "output, t' = 1, ..., T'), but it is written at t, the encoder's time", span,
                               cls=ParseError, hint="write every decoder time with t', as in s_{t'-1} and y_{t'-1}")
        self.notes.append(f"{first}: t is the encoder's time (t = 1, ..., T) and t' the decoder's (t' = 1, ..., "
                          "T'): each phase runs over its own steps; the decoder's t' is read as its t")

    def build_phased(self, prog: S.Program, split, value_stmts: list) -> Model:
        """An encoder-decoder: each phase built as a model of its own, then the two side by side."""
        sums = [s for s in prog.statements if isinstance(s, S.Assign) and isinstance(s.rhs, S.SumTime)]
        decoder_targets = {s.lhs.canonical for s in split.decoder}

        def sub(stmts, sums_of) -> Model:
            mine = [s for s in sums if isinstance(s.rhs.body, S.Ref) and s.rhs.body.name.canonical in sums_of]
            program = S.Program(tuple(stmts) + tuple(mine), self.file, self.source, ())
            return ModelBuilder(self.file, self.source, self.sources).build(program)

        contexts = set(split.contexts)
        encoder = sub(split.encoder + split.context, {s.lhs.canonical for s in split.encoder})
        decoder = sub([with_context_at_t(s, contexts) for s in split.decoder], decoder_targets)
        rest = list(value_stmts)
        length, length_span = decoder_length_line(rest, self.err)
        symbols = dict(encoder.symbols)
        for name, sym in decoder.symbols.items():
            symbols.setdefault(name, sym)
        sweeps = tuple(encoder.sweeps) + tuple(Sweep(sw.direction, sw.targets, sw.chains, DECODER)
                                               for sw in decoder.sweeps)
        phases = Phases(encoder, decoder, split.contexts, tuple(split.starts.items()), length, length_span)
        model = Model(encoder.equations + decoder.equations, symbols, (), self.file, self.source, dict(self.sources),
                      list(prog.notes) + self.notes, sweeps, encoder.totals + decoder.totals,
                      encoder.means + decoder.means, phases)
        model.values = tuple(self.values_of(rest, model))
        return model

    # Function words that never name a number: `tanh c^{<t>}` is tanh applied to c (σ may be a scalar).
    _BARE_FUNCTIONS = frozenset({"tanh", "sigmoid", "relu", "softmax", "exp", "log"})

    def bare_calls(self, stmt: S.Assign) -> S.Assign:
        """``tanh c_t`` (a function written without parentheses) read as ``tanh(c_t)``, with a note."""

        def walk(node: S.Node) -> S.Node:
            if isinstance(node, S.BinOp):
                left, right = node.left, node.right
                if (node.op == "prod" and isinstance(left, S.Ref) and is_function_word(left.name)
                        and FUNCTION_ALIASES[left.name.base] in self._BARE_FUNCTIONS):
                    if not isinstance(right, (S.Ref, S.Call, S.Bracket)):
                        raise self.err(f"'{left.name.base}' is a function: write its argument in parentheses, "
                                       f"{left.name.base}(...)", left.span)
                    self.notes.append(f"{left.span}: '{left.name.base}' without parentheses is read as "
                                      f"{left.name.base}({right.name if isinstance(right, S.Ref) else '...'}); "
                                      f"write the parentheses to say so")
                    return S.Call(left.name, walk(right), node.span)
                return S.BinOp(node.op, walk(left), walk(right), node.span)
            if isinstance(node, S.Call):
                return S.Call(node.func, walk(node.arg), node.span)
            if isinstance(node, S.Apply):
                return S.Apply(node.func, tuple(walk(a) for a in node.args), tuple(walk(p) for p in node.params),
                               node.span)
            if isinstance(node, S.Neg):
                return S.Neg(walk(node.operand), node.span)
            if isinstance(node, S.Bracket):
                return S.Bracket(tuple(walk(i) for i in node.items), node.span)
            if isinstance(node, S.Ref) and is_function_word(node.name) and \
                    FUNCTION_ALIASES[node.name.base] in self._BARE_FUNCTIONS:
                raise self.err(f"'{node.name.base}' is a function: write its argument in parentheses, "
                               f"{node.name.base}(...)", node.span)
            return node

        rhs = walk(stmt.rhs)
        return stmt if rhs is stmt.rhs else S.Assign(stmt.lhs, rhs, stmt.caption, stmt.span, stmt.earlier)

    def function_lhs(self, statements) -> tuple[list, dict[str, tuple[S.Node, ...]]]:
        """``\\mathcal{L}(\\hat{y}^{<t>}, y^{<t>}) = ...`` and ``L(x_1, \\ldots, y_T) = \\sum_t ...``: a loss
        written as a function of what it depends on.

        With arguments at step t, the left side is the loss at each step (``L^{<t>}``); a call of
        it with the same arguments inside a total, ``\\sum_t \\mathcal{L}(\\hat{y}^{<t>}, y^{<t>})``, reads
        that loss. Otherwise the left side is a total over time, and its arguments only say what
        it depends on. Returns the statements and the per-step losses by name -> their arguments.
        """
        out: list = []
        per_step: dict[str, tuple[S.Node, ...]] = {}
        for s in statements:
            if not isinstance(s, S.Assign) or s.args is None:
                out.append(s)
                continue
            lhs = s.lhs
            timed = [a for a in s.args if any(n.time is not None for n, _ in refs(a))]
            if lhs.time is not None:
                if timed:
                    raise self.err(f"'{lhs}' has a time index and arguments at a time; write "
                                   f"{lhs.canonical}_t = ... for the value at each step", lhs.span)
                # `J^{(t)}(\theta) = ...` (CS224n): the loss at step t, as a function of the parameters.
                self.notes.append(f"{lhs.span}: the arguments of '{lhs.canonical}^{{(t)}}(...)' say what the loss "
                                  "at each step depends on; they are not read")
                out.append(S.Assign(lhs, s.rhs, s.caption, s.span, s.earlier))
                continue
            if timed:
                # An argument may be any expression (a pasted `x^{(t-1)}T` is a product): the read
                # off step t is found among its names.
                off = next((n for a in timed for n in nodes(a) if isinstance(n, S.Ref) and n.name.time is not None
                            and (n.name.time.absolute or n.name.time.offset != 0)), None)
                if off is not None:
                    raise self.err(f"'{lhs}(...)' reads {off.name} among its arguments; a loss at step t "
                                   f"takes its arguments at step t", off.span)
                per_step[lhs.canonical] = s.args
                self.notes.append(f"{lhs.span}: '{lhs}(...)' with arguments at step t is the loss at each step, "
                                  f"{lhs}^{{(t)}}")
                out.append(S.Assign(lhs.with_time(S.Time(0)), s.rhs, s.caption, s.span, s.earlier))
                continue
            if not (isinstance(s.rhs, S.SumTime) or self._mean_of(s.rhs) or self._negated_total(s.rhs)):
                raise self.err(f"'{lhs}(...) = ...' defines a function of its arguments, which is not part of the "
                               "equation language", lhs.span,
                               hint=f"write the variable at each step, as in {lhs.canonical}_t = ..., or a total "
                                    f"over time, {lhs.canonical} = \\sum_t {lhs.canonical}_t")
            self.notes.append(f"{lhs.span}: the arguments of '{lhs}(...)' say what the total depends on; "
                              "they are not read")
            out.append(S.Assign(lhs, s.rhs, s.caption, s.span, s.earlier))
        return out, per_step

    def sequence_statements(self, statements) -> list:
        """``h = [h_1, \\dots, h_n] = \\text{biLSTM}(\\text{GloVe}(x))``: what the whole sequence is, said
        before its equations at step t; not read (with a note)."""
        out = []
        for s in statements:
            sides = (*s.earlier, s.rhs) if isinstance(s, S.Assign) else ()
            listed = next((side for side in sides if isinstance(side, S.Bracket)
                           and any(isinstance(i, S.Elided) for i in side.items)
                           and all(isinstance(i, S.Elided) or isinstance(i, S.Ref) and i.name.base == s.lhs.base
                                   for i in side.items)), None)
            if isinstance(s, S.Assign) and s.lhs.time is None and s.args is None and listed is not None:
                self.notes.append(f"{s.lhs.span}: '{s.lhs} = [...]' lists the whole sequence of {s.lhs}; its "
                                  f"equations at step t define it, so this line is not read")
                continue
            out.append(s)
        return out

    def at_the_last_step(self, statements) -> list:
        """``o^{(\\tau)} = c + V h^{(\\tau)}`` (Goodfellow et al., Fig. 10.5: a single output at the end): a left
        side at the last step whose right side is not numbers is a value computed once, after every step,
        read as ``o = c + V h_T``, and so are its reads at the last step, with a note."""
        per_step = {s.lhs.canonical for s in statements if isinstance(s, S.Assign) and s.lhs.time is not None
                    and not s.lhs.time.absolute and not s.lhs.time.end}
        candidates = {}
        for s in statements:
            t = s.lhs.time if isinstance(s, S.Assign) else None
            if t is not None and t.end and t.offset == 0 and s.args is None and not is_constant(s.rhs) \
                    and s.lhs.canonical not in per_step:
                candidates.setdefault(s.lhs.canonical, s)
        # Only what reads a computed variable at the last step (h^{(\tau)}, or another such value) is one:
        # `h[T] = tanh(x[T])` alone is an equation written with a capital T, an error said later.
        ends: dict[str, S.Assign] = {}
        changed = True
        while changed:
            changed = False
            for name, s in candidates.items():
                if name not in ends and any(n.time is not None and n.time.end and (n.canonical in per_step
                                                                                   or n.canonical in ends)
                                            for n, _ in refs(s.rhs)):
                    ends[name] = s
                    changed = True
        if not ends:
            return statements

        def untimed(ref: S.Ref) -> S.Node:
            n = ref.name
            if n.canonical in ends and n.time is not None and n.time.end and n.time.offset == 0:
                return S.Ref(n.with_time(None), ref.span)
            return ref

        out = []
        for s in statements:
            if not isinstance(s, S.Assign):
                out.append(s)
                continue
            lhs = s.lhs.with_time(None) if s.lhs.canonical in ends and s is ends[s.lhs.canonical] else s.lhs
            if lhs is not s.lhs:
                self.notes.append(f"{s.lhs.span}: '{s.lhs.canonical}' at the last step T (the single output at "
                                  f"the end): computed once, after every step, as {s.lhs.canonical} = ...")
            out.append(S.Assign(lhs, map_refs(s.rhs, untimed), s.caption, s.span, s.earlier, s.args))
        return out

    @staticmethod
    def _every_step(args: tuple[S.Node, ...]) -> S.Name | None:
        """``h_1, \\ldots, h_T`` (also ``h^{(1)}, \\dots, h^{(\\tau)}``): the state at every step, first to
        last, with the steps between elided; the variable it lists (its last step), else None."""
        if len(args) != 3 or not isinstance(args[1], S.Elided) or not all(isinstance(a, S.Ref) for a in args[::2]):
            return None
        first, last = args[0].name, args[2].name
        first_step = (first.time is not None and first.time.absolute and first.time.offset == 1) or (
            first.time is None and first.subs and first.subs[-1] == "1")
        last_step = (last.time is not None and last.time.end and last.time.offset == 0) or (
            last.time is None and last.subs and last.subs[-1] in ("T", "tau"))
        if not (first_step and last_step and first.base == last.base and first.accent == last.accent):
            return None
        return last

    def context_functions(self, statements) -> list:
        """d2l.ai's context of every encoder state, ``c = q(h_1, \\ldots, h_T)``, read by the choice of q
        the text writes, ``q(h_1, \\ldots, h_T) = h_T`` ("the context variable is just the hidden state
        h_T"); without a choice, an error that says how to write one. The choice line itself is no
        equation of the model."""
        choices: dict[str, tuple[S.Assign, S.Name]] = {}
        out = []
        for s in statements:
            if isinstance(s, S.Assign) and s.args is not None and s.lhs.time is None:
                listed = self._every_step(s.args)
                if listed is not None:
                    choices[s.lhs.canonical] = (s, listed)
                    continue
            out.append(s)
        result, used = [], set()
        for s in out:
            rhs = s.rhs if isinstance(s, S.Assign) else None
            listed = self._every_step(rhs.args) if isinstance(rhs, S.Apply) and not rhs.params else None
            if listed is None:
                result.append(s)
                continue
            func = rhs.func
            base = listed.without_last_sub() if listed.time is None else listed.with_time(None)
            spelled = f"{func.canonical}({base.canonical}_1, \\ldots, {base.canonical}_T)"
            if func.canonical not in choices:
                raise self.err(f"'{s.lhs} = {spelled}' makes the context of every encoder state through a function "
                               f"{func.canonical} that the text does not choose; rnnviz reads the context the text "
                               "writes out", rhs.span, cls=ParseError,
                               hint=f"write the choice of {func.canonical} beside it, as d2l.ai does: {spelled} = "
                                    f"{base.canonical}_T (the context is the encoder's last state), or write "
                                    f"{s.lhs} = {base.canonical}_T")
            choice, chosen = choices[func.canonical]
            chosen_base = chosen.without_last_sub() if chosen.time is None else chosen.with_time(None)
            if chosen_base.canonical != base.canonical:
                raise self.err(f"the choice of {func.canonical} lists the states of {chosen_base.canonical}, but "
                               f"'{s.lhs}' applies it to those of {base.canonical}; write both over the same states",
                               rhs.span, cls=ParseError)
            for n, _ in refs(choice.rhs):
                if n.base == base.base and n.accent == base.accent and n.canonical != base.canonical \
                        and self.end_read(n, {base.canonical}) is None:
                    raise self.err(f"the choice of {func.canonical} reads {n}, a step other than the last; rnnviz "
                                   f"reads a context computed once from the encoder's end ({base.canonical}_T), not "
                                   "from the steps in between", n.span, cls=ParseError)
            used.add(func.canonical)
            written = choice.rhs.name.canonical if isinstance(choice.rhs, S.Ref) else (
                self.source_text(choice.rhs.span) or "its right side")
            self.notes.append(f"{rhs.span}: {spelled} is read by the text's choice of {func.canonical} (line "
                              f"{choice.span.line if choice.span else '?'}): {s.lhs} = {written}, computed once "
                              "from the encoder's last step")
            result.append(S.Assign(s.lhs, choice.rhs, s.caption, s.span, s.earlier))
        for name, (choice, _) in choices.items():
            if name not in used:
                self.notes.append(f"{choice.lhs.span}: the choice of {name} is not read: no equation applies "
                                  f"{name} to the encoder's states")
        return result

    def source_text(self, span: Span | None) -> str | None:
        """The input's text under a one-line span, else None."""
        if span is None or span.line != span.end_line or span.file not in self.sources:
            return None
        lines = self.sources[span.file].splitlines()
        return lines[span.line - 1][span.column - 1:span.end_column - 1].strip() if span.line <= len(lines) else None

    def backward_arrows(self, statements) -> list:
        """``\\overleftarrow{h}_t = \\text{LSTM}(x_t, \\overleftarrow{h}_{t-1})`` (CoVe, as Lilian Weng's notes
        write it): the backward direction's previous step, in its own direction, is t+1."""
        out = []
        for s in statements:
            if not (isinstance(s, S.Assign) and s.lhs.accent == "bwd" and s.lhs.time is not None
                    and not s.lhs.time.absolute):
                out.append(s)
                continue
            own = [n for n, _ in refs(s.rhs) if n.with_time(None) == s.lhs.with_time(None) and n.time is not None
                   and not n.time.absolute]
            if not own or any(n.time.offset > s.lhs.time.offset for n in own):
                out.append(s)
                continue

            def flip(node: S.Node) -> S.Node:
                if isinstance(node, S.Ref) and node.name.with_time(None) == s.lhs.with_time(None) \
                        and node.name.time is not None and not node.name.time.absolute:
                    t = node.name.time
                    return S.Ref(node.name.with_time(S.Time(2 * s.lhs.time.offset - t.offset)), node.span)
                if isinstance(node, S.BinOp):
                    return S.BinOp(node.op, flip(node.left), flip(node.right), node.span)
                if isinstance(node, S.Call):
                    return S.Call(node.func, flip(node.arg), node.span)
                if isinstance(node, S.Apply):
                    return S.Apply(node.func, tuple(map(flip, node.args)), tuple(map(flip, node.params)),
                                   node.span)
                if isinstance(node, S.Neg):
                    return S.Neg(flip(node.operand), node.span)
                if isinstance(node, S.Bracket):
                    return S.Bracket(tuple(map(flip, node.items)), node.span)
                return node

            first = own[0]
            self.notes.append(f"{first.span}: '{first}' is the backward direction's previous step, which in its own "
                              f"direction is t+1: read as {first.with_time(S.Time(2 * s.lhs.time.offset - first.time.offset))} "
                              "(the arrow runs from T down to 1)")
            out.append(S.Assign(s.lhs, flip(s.rhs), s.caption, s.span, s.earlier, s.args))
        return out

    def stacked(self, statements) -> list:
        """``[W_{aa} W_{ax}] = W_a`` (also ``W_a = [W_{aa} W_{ax}]``): a matrix given by its blocks side by side.

        deeplearning.ai's notes write the RNN twice, ``a^{<t>} = g(W_{aa} a^{<t-1>} + W_{ax} x^{<t>} + b_a)``
        and ``a^{<t>} = g(W_a [a^{<t-1>}, x^{<t>}] + b_a)`` with that definition. ``W_a [u, v]`` is read as
        ``W_{aa} u + W_{ax} v``, so both are one equation and ``W_a`` no parameter of its own.
        """
        self.blocks_used = False
        blocks: dict[str, tuple[S.Assign, list[S.Name]]] = {}
        rest = []
        for s in statements:
            parts = self._blocks_of(s)
            if parts is None:
                rest.append(s)
                continue
            if s.lhs.canonical in blocks:
                raise self.err(f"'{s.lhs}' is given by its blocks twice", s.lhs.span)
            blocks[s.lhs.canonical] = (s, parts)
        if not blocks:
            return list(statements)

        def walk(node: S.Node) -> S.Node:
            if isinstance(node, S.BinOp):
                left = node.left
                if node.op == "prod" and isinstance(left, S.Ref) and left.name.time is None \
                        and left.name.canonical in blocks:
                    stmt, parts = blocks[left.name.canonical]
                    right = node.right
                    if not (isinstance(right, S.Bracket) and len(right.items) == len(parts)):
                        raise self.err(f"'{left.name}' is the blocks [{' '.join(map(str, parts))}]; it multiplies a "
                                       f"concatenation of {len(parts)}, as in {left.name} [a_{{t-1}}, x_t]",
                                       left.span)
                    self.blocks_used = True
                    out: S.Node | None = None
                    for part, item in zip(parts, right.items):
                        term = S.BinOp("prod", S.Ref(part, left.span), walk(item), node.span)
                        out = term if out is None else S.BinOp("add", out, term, node.span)
                    return out  # type: ignore[return-value]
                return S.BinOp(node.op, walk(node.left), walk(node.right), node.span)
            if isinstance(node, S.Ref) and node.name.time is None and node.name.canonical in blocks:
                _, parts = blocks[node.name.canonical]
                raise self.err(f"'{node.name}' is the blocks [{' '.join(map(str, parts))}]; it multiplies a "
                               f"concatenation, as in {node.name} [a_{{t-1}}, x_t]", node.span)
            if isinstance(node, S.Call):
                return S.Call(node.func, walk(node.arg), node.span)
            if isinstance(node, S.Apply):
                return S.Apply(node.func, tuple(map(walk, node.args)), tuple(map(walk, node.params)), node.span)
            if isinstance(node, S.Neg):
                return S.Neg(walk(node.operand), node.span)
            if isinstance(node, S.Bracket):
                return S.Bracket(tuple(map(walk, node.items)), node.span)
            return node

        out = [S.Assign(s.lhs, walk(s.rhs), s.caption, s.span, s.earlier, s.args) if isinstance(s, S.Assign)
               and is_equation(s) else s for s in rest]
        for name, (stmt, parts) in blocks.items():
            self.notes.append(f"{stmt.span}: {stmt.lhs} = [{' '.join(map(str, parts))}] gives {stmt.lhs} by its "
                              f"blocks: {stmt.lhs} [u, v] is read as "
                              f"{' + '.join(f'{p} {u}' for p, u in zip(parts, 'uvwxyz'))}")
        return out

    @staticmethod
    def _blocks_of(s) -> list[S.Name] | None:
        """The blocks of ``W_a = [W_{aa} W_{ax}]``: two or more plain names written side by side."""
        if not (isinstance(s, S.Assign) and s.lhs.time is None and s.args is None and isinstance(s.rhs, S.Bracket)
                and len(s.rhs.items) == 1):
            return None
        parts: list[S.Name] = []
        node = s.rhs.items[0]
        while isinstance(node, S.BinOp) and node.op == "prod" and isinstance(node.left, S.Ref):
            parts.append(node.left.name)
            node = node.right
        if not isinstance(node, S.Ref):
            return None
        parts.append(node.name)
        if len(parts) < 2 or any(p.time is not None for p in parts):
            return None
        return parts

    def per_step_loss(self, total: S.Assign, body: S.Node, statements) -> tuple[S.Name, S.Assign | None]:
        """What a total sums at step t: a variable (``L^{(t)}``), a loss written as a function and called
        with its arguments, the right side of the loss at each step written out again, or an expression
        (``l(y_t, o_t)``), which becomes the loss at each step."""
        if isinstance(body, S.Ref):
            return body.name, None
        func = body.func if isinstance(body, (S.Apply, S.Call)) else None
        if func is not None and func.canonical in self.loss_functions:
            args = body.args + body.params if isinstance(body, S.Apply) else (body.arg,)
            if tuple(args) != tuple(self.loss_functions[func.canonical]):
                raise self.err(f"'{func}' is the loss at each step of its arguments "
                               f"({', '.join(map(str, self.loss_functions[func.canonical]))}); the sum calls it with "
                               "others", body.span)
            return func.with_time(S.Time(0)), None
        name = total.lhs.with_time(S.Time(0))
        same = next((o for o in statements if isinstance(o, S.Assign) and o.rhs == body and o.lhs.time == S.Time(0)),
                    None)
        if same is not None:
            # J(\theta) = \frac{1}{T} \sum_t -\log \hat{y}_{x_{t+1}} beside J^{(t)} = -\log \hat{y}_{x_{t+1}}
            # (CS224n): the body is that loss's right side again, so the total adds that loss.
            self.notes.append(f"{body.span or total.span}: the sum's body is the right side of {same.lhs.canonical}_t "
                              f"(line {same.span.line if same.span else '?'}) again; the total adds that loss")
            return same.lhs, None
        self.notes.append(f"{body.span or total.span}: the sum's body is read as the loss at each step, "
                          f"{total.lhs.canonical}_t = ...; the total {total.lhs.canonical} adds it over the steps")
        return name, S.Assign(name, body, None, total.span)

    def totals(self, statements) -> tuple[dict[str, tuple[str, Span | None]], list]:
        """``L = \\sum_t L^{(t)}`` lines: total name -> (the per-step variable, span); the other lines."""
        found: dict[str, tuple[str, Span | None]] = {}
        self.means: list[str] = []
        rest = []
        for s in statements:
            if isinstance(s, S.Assign) and self._negated_total(s.rhs):
                s = S.Assign(s.lhs, s.rhs.operand, s.caption, s.span, s.earlier, s.args)
                negated = True
            else:
                negated = False
            mean = isinstance(s, S.Assign) and self._mean_of(s.rhs)
            if not (isinstance(s, S.Assign) and (isinstance(s.rhs, S.SumTime) or mean)):
                rest.append(s)
                continue
            if mean:
                self.means.append(s.lhs.canonical)
            body = s.rhs.right.body if mean else s.rhs.body
            if negated:
                body = S.Neg(body, body.span)  # `-\frac{1}{T} \sum_t X` adds -X over the steps
            if s.lhs.time is not None:
                raise self.err(f"a sum over time is one number for the whole sequence: write {s.lhs.canonical} = "
                               f"\\sum_t ..., without a time on the left", s.lhs.span)
            name, made = self.per_step_loss(s, body, statements)
            if not (name.time is not None and not name.time.absolute and name.time.offset == 0):
                raise self.err("\\sum_t adds a loss over every step: it takes one variable at step t, as in "
                               "L = \\sum_t L^{(t)}", body.span or s.span)
            if made is not None:
                if any(isinstance(o, S.Assign) and o.lhs.canonical == name.canonical and o.lhs.time is not None
                       for o in statements):
                    raise self.err(f"the sum's body would be the loss {name.canonical}_t, but an equation computes "
                                   f"{name.canonical}_t already; write L = \\sum_t {name.canonical}_t", body.span)
                rest.append(made)
            found[s.lhs.canonical] = (name.canonical, s.span)
        return found, rest

    def _negated_total(self, rhs: S.Node) -> bool:
        """``-\\frac{1}{T} \\sum_t X`` or ``-\\sum_t X``: a total of -X."""
        return isinstance(rhs, S.Neg) and (isinstance(rhs.operand, S.SumTime) or self._mean_of(rhs.operand))

    @staticmethod
    def _mean_of(rhs: S.Node) -> bool:
        """``\\frac{1}{T} \\sum_{t=1}^{T} L_t`` (also ``\\frac{1}{\\tau}``): the average of a loss over the steps."""
        if not (isinstance(rhs, S.BinOp) and rhs.op == "prod" and isinstance(rhs.left, S.Frac)
                and isinstance(rhs.right, S.SumTime)):
            return False
        num, den = rhs.left.num, rhs.left.den
        return (isinstance(num, S.Num) and num.value == 1 and isinstance(den, S.Ref) and den.name.time is None
                and not den.name.subs and not den.name.sups and den.name.base in ("T", "tau"))

    def _note(self, canonical: str, name: S.Name) -> None:
        if canonical not in self.display:
            self.display[canonical] = name.with_time(None)
            self.first_span[canonical] = name.span

    def expr(self, node: S.Node, shift: int) -> E.Expr:
        sp = node.span
        if isinstance(node, S.Num):
            return E.Num(node.value, sp)
        if isinstance(node, S.Frac):
            if not (is_constant(node.num) and is_constant(node.den)):
                raise self.err("\\frac takes numbers here, as in \\frac{3}{2}", sp)
            den = constant(node.den)
            if den == 0:
                raise self.err("division by zero in \\frac", node.den.span or sp)
            return E.Num(constant(node.num) / den, sp)
        if isinstance(node, S.Ref):
            return self.ref(node.name, shift)
        if isinstance(node, S.Call):
            return self.call(node, shift)
        if isinstance(node, S.Apply):
            return self.apply(node, shift)
        if isinstance(node, S.BinOp):
            cls = {"add": E.Add, "sub": E.Sub, "prod": E.Prod, "emul": E.EMul}[node.op]
            out = cls(self.expr(node.left, shift), self.expr(node.right, shift), sp)
            if cls is E.EMul and sum(isinstance(side, E.Param) for side in (out.left, out.right)) == 1 and \
                    any(isinstance(side, E.Var) for side in (out.left, out.right)):
                # Early PyTorch docs write w_ih * x_t for the matrix product; here `*` is element-wise.
                self.notes.append(f"{sp}: {E.to_text(out)} is an element-wise product (one weight per entry); "
                                  f"for a matrix product write {E.to_text(out.left)} {E.to_text(out.right)}")
            return out
        if isinstance(node, S.Neg):
            inner = self.expr(node.operand, shift)
            if isinstance(inner, E.Num):
                return E.Num(-inner.value, sp)
            return E.Neg(inner, sp)
        if isinstance(node, S.Elided):
            raise self.err(f"an elided list ('{node.command}') is not part of the equation language", sp,
                           hint="write every term or argument; rnnviz reads one step of a recurrence",
                           cls=ParseError)
        if isinstance(node, S.SumTime):
            raise self.err("a sum over time stands alone, as the total of a loss: L = \\sum_t L^{(t)}; "
                           "an equation at step t cannot read it", sp)
        if isinstance(node, S.Bracket):
            if len(node.items) == 1:
                return self.expr(node.items[0], shift)
            return E.Concat(tuple(self.expr(i, shift) for i in node.items), sp)
        if isinstance(node, (S.UnitSum, S.Component)):
            # Left by the rewrites: inside the body of a loss total (`\frac{1}{T}\sum_t \sum_j ...`)
            # that is not the cross-entropy over the classes, or not in unit-index notation.
            raise refused_sum(node)
        raise AssertionError(node)  # pragma: no cover

    def ref(self, name: S.Name, shift: int) -> E.Expr:
        canonical = name.canonical
        end = self.end_read(name, self.targets)
        if end is not None:
            short = canonical if name.time is not None else name.without_last_sub().canonical
            if not getattr(self, "at_end", False):
                raise self.err(f"'{name}' reads the last step T; an equation at step t reads {short}[t] or "
                               f"{short}[t-1] (with a lowercase t), and one computed once at the end reads the "
                               f"last step, as in o = V {short}_T + c", name.span)
            self._note(short, name.with_time(None) if name.time is not None else name.without_last_sub())
            return E.Var(short, -end, name.span)
        if getattr(self, "at_end", False) and name.time is not None and not name.time.absolute:
            raise self.err(f"'{name}' is at step t, but this equation is computed once, at the end: read the "
                           f"last step, as in {canonical}_T (also {canonical}[T], {canonical}^{{(\\tau)}})",
                           name.span)
        if name.time is not None:
            if name.time.absolute:
                raise self.err(f"'{name}' names a fixed step; equations read variables at times relative "
                               f"to t, such as {canonical}[t] or {canonical}[t-1]", name.span,
                               hint=f"to give a value, write it on a line of its own: {canonical}[0] = ...")
            delay = -(name.time.offset - shift)
            if canonical not in self.targets:
                delay -= self.ahead.input_lag  # `h_{t+1} = f(h_t, x_t)`: x_t is the input of the step
            self._note(canonical, name)
            return E.Var(canonical, delay, name.span)
        if canonical == "t":
            raise self.err("'t' is the time step; it can only appear in a time index such as x[t-1]", name.span)
        self._note(canonical, name)
        if canonical in self.targets:
            return E.Var(canonical, 0, name.span)
        return E.Param(canonical, name.span)

    def call(self, node: S.Call, shift: int) -> E.Expr:
        func = node.func
        sp = node.span
        arg = self.expr(node.arg, shift)
        canonical = func.canonical
        if func.time is not None:
            if canonical in self.targets:
                self.notes.append(f"{func.span}: '{func}(...)' is read as the product of {func} and what the "
                                  f"parentheses hold: '{canonical}' is computed here; if it is a function, "
                                  f"give it a name of its own")
            return E.Prod(self.ref(func, shift), arg, sp)
        known = is_function_word(func)
        used = canonical in self.targets or canonical in self.plain_used or canonical in self.timed_used
        if canonical in CROSS_ENTROPY and func.time is None and not used:
            raise self.err(f"{canonical}(...) takes two arguments, the scores and the target, as in "
                           "cross_entropy(o_t, y_t); here it has 1", func.span)
        if known and not used:
            return E.Call(known, arg, False, sp)
        if used:
            return E.Prod(self.ref(func, shift), arg, sp)
        if can_be_generic(func):
            self._note(canonical, func)
            self.generic[canonical] = func
            return E.Call(canonical, arg, True, sp)
        word = func.base
        if not func.subs and not func.sups and word.isalpha() and word.islower() and len(word) >= 2:
            close = suggest(word, list(FUNCTION_ALIASES))
            hint = "rnnviz knows tanh, sigmoid (sigma), relu, softmax, exp, log and identity"
            if close:
                raise self.err(f"unknown function '{word}'; did you mean {close}?", func.span, hint=hint)
            raise self.err(f"unknown function '{word}'", func.span,
                           hint=hint + "; a one-letter or Greek name such as f or \\phi is a generic activation")
        return E.Prod(self.ref(func, shift), arg, sp)

    def apply(self, node: S.Apply, shift: int) -> E.Expr:
        """``f(x_t, h_{t-1}, w_h)``: an abstract transition, drawn and printed, without numbers."""
        func = node.func
        canonical = func.canonical
        items = node.args + node.params
        if canonical in CROSS_ENTROPY and not func.time and canonical not in self.targets:
            return self.cross_entropy(node, shift)
        known = is_function_word(func)
        if known or canonical in ("max", "min"):
            comma = self._comma_after(node.args[0]) if len(node.args) > 1 else None
            hint = ("max(0, a) is relu(a); write \\text{ReLU}(a) or relu(a)" if canonical == "max"
                    else f"{canonical} takes one argument, as in {canonical}(W x_t)")
            raise self.err(f"a function of {len(items)} arguments such as {canonical}(...) is not part of the "
                           "language", comma or func.span, hint=hint, cls=ParseError)
        if func.time is not None or canonical in self.targets or canonical in self.plain_used \
                or canonical in self.timed_used:
            raise self.err(f"'{canonical}' is a symbol of the model, so '{canonical}(...)' with several "
                           "arguments is neither a product nor a function; give the function a name of its own",
                           func.span)
        if canonical in CELL_NAMES and not func.subs:
            # `\overrightarrow{h}_t = \text{LSTM}(x_t, \overrightarrow{h}_{t-1})` (CoVe, Lilian Weng's notes):
            # a whole cell as one function of its arguments, drawn and written out like f(...).
            if canonical not in self.generic:
                self.notes.append(f"{func.span}: '{canonical}(...)' is read as an abstract transition, a whole "
                                  f"{canonical} cell as one function; write the cell's equations to compute it")
        elif not can_be_generic(func):
            raise self.err(f"'{canonical}(...)' names a whole cell as a function of its arguments; write the "
                           "cell's equations, which rnnviz reads", func.span,
                           hint="an unnamed transition is written with one letter or a Greek letter, as in "
                                "h_t = f(x_t, h_{t-1})")
        self._note(canonical, func)
        self.generic[canonical] = func
        for a in node.args:  # not those after `;`: those are the function's parameters by the text's own word
            if isinstance(a, S.Ref):
                self.given_argument(a.name)
        args = tuple(self.expr(a, shift) for a in items)
        return E.Call(canonical, E.Concat(args, node.span), True, node.span, abstract=True,
                      params=len(node.params))

    def given_argument(self, name: S.Name) -> None:
        """A note for an argument of ``f(...)`` (or a context ``C c``) that is a parameter only because nothing computes it.

        ``s_{t'} = g(y_{t'-1}, c, s_{t'-1})`` (d2l.ai's decoder, without its encoder): ``c`` is
        the encoder's context, which the block does not compute, so it is read as one fixed
        vector. Weights and biases (``w_h``, ``W``, ``U``, ``b``, ``\\theta``) are parameters as
        meant and get no note.
        """
        canonical = name.canonical
        if name.time is not None or canonical in self.targets or canonical in self.given_noted:
            return
        base = name.base
        if base[:1] in "wWUVb" or base in S.GREEK_LETTERS or (len(base) == 1 and base.isupper() and base != "C"):
            return
        self.given_noted.add(canonical)
        if base in CONTEXT_NAMES:
            why = "an encoder-decoder writes c = h_T (the encoder's last state) to compute it"
        else:
            why = f"write {canonical}_t for an input read at every step, or an equation that computes it"
        self.notes.append(f"{name.span}: {canonical} is read as a given parameter, one fixed value at every step: "
                          f"nothing in the text computes it; {why}")

    def cross_entropy(self, node: S.Apply, shift: int) -> E.Expr:
        """``cross_entropy(o_t, y_t)``: ``-sum(onehot(y_t) * logsoftmax(o_t))``, as ``nn.CrossEntropyLoss``.

        ``o_t`` are scores (logits), one per class; ``y_t`` is the target: a class index
        (0 .. n-1) or a vector over the classes (one-hot, or probabilities). Which one follows
        from the target's size (see :mod:`rnnviz.numeric.shapes`).
        """
        sp = node.span
        if node.params or len(node.args) != 2:
            raise self.err(f"{node.func.canonical}(...) takes two arguments, the scores and the target, as in "
                           f"cross_entropy(o_t, y_t); here it has {len(node.args) + len(node.params)}",
                           node.func.span or sp)
        scores = self.expr(node.args[0], shift)
        target = self.expr(node.args[1], shift)
        return E.Neg(E.Call("sum", E.EMul(E.Call("onehot", target, False, target.span),
                                          E.Call("logsoftmax", scores, False, scores.span), sp), False, sp), sp)

    def _comma_after(self, first: S.Node) -> Span | None:
        """Where the comma after a call's first argument is (for `max(0, a)`)."""
        sp = first.span
        lines = self.source.splitlines()
        if sp is None or sp.file != self.file or not 0 < sp.end_line <= len(lines):
            return None
        line = lines[sp.end_line - 1]
        k = line.find(",", sp.end_column - 1)
        return Span(self.file, sp.end_line, k + 1, sp.end_line, k + 2) if k >= 0 else None

    # -- order and roles -----------------------------------------------------
    def order(self, equations: list[Equation]) -> list[Equation]:
        """Topological order of same-step reads; stable in file order."""
        by_name = {eq.target: eq for eq in equations}
        deps = {
            eq.target: [v.name for v in E.walk(eq.expr) if isinstance(v, E.Var) and v.delay == 0 and v.name in by_name]
            for eq in equations
        }
        done: list[Equation] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                words = " needs ".join(f"{n}[t]" for n in cycle)
                eq = by_name[cycle[0]]
                if len(cycle) == 2:  # reads itself: usually a time index it did not take as one
                    raise self.err(f"algebraic loop: {name}[t] reads itself at the same step", eq.lhs_span or eq.span,
                                   hint=f"a recurrence reads the previous step, {name}[t-1] (also {name}_{{t-1}}); "
                                        "the time is a lowercase t")
                raise self.err(f"algebraic loop: {words}; one of them must read the other at t-1",
                               eq.lhs_span or eq.span)
            state[name] = 1
            for d in deps[name]:
                visit(d, path + [name])
            state[name] = 2
            done.append(by_name[name])

        for eq in equations:
            visit(eq.target, [])
        return done

    def symbols(self, equations: list[Equation]) -> dict[str, Symbol]:
        same_step_read: set[str] = set()
        delayed_read: set[str] = set()
        for eq in equations:
            for node in E.walk(eq.expr):
                if isinstance(node, E.Var):
                    (same_step_read if node.delay == 0 else delayed_read).add(node.name)
        symbols: dict[str, Symbol] = {}
        for name, disp in self.display.items():
            span = self.first_span.get(name)
            if name in self.generic:
                symbols[name] = Symbol(name, disp, "function", "function", span)
            elif name in self.targets:
                if name not in same_step_read:
                    role = "output"
                elif name in delayed_read:
                    role = "state"
                else:
                    role = "hidden"
                symbols[name] = Symbol(name, disp, "variable", role, span)
            elif name in self.timed_used:
                symbols[name] = Symbol(name, disp, "input", "input", span)
            else:
                symbols[name] = Symbol(name, disp, "parameter", "parameter", span)
        return symbols


def build_model(program: S.Program) -> Model:
    """Give a parsed program its meaning.

    Raises:
        ModelError: duplicates, loops, future reads, and the like.
        ValueSpecError: a value line that names nothing the equations use.
    """
    sources = {program.file: program.source}
    return ModelBuilder(program.file, program.source, sources).build(program)


def load_model(text: str, file: str = "<input>") -> Model:
    """Parse ``text`` and build its model."""
    return build_model(parse_text(text, file))
