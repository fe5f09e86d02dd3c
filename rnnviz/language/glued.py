r"""Letters written together: ``W_hh_{t-1}``, ``f_tc_{t-1}``, ``W_xx_t`` as LaTeX typesets them.

An unbraced subscript in LaTeX takes one letter: ``W_hh_{t-1}`` is typeset W_h h_{t-1},
``f_tc_{t-1}`` is f_t c_{t-1}. Course notes write products this way without a space.
Read as one name, such a spelling would make a new input called ``W_hh`` or ``f_tc``
and the model would silently differ from the page. So a name whose unbraced
multi-letter subscript is followed by a further subscript is read as LaTeX shows it,
a product of the two names, with a note; where the letters after the first could
be split in more than one way, an error names the readings.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t = tanh(W_hh_{t-1} + W_xx_t + b)")
    >>> sorted(m.parameters), m.inputs
    (['W_h', 'W_x', 'b'], ['x'])
    >>> print(m.notes[0])
    <input>:1:12: 'W_hh_{t-1}' is read as W_h h_{t-1}, as LaTeX typesets it (an unbraced subscript takes one letter); write W_h h_{t-1} or W_{hh} for one name

The same holds for a name's own letters: LaTeX sets the index of ``Ux_t`` on the x alone, and a
student's notes write ``h_t = tanh(Ux_t + Wh_{t - 1} + b_h)`` for U x_t + W h_{t-1}. A name of
italic letters written together with its time as a sub- or superscript, that no equation
computes, is read (:func:`split_glued_products`):

- split, with a note, where it splits in exactly one way into a head and a timed tail that the
  model backs: the tail is computed or read at a time elsewhere, or is one letter (an input)
  after a head that is a capital letter (a matrix) or a parameter used elsewhere;
- refused, with the readings named, where it splits in several such ways, where the tail is a
  symbol of the model after a head that is no symbol, or where the name is two letters (``ux_t``:
  u x_t or one input ux);
- otherwise as one input of that name, with a note (``emb_t``).

Bold letters written together (``\mathbf{Wh}_{t-1}``) are read alike. ``\mathrm{Ux}_t``, ``\text{Ux}_t``
and ``Ux[t]`` index the whole name: one input, no note.

    >>> m = load_model("h_t = tanh(Ux_t + Wh_{t - 1} + b_h)")
    >>> sorted(m.parameters), m.inputs
    (['U', 'W', 'b_h'], ['x'])
    >>> print(m.notes[0])
    <input>:1:12: 'Ux_t' is read as U x_t, a product of letters written together; write U x_t to say so, or \mathrm{Ux}_t for one input named Ux
    >>> load_model("h_t = tanh(\\mathrm{Ux}_t + W h_{t-1})").inputs
    ['Ux']
"""

from __future__ import annotations

import re

from collections.abc import Callable

from ..errors import ParseError, RnnvizError, Span
from . import syntax as S
from ._lark_parser import Token
from .model_syntax import map_refs, refs

__all__ = ["glued_split", "split_glued_products"]

_UNBRACED = re.compile(r"^_([A-Za-z])([A-Za-z]+)$")


def _token(kind: str, text: str, line: int, column: int) -> Token:
    return Token(kind, text, None, line, column, line, column + len(text))


def glued_split(suffixes, span_of):
    """``(k, head_suffixes, tail_text, tail_token)`` if the name's letters are written together, else None.

    ``suffixes`` are the (kind, token) pairs of a name; the k-th is an unbraced subscript of
    several letters followed by another subscript, or the time t followed by a capital (``x_tW``). The head keeps the first letter as its
    subscript; the tail is a new name made of the other letters, followed by the remaining
    suffixes.

    Raises:
        ParseError: the letters after the first could be one name or several.
    """
    for k, (kind, tok) in enumerate(suffixes):
        m = _UNBRACED.match(str(tok)) if kind == "sub" else None
        if not m or tok.line is None:
            continue
        first, rest = m.group(1), m.group(2)
        # `x_tW + h_{t-1}U` (the row form): LaTeX sets x_t W; a capital after the time is a new name.
        timed_then_name = first == "t" and rest[0].isupper()
        if not timed_then_name and (k + 1 >= len(suffixes) or suffixes[k + 1][0] != "sub"):
            continue
        head_tok = _token("SUB", "_" + first, tok.line, tok.column)
        tail_tok = _token("NAME", rest, tok.line, tok.column + 2)
        if len(rest) > 1:
            after = "".join(str(t) for _, t in suffixes[k + 1:])
            readings = [f"_{first} {rest}{after}", f"_{first} " + " ".join(rest[:-1]) + f" {rest[-1]}{after}"]
            raise ParseError(f"'{tok}{after}': letters written together can be read as "
                             + " or as ".join(f"…{r}" for r in readings),
                             span_of(tok), hint=f"write braces for one name ({'_{' + first + rest + '}'}) "
                                                "or spaces between the factors")
        return k, head_tok, tail_tok
    return None


