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

import difflib
import re
from functools import lru_cache
from pathlib import Path

from ._lark_parser import Lark, Lark_StandAlone, Token, Transformer, UnexpectedInput, VisitError, v_args

from ..errors import ParseError, RnnvizError, Span
from .parse_errors import convert_error
from .postlex import NewlinesInBrackets
from .syntax import (
    GREEK_LETTERS,
    Assign,
    BinOp,
    Bracket,
    Call,
    Frac,
    Name,
    Neg,
    Num,
    Program,
    Ref,
    ReluDeriv,
    Size,
    Time,
)

__all__ = ["parse_text", "parse_file", "read_source"]

_UNICODE_GREEK = {v: k for k, v in reversed(list(GREEK_LETTERS.items()))}
_UNICODE_GREEK.update({"ϕ": "phi", "ϑ": "theta", "ϵ": "epsilon"})
_ACCENTS = {
    "tilde": "tilde", "widetilde": "tilde", "hat": "hat", "widehat": "hat",
    "bar": "bar", "overline": "bar", "vec": "vec", "check": "check", "breve": "breve",
}
_TIME_RE = re.compile(r"^\s*t\s*(?:([+\-−])\s*(\d+))?\s*$")
_ABS_RE = re.compile(r"^\s*([+\-−]?)\s*(\d+)\s*$")
_WORD_RE = re.compile(r"^[A-Za-z0-9]+$")
_TEXT_CMD_RE = re.compile(r"\\(?:text|textrm|mathrm|mathit|textit|operatorname|textsf|mathsf|mathbf|rm|bf)\s*\{\s*([^{}]*?)\s*\}")
_BARE_RM_RE = re.compile(r"\\(?:rm|bf|it)\s+")
_GREEK_CMD_RE = re.compile(r"\\([A-Za-z]+)")
_TRANSPOSE_RE = re.compile(r"\\(?:top|intercal)(?![A-Za-z])")  # W^\top is the name W^T
_UNICODE_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹ˣ", "0123456789x")
_UNICODE_SUB = str.maketrans("ₜ₀₁₂₃₄₅₆₇₈₉₋₊ₐₑₒₓₕₖₗₘₙₚₛ", "t0123456789-+aeoxhklmnps")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The LALR tables of grammar/rnnviz.lark, built ahead of time by lark's stand-alone
    # generator (scripts/generate_parser.py): no lark import, no grammar to analyse.
    return Lark_StandAlone(postlex=NewlinesInBrackets())


def _span(file: str, obj) -> Span:
    """Span of a token or of a tree's meta."""
    return Span(file, obj.line, obj.column, obj.end_line, obj.end_column)


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


def _strip_braces(text: str) -> str:
    text = text.strip()
    while text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    return text


def _word(text: str) -> str | None:
    """Letters of a sub- or superscript: `hh`, `\\text{xh}`, `\\theta`, `\\mathrm{c}`."""
    text = _TEXT_CMD_RE.sub(lambda m: m.group(1), text)
    text = _TRANSPOSE_RE.sub("T", text)
    text = _BARE_RM_RE.sub("", text)
    text = _GREEK_CMD_RE.sub(lambda m: m.group(1) if m.group(1) in GREEK_LETTERS else m.group(0), text)
    text = "".join(_UNICODE_GREEK.get(ch, ch) for ch in text)
    text = text.replace(" ", "").replace("{", "").replace("}", "")
    return text if _WORD_RE.match(text) else None


