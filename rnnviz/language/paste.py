"""Pasted text -> what the grammar reads, with a map back to the original columns.

Course texts reach rnnviz by copy and paste, and each source brings its own wrapping:
a blog's Markdown escapes (``\\_``, ``\\*``, ``a^{\\<t\\>}``, ``\\\\(``), list markers
before an equation, prose around ``$...$``, a Markdown converter that doubled every
backslash, MediaWiki's ``<math>``, reStructuredText's ``:math:`...```, an ``array``
environment with its column spec, a stacked vector in ``bmatrix``, OCR tools' braces around whole cells, the macros of
the *Deep Learning* book (``\\vx``, ``\\mW``, ``\\vtheta``). :func:`clean` rewrites all of
that into the plain LaTeX the grammar reads, before lexing, and keeps for every
character where it came from, so that an error still points at the column of the
text the user pasted. What changes the reading beyond layout is reported as a note.

Example:
    >>> c = clean("* $a^{\\\\<t\\\\>} = g(W_{aa} a^{\\\\<t-1\\\\>})$")
    >>> c.text.strip()
    '$a^{<t>} = g(W_{aa} a^{<t-1>})$'
    >>> c.position(c.text.index("W"))   # line and column of W in the pasted text
    (1, 18)
"""

from __future__ import annotations

import bisect
import re
from .._dataclasses import dataclass, field

__all__ = ["Cleaned", "clean"]


@dataclass
class Cleaned:
    """The text the grammar reads, and where each of its characters came from.

    Attributes:
        text: the cleaned text.
        original: the text as pasted.
        origin: ``origin[i]`` is the offset in ``original`` of ``text[i]``; one more entry
            for the end.
        notes: ``(offset in original, message)`` for each rewriting that a reader should hear of.
    """

    text: str
    original: str
    origin: list[int]
    notes: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = _line_starts(self.text)
        self._orig_starts = _line_starts(self.original)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def offset(self, line: int, column: int) -> int:
        """Offset in ``text`` of a 1-based line and column of ``text``."""
        line = min(max(line, 1), len(self._starts))
        return min(self._starts[line - 1] + max(column, 1) - 1, len(self.text))

    def original_offset(self, offset: int, end: bool = False) -> int:
        """Offset in ``original`` of an offset in ``text`` (an exclusive end when ``end``)."""
        offset = min(max(offset, 0), len(self.text))
        if end and offset > 0:
            return self.origin[offset - 1] + 1
        return self.origin[offset]

    def position(self, offset: int, end: bool = False) -> tuple[int, int]:
        """1-based (line, column) in ``original`` of an offset in ``text``."""
        return self.original_position(self.original_offset(offset, end))

    def original_position(self, orig: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._orig_starts, orig)
        return line, orig - self._orig_starts[line - 1] + 1

    def span_of(self, line: int, column: int, end_line: int, end_column: int) -> tuple[int, int, int, int]:
        """A span given in ``text`` coordinates, in ``original`` coordinates."""
        start = self.offset(line, column)
        stop = self.offset(end_line, end_column)
        l1, c1 = self.position(start)
        if stop <= start:
            return l1, c1, l1, c1
        l2, c2 = self.position(stop, end=True)
        return l1, c1, l2, c2


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


class _Text:
    """A text being rewritten, with the origin of each character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.origin = list(range(len(text) + 1))
        self.notes: list[tuple[int, str]] = []

    def sub(self, pattern: re.Pattern, repl) -> None:
        """Replace every match; ``repl(match)`` gives the new text (or None to keep it)."""
        out: list[str] = []
        origin: list[int] = []
        last = 0
        for m in pattern.finditer(self.text):
            new = repl(m)
            if new is None:
                continue
            out.append(self.text[last:m.start()])
            origin.extend(self.origin[last:m.start()])
            out.append(new)
            origin.extend(self._origin_of(m, new))
            last = m.end()
        if not out:
            return
        out.append(self.text[last:])
        origin.extend(self.origin[last:])
        self.text = "".join(out)
        self.origin = origin + [self.origin[-1]]

    def _origin_of(self, m: re.Match, new: str) -> list[int]:
        """Each new character's origin: the old character it keeps (a greedy alignment), else the nearest."""
        old = m.group(0)
        base = m.start()
        if not old:
            return [self.origin[base]] * len(new)
        if old.endswith(new):  # a prefix was dropped: the rest keeps its columns
            start = base + len(old) - len(new)
            return self.origin[start:start + len(new)]
        out: list[int] = []
        j = 0
        for ch in new:
            k = old.find(ch, j)
            if k < 0:
                out.append(self.origin[base + min(j, len(old) - 1)])
            else:
                out.append(self.origin[base + k])
                j = k + 1
        return out

    def note(self, offset: int, message: str) -> None:
        self.notes.append((self.origin[min(offset, len(self.text))], message))


