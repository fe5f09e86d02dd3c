"""Text -> syntax tree.

The grammar lives in ``grammar/rnnviz.lark``; its parser is the module lark's
stand-alone generator made of it (``_lark_parser.py``, see
``scripts/generate_parser.py``), loaded once. Lark's errors
are turned into :class:`~rnnviz.errors.ParseError` with plain words, a line,
a column and a caret (by :mod:`rnnviz.language.parse_errors`).

Example:
    >>> from rnnviz.language.parse import parse_text
    >>> prog = parse_text(r"h_t = \\tanh(W \\cdot h_{t-1} + U x_t)")
    >>> str(prog.statements[0].lhs)
    'h[t]'
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

from ._lark_parser import Lark, Lark_StandAlone, Token, Transformer, UnexpectedInput, VisitError, v_args

from ..errors import ParseError, RnnvizError, Span
from ..limits import MAX_DEPTH, MAX_INPUT_BYTES
from .glued import glued_split
from .parse_errors import convert_error
from .paste import Cleaned, clean
from .postlex import NewlinesInBrackets
from .syntax import (
    GREEK_LETTERS,
    Apply,
    Assign,
    BinOp,
    Bracket,
    Call,
    Component,
    Frac,
    Name,
    Neg,
    Node,
    Num,
    Program,
    Ref,
    ReluDeriv,
    Size,
    SumTime,
    Elided,
    Time,
    UnitSum,
)

__all__ = ["parse_text", "parse_file", "read_source"]

_UNICODE_GREEK = {v: k for k, v in reversed(list(GREEK_LETTERS.items()))}
_UNICODE_GREEK.update({"ϕ": "phi", "ϑ": "theta", "ϵ": "epsilon"})
_ACCENTS = {
    "tilde": "tilde", "widetilde": "tilde", "hat": "hat", "widehat": "hat",
    "bar": "bar", "overline": "bar", "vec": "vec", "check": "check", "breve": "breve",
    # The two chains of a bidirectional RNN, as Graves and d2l.ai write them.
    "overrightarrow": "fwd", "overleftarrow": "bwd",
}
_TIME_RE = re.compile(r"^\s*t\s*(?:([+\-−])\s*(\d+))?\s*$")
# `t^\prime`, `t^{\prime}`, `t'`, with an offset: the time of a second sequence (a decoder's).
_PRIMED_TIME_RE = re.compile(r"^\s*t\s*(?:\^\s*\{?\s*\\prime\s*\}?|')\s*((?:[+\-−]\s*\d+)?)\s*$")
_ABS_RE = re.compile(r"^\s*([+\-−]?)\s*(\d+)\s*$")
# A layer index in a superscript: `(l)`, `(l-1)`, `(L)` (deep RNNs, d2l.ai and Goodfellow et al.).
_LAYER_RE = re.compile(r"^\s*(?:l\s*(?:[+\-−]\s*\d+)?|L)\s*$")
# The last step and the steps around it: `T`, `T+1`, `\tau`, `\tau - 1` (the book's length).
_END_RE = re.compile(r"^\s*(?:T|\\tau|τ)\s*(?:([+\-−])\s*(\d+))?\s*$")
_WORD_RE = re.compile(r"^[A-Za-z0-9]+$")
_TEXT_CMD_RE = re.compile(r"\\(?:text|textrm|mathrm|mathit|textit|operatorname|textsf|mathsf|mathbf|rm|bf)\s*\{\s*([^{}]*?)\s*\}")
_BARE_RM_RE = re.compile(r"\\(?:rm|bf|it)\s+")
_GREEK_CMD_RE = re.compile(r"\\([A-Za-z]+)")
_SCRIPT_ACCENT_RE = re.compile(r"\\(tilde|hat|bar)\s*\{\s*([A-Za-z])\s*\}")
_TRANSPOSE_RE = re.compile(r"\\(?:top|intercal)(?![A-Za-z])")  # W^\top is the name W^T
_UNICODE_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹ˣ", "0123456789x")
_UNICODE_SUB = str.maketrans("ₜ₀₁₂₃₄₅₆₇₈₉₋₊ₐₑₒₓₕₖₗₘₙₚₛ", "t0123456789-+aeoxhklmnps")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The LALR tables of grammar/rnnviz.lark, built ahead of time by lark's stand-alone
    # generator (scripts/generate_parser.py): no lark import, no grammar to analyse.
    parser = Lark_StandAlone(postlex=NewlinesInBrackets())
    _use_cached_regexes(parser)
    return parser


def _lexers(parser: Lark) -> list:
    """The lexers of the parser's contextual lexer (one per set of terminals), its root lexer
    last; empty if lark's structure is not the one expected."""
    outer = getattr(getattr(parser, "parser", None), "lexer", None)
    contextual = getattr(outer, "lexer", outer)
    found = getattr(contextual, "lexers", None)
    if not isinstance(found, dict):
        return []
    if hasattr(found, "make_all"):  # made when first used (scripts/generate_parser.py)
        found = found.make_all()
    unique = list({id(lexer): lexer for lexer in found.values()}.values())
    root = getattr(contextual, "root_lexer", None)
    return unique + ([root] if root is not None else [])