@v_args(inline=True)
class _ToSyntax(Transformer):
    """Lark tree -> syntax dataclasses."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    # -- names -------------------------------------------------------------
    def plain(self, tok):
        m = re.match(r"^([A-Za-z]+?)(\d+)$", str(tok))
        if m:
            return Name(m.group(1), subs=(m.group(2),), span=_span(self.file, tok))
        return Name(str(tok), span=_span(self.file, tok))

    def greek(self, tok):
        text = str(tok)
        base = text[1:] if text.startswith("\\") else _UNICODE_GREEK.get(text, text)
        base = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varpi": "pi",
                "varrho": "rho", "varsigma": "sigma"}.get(base, base)
        return Name(base, span=_span(self.file, tok))

    def latexfn(self, tok):
        return Name(str(tok)[1:], span=_span(self.file, tok))

    def textword(self, tok):
        inner = str(tok)[str(tok).index("{") + 1 : -1].strip()
        return self.plain(Token("NAME", inner, tok.start_pos, tok.line, tok.column, tok.end_line, tok.end_column))

    def accent(self, tok, name):
        acc = _ACCENTS[str(tok)[1:]]
        if name.accent:
            raise ParseError("a name can carry only one accent", name.span)
        return Name(name.base, acc, name.subs, name.sups, name.time, name.bold, _span(self.file, tok))

    def font(self, tok, name):
        bold = str(tok)[1:] not in ("mathit",)
        return Name(name.base, name.accent, name.subs, name.sups, name.time, name.bold or bold, name.span)

    def sub(self, tok):
        return ("sub", tok)

    def sup(self, tok):
        return ("sup", tok)

    def index(self, tok):
        return ("index", tok)

    @v_args(meta=True, inline=True)
    def tilde(self, meta):
        return ("tilde", Token("TILDE", "~", None, meta.line, meta.column, meta.end_line, meta.end_column))

    def name(self, core: Name, *suffixes):
        subs, sups, time = list(core.subs), list(core.sups), core.time
        accent = core.accent
        for kind, tok in suffixes:
            span = _span(self.file, tok)
            text = str(tok)
            found: Time | None = None
            if kind == "tilde":
                # Plain `c~[t]` is the LaTeX `\tilde{c}_t`.
                if accent:
                    raise ParseError("a name can carry only one accent", span)
                accent = "tilde"
            elif kind == "index":
                found = _time_of(text[1:-1])
            elif kind == "sub":
                body = _strip_braces(text[1:]) if text.startswith("_") else text.translate(_UNICODE_SUB)
                for part in body.split(","):
                    t = _TIME_RE.match(part)
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
                inner = body
                m = re.match(r"^(?:\((.*)\)|<(.*)>|\\langle(.*)\\rangle)$", body.strip())
                if m:
                    inner = next(g for g in m.groups() if g is not None)
                    found = _time_of(inner)
                elif _TIME_RE.match(body):
                    found = _time_of(body)
                if found is None:
                    word = _word(inner)
                    if not word:
                        raise ParseError(f"cannot read the superscript '{text}'", span,
                                         hint="write a time such as (t) or (t-1), or letters")
                    sups.append(word)
            if found is not None:
                if time is not None:
                    raise ParseError(f"'{core.canonical}' has two time indices", span)
                time = found
        start = core.span
        end = suffixes[-1][1] if suffixes else None
        span = start
        if start is not None and end is not None:
            span = Span(self.file, start.line, start.column, end.end_line, end.end_column)
        return Name(core.base, accent, tuple(subs), tuple(sups), time, core.bold, span)

    # -- expressions -------------------------------------------------------
    def _meta_span(self, meta) -> Span | None:
        return _span(self.file, meta) if not meta.empty else None

    @v_args(meta=True, inline=True)
    def ref(self, meta, name):
        return Ref(name, name.span)

    @v_args(meta=True, inline=True)
    def call(self, meta, name, arg):
        return Call(name, arg, self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def number(self, meta, tok):
        return Num(float(str(tok)), _span(self.file, tok))

    @v_args(meta=True, inline=True)
    def one(self, meta, tok):
        return Num(1.0, _span(self.file, tok))

    @v_args(meta=True, inline=True)
    def index_atom(self, meta, tok):
        t = _time_of(str(tok)[1:-1])
        span = _span(self.file, tok)
        if t is None or not t.absolute:
            raise ParseError("a time index needs a name before it, as in x[t-1]", span)
        return Bracket((Num(float(t.offset), span),), span)

    @v_args(meta=True, inline=True)
    def bracket(self, meta, *items):
        return Bracket(tuple(items), self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def frac(self, meta, _tok, num, den):
        return Frac(num, den, self._meta_span(meta))

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
    def assign(self, meta, lhs, rhs, caption=None):
        cap = None
        if caption is not None:
            cap = str(caption)[str(caption).index("{") + 1 : -1].strip().strip("()").strip() or None
        return Assign(lhs, rhs, cap, self._meta_span(meta))

    @v_args(meta=True, inline=True)
    def size_item(self, meta, name, expr):
        return Size(name, expr, self._meta_span(meta))

    def dim_stmt(self, *items):
        return list(items)

    @v_args(meta=True, inline=True)
    def in_stmt(self, meta, name, reals):
        text = str(reals)
        if re.search(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]$", text):  # ℝ³, ℝ⁵ˣ³ pasted from a web page
            text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹][⁰¹²³⁴⁵⁶⁷⁸⁹ˣ]*$", lambda m: "^{" + m.group(0).translate(_UNICODE_SUP) + "}",
                          text)
        m = re.search(r"\^\s*\{?([^{}]*)\}?\s*$", text)
        span = _span(self.file, reals)
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
    parser = _parser()
    # Windows line ends and a trailing missing newline are both fine.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    postlex = parser.options.postlex
    postlex.text = text
    try:
        tree = parser.parse(text)
    except UnexpectedInput as err:
        raise convert_error(err, text, file, list(postlex.stack)).with_source(text) from None
    try:
        stmts = _ToSyntax(file).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, RnnvizError):
            raise err.orig_exc.with_source(text) from None
        raise
    return Program(tuple(stmts), file, text)


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
            return "<stdin>", stream.read().decode("utf-8-sig")  # -sig: a BOM from Notepad
        except UnicodeDecodeError as e:
            raise ParseError(f"<stdin>: not UTF-8 text ({e.reason} at byte {e.start})") from None
    p = Path(path)
    try:
        return str(path), p.read_text(encoding="utf-8-sig")  # -sig: a BOM from Notepad
    except FileNotFoundError:
        raise ParseError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParseError(f"{path}: is a folder, not an equation file") from None
    except UnicodeDecodeError as e:
        raise ParseError(f"{path}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ParseError(f"{path}: cannot read ({e.strerror})") from None


def parse_file(path: str) -> Program:
    """Read and parse a file (``-`` for standard input)."""
    file, text = read_source(path)
    return parse_text(text, file)


def suggest(word: str, choices) -> str | None:
    """The closest of ``choices`` to ``word``, if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None