# -- the passes -----------------------------------------------------------------

class _Lazy:
    """A pattern compiled when first used: text without LaTeX or Markdown needs none of
    these, and compiling them all cost a short command a few milliseconds."""

    __slots__ = ("_args", "_pattern")

    def __init__(self, *args) -> None:
        self._args = args
        self._pattern: re.Pattern | None = None

    def __getattr__(self, name: str):
        if self._pattern is None:
            self._pattern = re.compile(*self._args)
        return getattr(self._pattern, name)



# A Markdown converter that doubled every backslash: `\\sigma_g`, `\\begin{align}`, rows ended by `\\\\`.
_DOUBLED_CMD = _Lazy(r"(?<!\\)\\\\(begin|end|sigma|tanh|circ|odot|cdot|frac|mathbf|boldsymbol|text|textrm|"
                          r"mathrm|tilde|hat|bar|left|right|quad|theta|phi|alpha|beta|gamma|delta)(?![A-Za-z])")
_BACKSLASH_RUN = _Lazy(r"\\+")

_MATH_TAG = _Lazy(r"(?m)^[ \t]*:+[ \t]*(?=<math>)|</?math>")
_RST_MATH = _Lazy(r":math:`([^`]*)`")

# Markdown escapes inside math: `\\(`..`\\)`, `\\[`..`\\]`, `\_`, `\*`, `a^{\<t\>}`.
_MD_DISPLAY = _Lazy(r"\\\\\((.*?)\\\\\)|\\\\\[(.*?)\\\\\]", re.S)
_MD_ESCAPE = _Lazy(r"(?<!\\)\\([_*])")
_MD_ANGLE = _Lazy(r"(?<!\\)\\<([^<>\n]*?)\\>")

# A stacked vector, `W \begin{bmatrix} h_{t-1} \\ x_t \end{bmatrix}`: the concatenation [h_{t-1}; x_t]
# (without this, the environment would be layout and the rows a product h_{t-1} x_t).
_MATRIX_ENV = _Lazy(r"\\begin\s*\{\s*([bpB]?matrix)\s*\}((?:(?!\\begin\s*\{).)*?)\\end\s*\{\s*\1\s*\}", re.S)
_ROW_END = _Lazy(r"(?:\s*\\\\)+\s*$")


def _stacked(m: re.Match) -> str:
    """A column (rows of one entry) as ``[a; b]``; rows of several entries as a matrix ``[[1, 2], [3, 4]]``."""
    rows = re.split(r"\\\\", _ROW_END.sub("", m.group(2)))
    if not any("&" in row for row in rows):
        return "[" + ";".join(rows) + "]"
    if len(rows) == 1:
        return "[" + rows[0].replace("&", ",") + "]"
    return "[" + ",".join("[" + row.replace("&", ",") + "]" for row in rows) + "]"


_ARRAY_SPEC = _Lazy(r"(\\begin\s*\{\s*(?:array|tabular|alignedat|alignat\*?)\s*\})(\s*\{[^{}]*\})")

# A list marker before an equation: `- `, `* `, `+ `, `• `, `1. `, `2) `.
_LIST_MARKER = re.compile(r"(?m)^([ \t]*)([-*+•]|\d{1,2}[.)])[ \t]+(?=[^\n]*(?::?=|\\leftarrow|\\gets|←))")

_COLON_EQ = re.compile(r":[ \t]+=|\\coloneqq(?![A-Za-z])|≔")
_ARROW_ASSIGN = re.compile(r"(?m)^([^=\n]*?)(\\leftarrow(?![A-Za-z])|\\gets(?![A-Za-z])|←)(?=[^=\n]*$)")

# The notation macros of the Deep Learning book (math_commands.tex): \va..\vz, \vtheta, \mA..\mZ,
# \mSigma; also written \Va, \MA.
_DL_GREEK = ("alpha|beta|gamma|delta|epsilon|eps|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|pi|rho|sigma|tau|"
             "upsilon|phi|chi|psi|omega")