def _use_cached_regexes(parser: Lark) -> None:
    """Let the lexers build their scanners from the regexes compiled ahead of time
    (:mod:`rnnviz.language.lexer_regex`): the same patterns, without ``re``'s compiler."""
    from .lexer_regex import CACHED_RE

    outer = getattr(getattr(parser, "parser", None), "lexer", None)
    contextual = getattr(outer, "lexer", outer)
    if hasattr(contextual, "use_re_module"):  # its lexers are made when first used
        contextual.use_re_module(CACHED_RE)
        return
    for lexer in _lexers(parser):
        if hasattr(lexer, "re") and getattr(lexer, "_scanner", None) is None:
            lexer.re = CACHED_RE


def _span(file: str, obj, cleaned: Cleaned | None = None) -> Span:
    """Span of a token or of a tree's meta, in the columns of the text as pasted."""
    if cleaned is None or not cleaned.changed:
        return Span(file, obj.line, obj.column, obj.end_line, obj.end_column)
    return Span(file, *cleaned.span_of(obj.line, obj.column, obj.end_line, obj.end_column))


def _remap(err: RnnvizError, cleaned: Cleaned) -> RnnvizError:
    """An error whose span was found in the cleaned text, moved to the pasted text."""
    if err.span is not None and cleaned.changed:
        sp = err.span
        err.span = Span(sp.file, *cleaned.span_of(sp.line, sp.column, sp.end_line, sp.end_column))
    return err


def _time_of(text: str) -> Time | None:
    m = _TIME_RE.match(text)
    if m:
        off = int(m.group(2) or 0)
        return Time(-off if m.group(1) in ("-", "−") else off)
    m = _ABS_RE.match(text)
    if m:
        val = int(m.group(2))
        return Time(-val if m.group(1) in ("-", "−") else val, absolute=True)
    return None


def _end_of(text: str) -> Time | None:
    """``T+1``, ``\\tau``: a step counted from the last one (only where it cannot be a name)."""
    m = _END_RE.match(text)
    if m:
        off = int(m.group(2) or 0)
        return Time(-off if m.group(1) in ("-", "−") else off, absolute=True, end=True)
    return None


def _strip_braces(text: str) -> str:
    text = text.strip()
    while text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    return text


def _word(text: str) -> str | None:
    """Letters of a sub- or superscript: `hh`, `\\text{xh}`, `\\theta`, `\\mathrm{c}`."""
    text = _TEXT_CMD_RE.sub(lambda m: m.group(1), text)
    # `W^{(\tilde{h})}`: the gate of the candidate h~, written with its accent (named `htilde`).
    text = _SCRIPT_ACCENT_RE.sub(lambda m: m.group(2) + _ACCENTS[m.group(1)], text)
    text = _TRANSPOSE_RE.sub("T", text)
    text = _BARE_RM_RE.sub("", text)
    text = _GREEK_CMD_RE.sub(lambda m: m.group(1) if m.group(1) in GREEK_LETTERS else m.group(0), text)
    text = "".join(_UNICODE_GREEK.get(ch, ch) for ch in text)
    text = text.replace(" ", "").replace("{", "").replace("}", "")
    return text if _WORD_RE.match(text) else None


class _Glued:
    """``W_hh_{t-1}`` read as the product of ``W_h`` and ``h_{t-1}`` (see :mod:`rnnviz.language.glued`)."""

    def __init__(self, head: Name, tail: "Name | _Glued", span: Span | None) -> None:
        self.parts: tuple[Name, ...] = (head,) + (tail.parts if isinstance(tail, _Glued) else (tail,))
        self.span = span

    def __str__(self) -> str:
        return " ".join(str(p) for p in self.parts)

    def product(self) -> BinOp | Ref:
        """The parts as a product, associating to the right like juxtaposition."""
        out: BinOp | Ref = Ref(self.parts[-1], self.parts[-1].span)
        for part in reversed(self.parts[:-1]):
            out = BinOp("prod", Ref(part, part.span), out, self.span)
        return out


class _Picked:
    """``\\hat{y}^{(t)}_{y^{(t)}}``: the entry of a vector that a target (a class index) picks.

    The *Deep Learning* book writes the negative log-likelihood this way (eq. 10.12-10.14):
    ``-\\log \\hat{y}^{(t)}_{y^{(t)}}``. It reads as ``sum(onehot(y_t) * \\hat{y}_t)``.
    """

    def __init__(self, vector: Name, by: Name, span: Span | None) -> None:
        self.vector, self.by, self.span = vector, by, span

    def __str__(self) -> str:
        return f"{self.vector}_{{{self.by}}}"

    def picked(self) -> Call:
        by = Call(Name("onehot", span=self.by.span), Ref(self.by, self.by.span), self.by.span)
        return Call(Name("sum", span=self.span), BinOp("emul", by, Ref(self.vector, self.vector.span), self.span),
                    self.span)


