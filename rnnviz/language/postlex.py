"""The post-lexer: which line breaks end a statement, and which brackets are open.

An equation may run over several lines, in plain text and in LaTeX ``aligned``;
the grammar sees one statement per line only after this filter has dropped the
breaks that continue an equation.

Example:
    >>> from rnnviz.language.parse import parse_text
    >>> prog = parse_text("h[t] = tanh(W h[t-1]\\n          + U x[t])\\ny[t] = V h[t] +\\n  c")
    >>> [str(s.lhs) for s in prog.statements]
    ['h[t]', 'y[t]']
"""

from __future__ import annotations

import re

from ._lark_parser import Token

from ..errors import ParseError, Span
from ..limits import MAX_NESTING

__all__ = ["NewlinesInBrackets"]


class NewlinesInBrackets:
    """Post-lexer: where a line break does not end a statement.

    A newline or a LaTeX ``\\\\`` inside (), [] or {} does not end a statement, nor
    one after a trailing operator (``V h_t +``) or before a line that starts with
    one (``&\\quad + U h_{t-1}``): that is how long equations are split over lines,
    in plain text and in ``aligned``. No statement starts with an operator, so
    this never joins two equations.

    It also remembers the innermost open bracket, so that an unclosed one can be
    reported where it was opened.
    """

    always_accept = ("_NL", "_EQSEP")
    _OPEN = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
    _BREAKS = frozenset({"_NL", "_EQSEP"})
    _BINARY = frozenset({"_PLUS", "_MINUS", "EMULOP", "DOTOP"})
    _TRAILING = _BINARY | {"_EQ"}

    # What may stand between a line break and the operator that continues the equation:
    # spaces, alignment marks, LaTeX spacing, more line breaks.
    # Scanned in two parts, so that the layout run after a line break is read once for all the
    # breaks in it: rescanning it from every break made 40,000 blank lines quadratic.
    _LAYOUT = re.compile(r"(?:\s|&|\\\\|\\q?quad(?![A-Za-z])|\\[,;!: ])*")
    _OPERATOR = re.compile(r"[+\-−*∘⊙·×@]|\\(?:cdot|odot|circ|times)(?![A-Za-z])")

    def __init__(self) -> None:
        self.stack: list[Token] = []
        self.text = ""  # the text being parsed, set by parse_text, to look past a line break
        self.file = "<input>"  # its name, for an error raised here

    def _continues(self, pos: int) -> bool:
        """Whether an operator follows ``pos`` after nothing but layout (spaces, ``&``, ``\\\\``)."""
        start, end, result = self._run
        if not start <= pos <= end:
            end = self._LAYOUT.match(self.text, pos).end()
            result = self._OPERATOR.match(self.text, end) is not None
            self._run = (pos, end, result)
        return result

    def process(self, stream):
        self.stack = []
        self._run = (1, 0, False)  # (from, to, operator follows) of the last layout run scanned
        closers = set(self._OPEN.values())
        prev = None
        for tok in stream:
            if tok.type in self._BREAKS:
                # Decided here, without holding the token back: lark's contextual lexer reads
                # the next word by the parser's state, and a held newline would leave it stale.
                if self.stack or (prev is not None and prev.type in self._TRAILING):
                    continue
                if tok.end_pos is not None and self._continues(tok.end_pos):
                    continue
            if tok.type in self._OPEN:
                self.stack.append(tok)
                if len(self.stack) > MAX_NESTING:
                    raise ParseError(f"brackets nest more than {MAX_NESTING} deep here", Span(
                        self.file, tok.line, tok.column, tok.line, tok.column + len(tok)),
                        hint="a limit of rnnviz; write the inner part as its own equation")
            elif tok.type in closers and self.stack and self._OPEN[self.stack[-1].type] == tok.type:
                self.stack.pop()
            prev = tok
            yield tok