_DL_VECTOR = _Lazy(r"\\[vV](" + _DL_GREEK + r"|[a-z])(?![A-Za-z])(?!\s*\{)")
_DL_MATRIX = _Lazy(r"\\[mM](Alpha|Beta|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Upsilon|Phi|Psi|Omega|[A-Z])"
                        r"(?![A-Za-z])")
_DL_ONE = _Lazy(r"\\[vV]one(?![A-Za-z])")

# Braces that OCR tools put around a whole cell: `{i_{t}} & {=\sigma(...)} & {\text { (Input gate) }}`.
_CELL_START = _Lazy(r"(?:^|(?<=[&$\n]))[ \t]*\{|(?<=\\\\)[ \t]*\{")

# A word of a sentence: three letters or more (not a command, a subscript or a superscript),
# letters of another script (Chinese and Korean headings), Markdown bold.
_PROSE_WORD = _Lazy(r"(?<![\\_^A-Za-z])[A-Za-z]{3,}(?![A-Za-z])"
                         r"|[^\x00-\x7f∘⊙·×σ≔←−ℝ∈ₜ₀-₉₋₊ₐₑₒₓₕₖₗₘₙₚₛ⁰-⁹ˣα-ωΑ-Ωϕϑϵ]+|\*\*")
_NOT_PROSE = {"tanh", "sigmoid", "sigma", "relu", "ReLU", "softmax", "exp", "log", "identity", "dim", "and",
              "with", "where", "let", "given", "for", "all", "every", "each", "Relu"}
_DEFINES = _Lazy(r"=|\\leftarrow|\\gets|←")