# A subscript that is a target at step t: `_{y^{(t)}}`, `_{y_t}`, `_{y^{<t>}}`, `_{y[t]}`; also a step
# away, as CS224n picks the next word: `\hat{y}^{(t)}_{x_{t+1}}`.
_PICK_OFF = r"\s*((?:[+\-−]\s*\d+)?)\s*"
_PICK_RE = re.compile(r"^\s*(?:\\(?:mathbf|boldsymbol|bm)\s*\{\s*([A-Za-z])\s*\}|([A-Za-z]))\s*"
                      rf"(?:\^\s*\{{?\s*(?:\(\s*t{_PICK_OFF}\)|<\s*t{_PICK_OFF}>|\\langle\s*t{_PICK_OFF}\\rangle)\s*\}}?"
                      rf"|_\s*\{{?\s*t{_PICK_OFF}\}}?|\[\s*t{_PICK_OFF}\])\s*$")


def _single(name) -> Name:
    """A name where only one name can stand (a left side, a function, a size)."""
    if isinstance(name, _Picked):
        raise ParseError(f"'{name}' picks an entry of {name.vector} by a target; it stands inside an expression, "
                         f"as in L_t = -\\log {name}", name.span)
    if isinstance(name, _Glued):
        raise ParseError(f"'{name}' are letters written together; only one name can stand here",
                         name.span, hint="write braces for one name, as in W_{hh}")
    return name