def _readings(base: str, timed: set[str], params: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The ways ``base`` splits into a head and a timed tail: (backed by the model, only possible)."""
    backed, possible = [], []
    for cut in range(1, len(base)):
        head, tail = base[:cut], base[cut:]
        tail_known = tail in timed
        if tail_known and (len(head) == 1 or head in params) \
                or len(tail) == 1 and (head in params or len(head) == 1 and head.isupper()):
            backed.append((head, tail))
        elif tail_known:
            possible.append((head, tail))
    return backed, possible


def split_glued_products(stmts: list[S.Assign], targets: set[str], declared: set[str],
                         error: Callable[..., RnnvizError],
                         spelled: Callable[[Span | None], str | None]) -> tuple[list[S.Assign], list[str]]:
    """Equations with each glued timed name (``Ux_t``, ``Wh_{t-1}``) read as the module says.

    ``targets`` are the computed variables, ``declared`` the names given a size at a time
    (``x_t \\in R^3``); ``spelled(span)`` is the text a span covers, for the messages.
    Returns the equations and the notes ("FILE:LINE:COL: ...").

    Raises:
        ModelError (from ``error``): a glued name that can be read in several ways.
    """
    def is_glued(n: S.Name) -> bool:
        return n.glued and n.time is not None and n.canonical not in targets and n.base.isascii() \
            and n.base.isalpha()

    timed = set(targets) | set(declared)
    params: set[str] = set()
    first: dict[str, S.Name] = {}
    for s in stmts:
        for n, called in refs(s.rhs):
            if is_glued(n):
                first.setdefault(n.base, n)
            elif n.time is not None:
                timed.add(n.canonical)
            elif not called and n.canonical not in targets:
                params.add(n.canonical)
    if not first:
        return stmts, []
    notes: list[str] = []
    cuts: dict[str, int] = {}
    for base, n in first.items():
        text = spelled(n.span) or ""
        # `\mathbf{Wh}_{t-1}`: the group's brace stands between the letters and the index.
        index = text[len(base):].lstrip("} ") if text.startswith(base) else f"_{{{n.time}}}"
        text = base + index
        backed, possible = _readings(base, timed - {base}, params)
        one = f"\\mathrm{{{base}}}{index}"
        if len(backed) == 1 and not possible:
            head, tail = backed[0]
            cuts[base] = len(head)
            notes.append(f"{n.span}: '{text}' is read as {head} {tail}{index}, a product of letters written "
                         f"together; write {head} {tail}{index} to say so, or {one} for one input named {base}")
            continue
        shown = [f"{h} {t}{index}" for h, t in backed + possible] or \
            ([f"{base[0]} {base[1]}{index}"] if len(base) == 2 else [])
        if shown:
            raise error(f"'{text}' is letters written together, read at a time but computed nowhere: it can be "
                        f"read as {' or as '.join(shown)} (a product), or as one input named {base}", n.span,
                        hint=f"write the factors apart, as in {shown[0]}, for a product, or {one} for one name")
        notes.append(f"{n.span}: '{text}' is read as one input named {base}; LaTeX sets its time index on the "
                     f"last letter only: write {one} to say it is one name, or spaces between the factors of a "
                     "product")
    if not cuts:
        return stmts, notes

    def split(ref: S.Ref) -> S.Node:
        n = ref.name
        if not is_glued(n) or n.base not in cuts:
            return ref
        cut, sp = cuts[n.base], n.span
        head_span = tail_span = None
        if sp is not None:
            head_span = Span(sp.file, sp.line, sp.column, sp.line, sp.column + cut)
            tail_span = Span(sp.file, sp.line, sp.column + cut, sp.end_line, sp.end_column)
        head = S.Name(n.base[:cut], bold=n.bold, span=head_span)
        tail = S.Name(n.base[cut:], time=n.time, bold=n.bold, span=tail_span)
        return S.BinOp("prod", S.Ref(head, head_span), S.Ref(tail, tail_span), ref.span)

    return [S.Assign(s.lhs, map_refs(s.rhs, split), s.caption, s.span, s.earlier, s.args) for s in stmts], notes