def _halve_backslashes(t: _Text) -> None:
    runs = [len(m.group(0)) for m in _BACKSLASH_RUN.finditer(t.text)]
    if not runs or any(n % 2 for n in runs):
        return
    m = _DOUBLED_CMD.search(t.text)
    if not m:
        return
    t.note(m.start(), "every backslash is doubled (as a Markdown converter writes them); read as single ones")
    t.sub(_BACKSLASH_RUN, lambda m: m.group(0)[: len(m.group(0)) // 2])


def _matching_brace(text: str, i: int) -> int | None:
    """Index of the `}` that closes the `{` at ``i``."""
    depth = 0
    for j in range(i, len(text)):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text) and text[j + 1] in "{}":
            continue
        if ch == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif ch == "}" and (j == 0 or text[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j
        elif ch == "\n" and depth == 0:
            return None
    return None


_NAMEISH = _Lazy(r"^\s*(?:\\[A-Za-z]+\s*\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z0-9]+|[_^]\{[^{}]*\}|[_^][A-Za-z0-9]"
                      r"|\{[^{}]*\}|\s)+\s*$")


def _cell_braces(t: _Text) -> None:
    """Drop braces that only group a whole cell, a left side or an `=` cell."""
    text = t.text
    drop: set[int] = set()
    for m in _CELL_START.finditer(text):
        i = m.end() - 1
        j = _matching_brace(text, i)
        if j is None:
            continue
        inner = text[i + 1:j]
        after = text[j + 1:]
        whole_cell = re.match(r"\s*(?:&|\\\\|$|\n|\$)", after) is not None
        starts_eq = re.match(r"\s*:?=", inner) is not None
        caption = re.fullmatch(r"\s*\\text(?:rm)?\s*\{[^{}]*\}\s*", inner) is not None
        name_then_eq = _NAMEISH.match(inner) is not None and re.match(r"\s*(?:[_^]|:?=|&)", after) is not None
        if (whole_cell and (starts_eq or caption or _NAMEISH.match(inner))) or name_then_eq:
            drop.update((i, j))
    if drop:
        pattern = re.compile(r"[{}]")
        t.sub(pattern, lambda m: "" if m.start() in drop else None)


def _outside_math(text: str) -> list[tuple[int, int, bool]]:
    """Pieces of ``text`` as (start, end, is_math), by its `$` and `$$` delimiters."""
    pieces: list[tuple[int, int, bool]] = []
    pos = 0
    inside: str | None = None
    for m in re.finditer(r"(?<!\\)\$\$|(?<!\\)\$", text):
        delim = m.group(0)
        if inside is None:
            pieces.append((pos, m.start(), False))
            inside = delim
            pos = m.end()
        elif delim == inside:
            pieces.append((pos, m.start(), True))
            inside = None
            pos = m.end()
    pieces.append((pos, len(text), inside is not None))
    return pieces


def _is_prose(piece: str) -> bool:
    """Words of a sentence, and no `=`: a value line outside the math (`theta = 0.5`) is no prose."""
    if "=" in piece or re.search(r"(?<![A-Za-z])(dim|in)\s", piece):
        return False
    for m in _PROSE_WORD.finditer(piece):
        word = m.group(0)
        if word.strip() and word not in _NOT_PROSE:
            return True
    return False


def _drop_prose(t: _Text) -> None:
    """In Markdown, keep the math: blank the prose around `$...$` and the mentions inside it."""
    text = t.text
    if "$" not in text:
        return
    pieces = _outside_math(text)
    if not any(is_math for *_, is_math in pieces):
        return
    blank: list[tuple[int, int]] = []
    line_of = _line_starts(text)

    def line(i: int) -> int:
        return bisect.bisect_right(line_of, i)

    prose_lines: dict[int, int] = {}
    for start, end, is_math in pieces:
        if is_math:
            continue
        # Comments stay comments; the grammar drops them.
        for seg in re.finditer(r"[^\n]+", text[start:end]):
            s = start + seg.start()
            body = re.sub(r"(?m)[#%].*$", "", seg.group(0))
            if _is_prose(body):
                blank.append((s, start + seg.end()))
                prose_lines.setdefault(line(s), s)
    if not prose_lines:
        return
    for start, end, is_math in pieces:
        if is_math and line(start) in prose_lines and line(end) in prose_lines and not _DEFINES.search(
                text[start:end]):
            blank.append((start, end))  # `$u$` mentioned in a sentence
    for start, end, is_math in pieces:  # what is left of a prose line: `:` after `$r$`
        if not is_math:
            for seg in re.finditer(r"[^\n]+", text[start:end]):
                if line(start + seg.start()) in prose_lines:
                    blank.append((start + seg.start(), start + seg.end()))
    for ln, s in sorted(prose_lines.items()):
        t.note(s, "the text around the math reads like prose and is ignored")
    blank.sort()
    marks = [False] * len(text)
    for s, e in blank:
        for k in range(s, e):
            marks[k] = True
    # Prose between two pieces of math on one line ends the first: `$L_t = ...$ and the total
    # is $L = ...$` holds two equations, not one chain.
    ends: set[int] = set()
    for k, (start, end, is_math) in enumerate(pieces):
        if (not is_math and 0 < k < len(pieces) - 1 and pieces[k - 1][2] and pieces[k + 1][2]
                and start < end and marks[start] and "\n" not in text[start:end]
                and not marks[pieces[k - 1][0]] and not marks[pieces[k + 1][0]]):
            ends.add(start)
    t.sub(re.compile(r"[^\n]"), lambda m: (";" if m.start() in ends else " ") if marks[m.start()] and (
        m.group(0) != " " or m.start() in ends) else None)


def clean(text: str) -> Cleaned:
    """Rewrite pasted text into what the grammar reads; see the module's docstring."""
    t = _Text(text)
    if "\\" in text or "<math>" in text or ":math:" in text or "$" in text:
        _halve_backslashes(t)
        t.sub(_MATH_TAG, lambda m: "$$" if "math" in m.group(0) else "")
        t.sub(_RST_MATH, lambda m: "$" + m.group(1) + "$")
        _drop_prose(t)
        t.sub(_MD_DISPLAY, lambda m: "\\(" + (m.group(1) or "") + "\\)" if m.group(1) is not None
              else "\\[" + (m.group(2) or "") + "\\]")
        t.sub(_MD_ANGLE, lambda m: "<" + m.group(1) + ">")
        t.sub(_MD_ESCAPE, lambda m: m.group(1))
        t.sub(_ARRAY_SPEC, lambda m: m.group(1))
        t.sub(_MATRIX_ENV, _stacked)
        t.sub(_DL_ONE, lambda m: "\\mathbf{1}")
        t.sub(_DL_VECTOR, lambda m: "\\bm{" + ("\\" if len(m.group(1)) > 1 else "")
              + ("epsilon" if m.group(1) == "eps" else m.group(1)) + "}")
        t.sub(_DL_MATRIX, lambda m: "\\bm{" + ("\\" if len(m.group(1)) > 1 else "") + m.group(1) + "}")
        _cell_braces(t)
    t.sub(_LIST_MARKER, lambda m: m.group(1))
    t.sub(_COLON_EQ, lambda m: ":=")
    t.sub(_ARROW_ASSIGN, lambda m: m.group(1) + "=")
    return Cleaned(t.text, text, t.origin, t.notes)
