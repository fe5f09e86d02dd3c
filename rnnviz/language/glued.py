"""Letters written together: ``W_hh_{t-1}``, ``f_tc_{t-1}``, ``W_xx_t`` as LaTeX typesets them.

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
"""

from __future__ import annotations

import re

from ..errors import ParseError
from ._lark_parser import Token

__all__ = ["glued_split"]

_UNBRACED = re.compile(r"^_([A-Za-z])([A-Za-z]+)$")


def _token(kind: str, text: str, line: int, column: int) -> Token:
    return Token(kind, text, None, line, column, line, column + len(text))


def glued_split(suffixes, span_of):
    """``(k, head_suffixes, tail_text, tail_token)`` if the name's letters are written together, else None.

    ``suffixes`` are the (kind, token) pairs of a name; the k-th is an unbraced subscript of
    several letters followed by another subscript. The head keeps the first letter as its
    subscript; the tail is a new name made of the other letters, followed by the remaining
    suffixes.

    Raises:
        ParseError: the letters after the first could be one name or several.
    """
    for k, (kind, tok) in enumerate(suffixes):
        if kind != "sub" or k + 1 >= len(suffixes) or suffixes[k + 1][0] != "sub":
            continue
        m = _UNBRACED.match(str(tok))
        if not m or tok.line is None:
            continue
        first, rest = m.group(1), m.group(2)
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