@v_args(inline=True)
class _ToSyntax(Transformer):
    """Lark tree -> syntax dataclasses."""

    def __init__(self, file: str, cleaned: Cleaned | None = None) -> None:
        super().__init__()
        self.file = file
        self.cleaned = cleaned
        self.notes: list[tuple[Span, str]] = []
        # Where a time was written t' (`s_{t^\prime}`, d2l.ai's decoder) and where it was t.
        self.primed: list[Span] = []
        self.unprimed: list[Span] = []
        # `W_hh h_{t-1}`: an unbraced subscript of several letters, kept whole (see _unbraced_notes).
        self.unbraced: list[tuple[Span, str, str]] = []

    def _sp(self, obj) -> Span:
        return _span(self.file, obj, self.cleaned)

    # -- names -------------------------------------------------------------
    def plain(self, tok, *, italic: bool = True):
        m = re.match(r"^([A-Za-z]+?)(\d+)$", str(tok))
        if m:
            return Name(m.group(1), subs=(m.group(2),), span=self._sp(tok))
        # Italic letters written together (not `\text{Ux}`): a time script may sit on the last one only.
        return Name(str(tok), span=self._sp(tok), glued=italic and len(str(tok)) > 1)

    def greek(self, tok):
        text = str(tok)
        base = text[1:] if text.startswith("\\") else _UNICODE_GREEK.get(text, text)
        base = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varpi": "pi",
                "varrho": "rho", "varsigma": "sigma"}.get(base, base)
        return Name(base, span=self._sp(tok))

    def latexfn(self, tok):
        return Name(str(tok)[1:], span=self._sp(tok))

    def textword(self, tok):
        inner = str(tok)[str(tok).index("{") + 1 : -1].strip()
        return self.plain(Token("NAME", inner, tok.start_pos, tok.line, tok.column, tok.end_line, tok.end_column),
                          italic=False)

    def accent(self, tok, name):
        name = _single(name)
        acc = _ACCENTS[str(tok)[1:]]
        if name.accent:
            raise ParseError("a name can carry only one accent", name.span)
        return Name(name.base, acc, name.subs, name.sups, name.time, name.bold, self._sp(tok))

    def font(self, tok, name):
        name = _single(name)
        bold = str(tok)[1:] not in ("mathit", "mathcal", "mathscr")
        # `\mathbf{Wh}_{t-1}`: bold letters written together are letters written together.
        return Name(name.base, name.accent, name.subs, name.sups, name.time, name.bold or bold, name.span,
                    name.glued and bold)

    def sub(self, tok):
        return ("sub", tok)

    def sup(self, tok):
        return ("sup", tok)

    def index(self, tok):
        return ("index", tok)

    def prime(self, tok):
        return ("prime", tok)

    @v_args(meta=True, inline=True)
    def tilde(self, meta):
        return ("tilde", Token("TILDE", "~", None, meta.line, meta.column, meta.end_line, meta.end_column))

    def name(self, core: Name, *suffixes):
        glued = glued_split(suffixes, self._sp)
        if glued is not None:
            k, head_tok, tail_tok = glued
            head = self.name(core, *suffixes[:k], ("sub", head_tok))
            tail = self.name(self.plain(tail_tok), *suffixes[k + 1:])
            spelling = core.canonical + "".join(str(t) for _, t in suffixes)
            shown = f"{head.canonical}{'_' + str(head_tok)[1:] if head.time is not None else ''}"
            tail_shown = str(tail_tok) + "".join(str(t) for _, t in suffixes[k + 1:])
            span = Span(self.file, head.span.line, head.span.column, tail.span.end_line, tail.span.end_column) \
                if head.span and tail.span else head.span
            self.notes.append((span, f"'{spelling}' is read as {shown} {tail_shown}, as LaTeX typesets it (an "
                                     f"unbraced subscript takes one letter); write {shown} {tail_shown} or "
                                     f"{head.base}_{{{str(suffixes[k][1])[1:]}}} for one name"))
            return _Glued(head, tail, span)
        subs, sups, time = list(core.subs), list(core.sups), core.time
        accent = core.accent
        layer_at: int | None = None
        scripted = False  # the time is written as a LaTeX sub- or superscript
        primed_here = False  # ... as t' (see _PRIMED_TIME_RE)
        picked: Name | None = None
        for kind, tok in suffixes:
            span = self._sp(tok)
            text = str(tok)
            found: Time | None = None
            if kind == "sub" and _UNBRACED_SUB_RE.match(text) and core.span is not None:
                self.unbraced.append((Span(self.file, core.span.line, core.span.column, span.end_line,
                                           span.end_column), core.canonical, text))
            if kind == "prime":
                sups.append("prime")
            elif kind == "tilde":
                # Plain `c~[t]` is the LaTeX `\tilde{c}_t`.
                if accent:
                    raise ParseError("a name can carry only one accent", span)
                accent = "tilde"
            elif kind == "index":
                found = _time_of(text[1:-1]) or _end_of(text[1:-1])
            elif kind == "sub":
                body = _strip_braces(text[1:]) if text.startswith("_") else text.translate(_UNICODE_SUB)
                pick = _PICK_RE.match(body) if text.startswith("_") else None
                if pick and picked is None:
                    # `\hat{y}^{(t)}_{y^{(t)}}`: the entry that the target y_t picks.
                    offset = next((g for g in pick.groups()[2:] if g), "0").replace("−", "-")
                    offset = "".join(offset.split())  # `t+\n1`: a pasted line break inside the index
                    picked = Name(pick.group(1) or pick.group(2), time=Time(int(offset)), bold=pick.group(1) is not None,
                                  span=span)
                    continue
                # `h_{(t-1)}` (PyTorch's docs), `x_{[t]}`: a time in brackets inside the subscript.
                bracketed = re.match(r"^\s*(?:\((.*)\)|\[(.*)\])\s*$", body)
                if bracketed and _TIME_RE.match(next(g for g in bracketed.groups() if g is not None)):
                    body = next(g for g in bracketed.groups() if g is not None)
                primed = _PRIMED_TIME_RE.match(body)
                if primed:  # `s_{t^\prime}`, `y_{t'-1}`: the time t' of its own sequence
                    body = "t" + (primed.group(1) or "")
                    primed_here = True
                for part in body.split(","):
                    t = _TIME_RE.match(part)
                    end = _end_of(part) if part.strip() != "T" else None  # `W_T` may be a name
                    if end is not None:
                        if found is not None:
                            raise ParseError("this subscript holds two time indices", span)
                        found = end
                        continue
                    if t:
                        if found is not None:
                            raise ParseError("this subscript holds two time indices", span)
                        found = _time_of(part)
                        continue
                    word = _word(part)
                    if not word:
                        raise ParseError(f"cannot read the subscript '{text}'", span,
                                         hint="write a time (t, t-1) or letters and digits")
                    if word in ("tilde", "hat", "bar") and not subs and not accent:
                        accent = word  # the canonical spelling `c_tilde` of `\tilde{c}`
                        continue
                    subs.append(word)
            else:  # sup
                body = _strip_braces(text[1:])
                primed = re.match(r"^(?:\\prime|')\s*(\(.*\)|<.*>)$", body.strip())
                if primed:  # `y^{\prime(t)}`: the name y' at time t
                    sups.append("prime")
                    body = primed.group(1)
                inner = body
                m = re.match(r"^(?:\((.*)\)|<(.*)>|\\langle(.*)\\rangle)$", body.strip())
                if m:
                    inner = next(g for g in m.groups() if g is not None)
                if m and body.strip().startswith("(") and _LAYER_RE.match(inner):
                    # A layer index, as deep RNNs are written: h_t^{(l)}, h_t^{(l-1)}, h_t^{(L)}.
                    sups.append("(" + re.sub(r"\s+", "", inner).replace("−", "-") + ")")
                    continue
                if m:
                    found = _time_of(inner) or _end_of(inner)
                    if found is not None and found.absolute and not found.end and body.strip().startswith("("):
                        if time is not None and not time.absolute:
                            # H_t^{(1)}: a concrete layer beside a time subscript, not a second time.
                            sups.append(f"({found.offset})")
                            continue
                        else:
                            layer_at = len(sups)  # h^{(1)}_t: a layer if a time subscript follows
                elif _TIME_RE.match(body):
                    found = _time_of(body)
                if found is None:
                    word = _word(inner)
                    if not word:
                        if _LAYER_RE.match(inner.strip()):  # `h_t^{l-1}`, as Zaremba et al. write layers
                            layer = re.sub(r"[{}\s]", "", inner)
                            raise ParseError(f"cannot read the superscript '{text}': a layer index is written in "
                                             f"parentheses, as in h_t^{{({layer})}}", span)
                        raise ParseError(f"cannot read the superscript '{text}'", span,
                                         hint="write a time such as (t) or (t-1), or letters")
                    sups.append(word)
            if found is not None:
                if time is not None and layer_at is not None and not found.absolute:
                    sups.insert(layer_at, f"({time.offset})")
                    layer_at, time = None, None
                if time is not None:
                    raise ParseError(f"'{core.canonical}' has two time indices", span)
                time = found
                scripted = kind in ("sub", "sup")
        start = core.span
        end = suffixes[-1][1] if suffixes else None
        span = start
        if start is not None and end is not None:
            span = Span(self.file, start.line, start.column, end.end_line, end.end_column)
        # Letters written together: a time written as a script sits on the last one (a bare `Ux` keeps the
        # mark, for `\mathbf{Ux}_t`).
        if time is not None and not time.absolute:
            (self.primed if primed_here else self.unprimed).append(span)
        out = Name(core.base, accent, tuple(subs), tuple(sups), time, core.bold, span,
                   core.glued and (scripted if time is not None else not suffixes) and not subs and not sups
                   and not accent)
        if picked is not None:
            if time is None or time.absolute:
                # `E_{x_t}` (an embedding's column): only a vector at step t is indexed by a target.
                raise ParseError(f"'{out}' indexed by {picked} is read only for a variable at step t, as the "
                                 f"book writes -\\log \\hat{{y}}^{{(t)}}_{{y^{{(t)}}}}", picked.span,
                                 hint="write the product, as in E x_t with x_t a one-hot vector")
            by = f"{picked.base}_t" if picked.time.offset == 0 else f"{picked.base}_{{{picked.time}}}"
            who = "the class index" if picked.time.offset == 0 else "the target (a class index or a one-hot vector)"
            self.notes.append((span, f"'{out}' indexed by {picked} is read as the entry of {out.canonical} that "
                                     f"{who} {by} picks: sum(onehot({by}) * {out.canonical}_t)"))
            return _Picked(out, picked, span)
        return out

    # -- expressions -------------------------------------------------------
    def _meta_span(self, meta) -> Span | None:
        return self._sp(meta) if not meta.empty else None

    @v_args(meta=True, inline=True)
    def ref(self, meta, name):
        if isinstance(name, _Glued):
            return name.product()
        if isinstance(name, _Picked):
            return name.picked()
        return Ref(name, name.span)

    @v_args(meta=True, inline=True)
    def call(self, meta, name, arg):
        return Call(_single(name), arg, self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def number(self, meta, tok):
        return Num(float(str(tok)), self._sp(tok))

    @v_args(meta=True, inline=True)
    def one(self, meta, tok):
        return Num(0.0 if re.search(r"\{\s*0\s*\}", str(tok)) else 1.0, self._sp(tok))

    @v_args(meta=True, inline=True)
    def stack_def(self, meta, inner, name):
        """``[W_{aa} W_{ax}] = W_a``: the same as ``W_a = [W_{aa} W_{ax}]`` (see model_build.stacked)."""
        span = self._meta_span(meta)
        return Assign(_single(name), Bracket((inner,), inner.span), None, span)

    @v_args(meta=True, inline=True)
    def index_atom(self, meta, tok):
        t = _time_of(str(tok)[1:-1])
        span = self._sp(tok)
        if t is None or not t.absolute:
            raise ParseError("a time index needs a name before it, as in x[t-1]", span)
        return Bracket((Num(float(t.offset), span),), span)

    @v_args(meta=True, inline=True)
    def bracket(self, meta, *items):
        return Bracket(tuple(items), self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def apply(self, meta, name, arglist):
        args, params = arglist
        return Apply(_single(name), tuple(args), tuple(params), self._meta_span(meta))

    def arglist(self, *items):
        if items and isinstance(items[-1], tuple) and items[-1] and items[-1][0] == "params":
            return list(items[:-1]), list(items[-1][1])
        return list(items), []

    def params(self, *items):
        return ("params", items)

    @v_args(meta=True, inline=True)
    def unitsum(self, meta, tok, body):
        m = re.match(r"\\sum\s*_\s*\{?\s*([A-Za-z])", str(tok))
        bounded = re.search(r"=|\^", str(tok)) is not None
        return UnitSum(m.group(1) if m else str(tok), body, self._meta_span(meta), bounded)

    @v_args(meta=True, inline=True)
    def component(self, meta, body, sub):
        return Component(body, _strip_braces(str(sub)[1:]), self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def frac(self, meta, _tok, num, den):
        return Frac(num, den, self._meta_span(meta))

    def _square(self, meta, tok) -> None:
        if _strip_braces(str(tok)[1:]) != "2":
            raise ParseError(f"only a square is a power here: write (...)^2, not (...){tok}", _span(self.file, tok),
                             hint="rnnviz takes powers of 2, as in a squared error")

    @v_args(meta=True, inline=True)
    def power(self, meta, base, tok):
        self._square(meta, tok)
        span = self._meta_span(meta)
        return Call(Name("square", span=span), base, span)

    @v_args(meta=True, inline=True)
    def sqnorm(self, meta, _open, inner, _close):
        span = self._meta_span(meta)
        return Call(Name("sumsq", span=span), inner, span)

    @v_args(meta=True, inline=True)
    def elided(self, meta, tok):
        return Elided(str(tok), self._sp(tok))

    @v_args(meta=True, inline=True)
    def sum_time(self, meta, _tok, body):
        return SumTime(body, self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def sum_time_neg(self, meta, _tok, body):
        """``\\sum_{t=1}^{T}-\\log \\hat{y}_t`` (CS224n): the sum of a negated term."""
        span = self._meta_span(meta)
        return SumTime(Neg(body, body.span), span)

    def _bin(op):  # noqa: N805 - a factory used in the class body
        @v_args(meta=True, inline=True)
        def method(self, meta, left, *rest):
            right = rest[-1]  # DOTOP/EMULOP tokens sit in between
            return BinOp(op, left, right, self._meta_span(meta))

        return method

    add = _bin("add")
    subtract = _bin("sub")
    prod = _bin("prod")
    emul = _bin("emul")

    @v_args(meta=True, inline=True)
    def neg(self, meta, operand):
        return Neg(operand, self._meta_span(meta))

    # -- statements --------------------------------------------------------
    @v_args(meta=True, inline=True)
    def assign(self, meta, lhs, *sides):
        caption = sides[-1] if isinstance(sides[-1], Token) and sides[-1].type == "CAPTION" else None
        sides = sides[:-1] if caption is not None else sides
        space = sides[-1] if isinstance(sides[-1], Token) else None
        sides = sides[:-1] if space is not None else sides
        earlier, rhs = tuple(sides[:-1]), sides[-1]
        cap = None
        if caption is not None:
            cap = str(caption)[str(caption).index("{") + 1 : -1].strip().strip("()").strip() or None
        stmt = Assign(_single(lhs), rhs, cap, self._meta_span(meta), earlier)
        if space is None:
            return stmt
        # `h_0 = 0 \in \mathbb{R}^{1*hidden-size}`: the value, and its size where the space gives numbers.
        try:
            size = self.in_stmt(meta, lhs, space)
        except ParseError:
            named = stmt.lhs.without_last_sub() if stmt.lhs.numeric_sub is not None else stmt.lhs
            self.notes.append((self._sp(space), f"'{space}' after '{stmt.lhs}' is the space it lies in, with a "
                                                "size rnnviz cannot read: not read (give a size as dim "
                                                f"{named.canonical} = 3)"))
            return stmt
        return [stmt, size] if size.dims else stmt

    @v_args(meta=True, inline=True)
    def assign_of(self, meta, lhs, args, *sides):
        """``L(a, b) = ...``: the left side's arguments are kept for the model to read."""
        plain = self.assign(meta, lhs, *sides)
        items = tuple(args[0]) + tuple(args[1]) if isinstance(args, tuple) and len(args) == 2 and \
            isinstance(args[0], list) else (args,)
        return Assign(plain.lhs, plain.rhs, plain.caption, plain.span, plain.earlier, items)

    @v_args(meta=True, inline=True)
    def size_item(self, meta, name, expr):
        return Size(_single(name), expr, self._meta_span(meta))

    def dim_stmt(self, *items):
        return list(items)

    @v_args(meta=True, inline=True)
    def in_stmt(self, meta, name, reals):
        name = _single(name)
        text = str(reals)
        if re.search(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]$", text):  # ℝ³, ℝ⁵ˣ³ pasted from a web page
            text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹][⁰¹²³⁴⁵⁶⁷⁸⁹ˣ]*$", lambda m: "^{" + m.group(0).translate(_UNICODE_SUP) + "}",
                          text)
        m = re.search(r"\^\s*\{?([^{}]*)\}?\s*$", text)
        span = self._sp(reals)
        if not m:
            dims: tuple[int, ...] = ()
        else:
            parts = re.split(r"\\times|×|\*|,|x", m.group(1))
            try:
                dims = tuple(int(p.strip()) for p in parts)
            except ValueError:
                raise ParseError(f"cannot read the size '{reals}'", span,
                                 hint="write R^3, R^{5} or R^{5 \\times 3}") from None
        return Size(name, dims, self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def deriv_stmt(self, meta, _tok, expr):
        return ReluDeriv(expr, self._meta_span(meta))

    def start(self, *stmts):
        out = []
        for s in stmts:
            out.extend(s if isinstance(s, list) else [s])
        return out


def parse_text(text: str, file: str = "<input>") -> Program:
    """Parse equations and values.

    Args:
        text: the input, plain or LaTeX.
        file: the name used in error messages.

    Raises:
        ParseError: the text does not follow the language.
    """
    if len(text) > MAX_INPUT_BYTES:
        raise ParseError(f"{file}: the input is larger than {MAX_INPUT_BYTES // 1_000_000} MB",
                         hint="a limit of rnnviz; split the values into smaller files")
    parser = _parser()
    # Windows line ends and a trailing missing newline are both fine.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # What copy and paste brings along (Markdown escapes, list markers, array specs, ...);
    # spans are moved back to the columns of the text as pasted.
    cleaned = clean(text)
    postlex = parser.options.postlex
    # One parser (and its post-lexer's state) serves every thread, one parse at a time.
    with _PARSING:
        postlex.text, postlex.file = cleaned.text, file
        try:
            tree = parser.parse(cleaned.text)
        except UnexpectedInput as err:
            error = convert_error(err, cleaned.text, file, list(postlex.stack))
            raise _remap(error, cleaned).with_source(text) from None
        except RnnvizError as err:  # raised by the post-lexer: brackets nested too deeply
            raise _remap(err, cleaned).with_source(text) from None
    transformer = _ToSyntax(file, cleaned)
    try:
        stmts = transformer.transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, RnnvizError):
            raise err.orig_exc.with_source(text) from None
        if isinstance(err.orig_exc, RecursionError):
            raise _remap(_too_deep(tree, file, text), cleaned) from None
        raise
    except RecursionError:  # lark's transformer recurses once per level of the tree
        raise _remap(_too_deep(tree, file, text), cleaned) from None
    for stmt in stmts:
        _check_depth(stmt, text)
    primed: tuple[Span, ...] = ()
    unprimed: tuple[Span, ...] = ()
    if transformer.primed:
        first = transformer.primed[0]
        if transformer.unprimed:
            # An encoder over t and a decoder over t' (d2l.ai): the model checks, once it has split
            # the phases, that every t' is the decoder's and every t the encoder's.
            primed, unprimed = tuple(transformer.primed), tuple(transformer.unprimed)
        else:
            transformer.notes.append((first, "t' is the time of these equations (the only one they use): read "
                                             "as t"))
    transformer.notes += _unbraced_notes(transformer.unbraced, text)
    notes = [f"{file}:{line}:{col}: {msg}"
             for line, col, msg in ((*cleaned.original_position(off), msg) for off, msg in cleaned.notes)]
    notes += [f"{sp}: {msg}" for sp, msg in transformer.notes]
    return Program(tuple(stmts), file, text, tuple(notes), primed, unprimed)


_PARSING = threading.RLock()

#: A subscript of several letters without braces: `_hh`. (A superscript takes one letter
#: already, as in LaTeX: `W^ih` is W^i h.)
_UNBRACED_SUB_RE = re.compile(r"^_[A-Za-z]{2,}$")
_COMMENT_RE = re.compile(r"(?<!\\)[#%].*$", re.MULTILINE)
#: What opens or closes a display: `$$`, `\\[`, `\\]`, `\\begin{...}`, `\\end{...}`.
_DISPLAY_MARK_RE = re.compile(r"\$\$|\\\[|\\\]|\\(begin|end)\{[A-Za-z]+\*?\}")


def _latex_lines(text: str) -> set[int]:
    """The 1-based lines of ``text`` that are LaTeX: a command, a brace or a `$` on the line, or
    inside a display (`$$ ... $$`, `\\[ ... \\]`, an environment). Comments do not count.

    The plain notation writes none of these (`h[t] = tanh(W_hh h[t-1])`); pasted LaTeX writes
    them on nearly every line, and a line of a display that happens to hold none is still typeset.
    """
    text = _COMMENT_RE.sub("", text)
    lines = {i for i, line in enumerate(text.split("\n"), 1) if re.search(r"[\\{}$]", line)}
    # One pass over the marks (linear in the text): the lines from an opening to its closing are in a display.
    depth, dollars, line, counted, start = 0, False, 1, 0, 1
    for m in _DISPLAY_MARK_RE.finditer(text):
        line += text.count("\n", counted, m.start())
        counted = m.start()
        was_open = depth > 0 or dollars
        if m.group(0) == "$$":
            dollars = not dollars
        elif m.group(0) == "\\[" or m.group(1) == "begin":
            depth += 1
        elif depth:
            depth -= 1
        now_open = depth > 0 or dollars
        if now_open and not was_open:
            start = line
        elif was_open and not now_open:
            lines.update(range(start, line + 1))
    if depth > 0 or dollars:  # never closed: to the end
        lines.update(range(start, line + 1 + text.count("\n", counted)))
    return lines


def _unbraced_notes(found: list[tuple[Span, str, str]], text: str) -> list[tuple[Span, str]]:
    """Notes for `W_hh` written in LaTeX: read as the one name W_{hh} its author means, which
    LaTeX typesets otherwise (an unbraced subscript takes one letter: W_h h). One note per spelling,
    at its first place; none on a line of the plain notation, where `W_hh` is an ordinary name."""
    if not found:
        return []
    latex = _latex_lines(text)
    notes: list[tuple[Span, str]] = []
    seen: set[str] = set()
    for span, core, script in found:
        spelling = core + script
        if spelling in seen or span.line not in latex:
            continue
        seen.add(spelling)
        letters = script[1:]
        notes.append((span, f"'{spelling}' is read as {core}_{{{letters}}}, one name; LaTeX typesets it "
                            f"{core}_{letters[0]} {letters[1:]} (an unbraced subscript takes one letter): write "
                            f"{core}_{{{letters}}} so that the page shows it too"))
    return notes


def _too_deep(tree, file: str, text: str) -> ParseError:
    """The error for a statement too deep to transform, at the deepest statement."""
    def depth(node) -> int:
        most, todo = 0, [(node, 1)]
        while todo:
            n, d = todo.pop()
            most = max(most, d)
            todo += [(c, d + 1) for c in getattr(n, "children", ())]
        return most

    stmts = [c for c in tree.children if hasattr(c, "meta")]
    deepest = max(stmts, key=depth) if stmts else tree
    meta = getattr(deepest, "meta", None)
    span = Span(file, meta.line, meta.column, meta.end_line, meta.end_column) \
        if meta is not None and not getattr(meta, "empty", True) else None
    return ParseError(f"this expression is more than {MAX_DEPTH} operations deep", span, source=text,
                      hint="a limit of rnnviz; write a part of it as its own equation")


def _check_depth(stmt, text: str) -> None:
    """Refuse an expression deeper than MAX_DEPTH (every later stage walks it recursively)."""
    node = stmt.rhs if isinstance(stmt, Assign) else getattr(stmt, "value", None)
    todo = [(node, 1)] if isinstance(node, Node) else []
    while todo:
        n, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"this expression is more than {MAX_DEPTH} operations deep",
                             n.span or stmt.span, source=text,
                             hint="a limit of rnnviz; write a part of it as its own equation")
        if isinstance(n, BinOp):
            todo += [(n.left, depth + 1), (n.right, depth + 1)]
        elif isinstance(n, (Neg,)):
            todo.append((n.operand, depth + 1))
        elif isinstance(n, Call):
            todo.append((n.arg, depth + 1))
        elif isinstance(n, Frac):
            todo += [(n.num, depth + 1), (n.den, depth + 1)]
        elif isinstance(n, Bracket):
            todo += [(item, depth + 1) for item in n.items]


def read_source(path: str) -> tuple[str, str]:
    """Read an input file (``-`` is standard input); return (display name, text)."""
    import sys

    if path == "-":
        # Decode the bytes ourselves: a text stream would smuggle binary input through as
        # surrogates and fail later with a caret under an invisible character.
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # replaced by a text-only stream (tests, embedding)
            return "<stdin>", sys.stdin.read()
        try:
            return "<stdin>", _bounded(stream, "<stdin>").decode("utf-8-sig")  # -sig: a BOM from Notepad
        except UnicodeDecodeError as e:
            raise ParseError(f"<stdin>: not UTF-8 text ({e.reason} at byte {e.start})") from None
    p = Path(path)
    try:
        with open(p, "rb") as fh:  # a device such as /dev/zero is read only up to the limit
            return str(path), _bounded(fh, str(path)).decode("utf-8-sig")  # -sig: a BOM from Notepad
    except FileNotFoundError:
        raise ParseError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParseError(f"{path}: is a folder, not an equation file") from None
    except UnicodeDecodeError as e:
        raise ParseError(f"{path}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ParseError(f"{path}: cannot read ({e.strerror})") from None


def _bounded(stream, name: str) -> bytes:
    """At most MAX_INPUT_BYTES of ``stream``; more is an error, not a read until memory runs out."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ParseError(f"{name}: the input is larger than {MAX_INPUT_BYTES // 1_000_000} MB",
                         hint="a limit of rnnviz; split the values into smaller files")
    return data


def parse_file(path: str) -> Program:
    """Read and parse a file (``-`` for standard input)."""
    file, text = read_source(path)
    return parse_text(text, file)


def suggest(word: str, choices) -> str | None:
    """The closest of ``choices`` to ``word``, if any is close."""
    import difflib  # only when a name is not known

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None
