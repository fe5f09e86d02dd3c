"""Lark's parse errors -> :class:`~rnnviz.errors.ParseError` in plain words.

Lark reports the token it did not expect and the token types it did; a user
needs to hear which bracket is never closed, that ``/`` is not part of the
language, or that a line reads like prose. Each case here was found by feeding
the parser a sample of bad input.

Example:
    >>> from rnnviz.errors import ParseError
    >>> from rnnviz.language.parse import parse_text
    >>> try:
    ...     parse_text("h[t] = tanh(W h[t-1]")
    ... except ParseError as e:
    ...     print(e.span.line, e.span.column, e.message)
    1 12 '(' is never closed; expected ')'
"""

from __future__ import annotations

import re

from ._lark_parser import Token, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import ParseError, Span

__all__ = ["convert_error", "KNOWN_COMMANDS"]

#: The LaTeX commands the grammar reads (for "the nearest known" in an error).
KNOWN_COMMANDS = (
    "tanh", "exp", "log", "ln", "sigma", "cdot", "odot", "circ", "times", "frac", "dfrac", "tfrac", "text",
    "textrm", "mathrm", "operatorname", "mathbf", "boldsymbol", "bm", "mathbb", "tilde", "widetilde", "hat",
    "widehat", "bar", "overline", "vec", "top", "intercal", "left", "right", "quad", "qquad", "begin", "end",
    "in", "langle", "rangle", "label", "tag", "forall", "displaystyle", "big", "Big", "alpha", "beta",
    "gamma", "delta", "epsilon", "theta", "lambda", "mu", "phi", "varphi", "psi", "omega", "tau", "rho",
    "Gamma", "Delta", "Theta", "Sigma", "Phi", "Omega", "sum", "prime",
)

#: Commands that name a construct outside the language: (what it is, a hint that fits).
_UNSUPPORTED = {
    **dict.fromkeys(("dots", "ldots", "cdots", "vdots", "ddots"), (
        "an elided list", "write every term or argument; rnnviz reads one step of a recurrence")),
    "mathcal": ("a calligraphic letter, as losses and sets are written", "rnnviz grad --of 'sum(y)' "
                "differentiates a sum of a variable over the steps"),
    **dict.fromkeys(("overrightarrow", "overleftarrow"), (
        "an arrow accent (a direction of a bidirectional RNN)", "name the two directions plainly, as in "
        "f_t and b_t, and write each recurrence")),
    "prod": ("a product over an index", "write the factors"),
    **dict.fromkeys(("int", "oint"), ("an integral", "rnnviz reads recurrences over steps")),
    **dict.fromkeys(("partial", "nabla"), ("a derivative", "ask for derivatives with rnnviz grad --of TARGET")),
    **dict.fromkeys(("mid", "vert", "given"), ("a condition such as p(y | x)",
                                              "rnnviz reads recurrences such as h_t = tanh(W h_{t-1} + U x_t)")),
    **dict.fromkeys(("to", "rightarrow", "mapsto"), ("an arrow between states",
                                                     "write the transition, as in h_t = f(h_{t-1}, x_t)")),
    "approx": ("an approximation", "write an equation with '='"),
    **dict.fromkeys(("boxed", "fbox"), ("a box", "leave the box out")),
}


_EXPECTED_WORDS = {
    "NAME": "a name", "GREEK": "a name", "LATEXFN": "a function", "TEXTWORD": "a name",
    "ACCENT": "a name", "FONT": "a name", "NUMBER": "a number", "ONE": "a number",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "_EQ": "'='", "_PLUS": "'+'", "_MINUS": "'-'", "EMULOP": "'*'",
    "DOTOP": "'·'", "INDEX": "a time index like [t-1]", "SUB": "a subscript",
    "SUP": "a superscript", "REALS": "a space like R^3", "_NL": "the end of the line",
    "$END": "the end of the input", "FRAC": "a number",
}


# Constructs outside the language that make a line fail to parse somewhere else on it: the
# message names the construct rather than the token where parsing stopped.
_ON_THE_LINE = (
    (re.compile(r"\bnp\.[A-Za-z_]+"), "NumPy code ('{m}')",
     "write the equations, as in h_t = \\tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)"),
    (re.compile(r"(?<![\\|])\|(?!\|)|\\mid(?![A-Za-z])|∣"), "a condition such as p(y | x) ('{m}')",
     "rnnviz reads recurrences such as h_t = tanh(W h_{t-1} + U x_t)"),
    (re.compile(r"\\(?:to|rightarrow|mapsto|longrightarrow)(?![A-Za-z])"), "an arrow between states ('{m}')",
     "write the transition, as in h_t = f(h_{t-1}, x_t)"),
    (re.compile(r"\]\s*\^\s*(?:\\top|\{\s*\\top\s*\}|T)(?![A-Za-z])"), "a transpose of a bracket ('{m}')",
     "a concatenation [a; b] of column vectors is a column vector: write it without ^\\top"),
    (re.compile(r"\\sum\s*_\s*\{\s*[a-su-z]'?\s*=\s*1\s*\}"),
     "a sum over positions ('{m}', as attention sums over every encoder step)",
     "rnnviz reads one step of a recurrence; the one sum over time is the total of a loss, L = \\sum_t L^{(t)}"),
    (re.compile(r"(?<![\\^_{A-Za-z])[A-Za-z]+<t(?:[−\-+]1)?>"),
     "the flattened text of a rendered page ('{m}')",
     "copy the LaTeX source of the equation (a^{<t>}), not the text the page shows"),
)


def _construct_on_line(text: str, line: int, file: str) -> ParseError | None:
    """A construct outside the language on line ``line`` of ``text``, named, at its place."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    src = lines[line - 1]
    found = []
    for pattern, what, hint in _ON_THE_LINE:
        m = pattern.search(src)
        if m:
            found.append((m.start(), m, what, hint))
    if not found:
        return None
    start, m, what, hint = min(found, key=lambda f: f[0])
    span = Span(file, line, start + 1, line, start + 1 + len(m.group(0)))
    return ParseError(f"{what.format(m=m.group(0).strip())} is not part of the equation language", span, hint=hint)


def _brace_never_closed(text: str) -> bool:
    """Whether the `{` at the start of ``text`` is not closed on its line."""
    depth = 0
    for ch in text:
        if ch == "\n":
            break
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            return False
    return True


def _expected(names) -> str:
    words: list[str] = []
    for n in sorted(names):
        w = _EXPECTED_WORDS.get(n)
        if w and w not in words:
            words.append(w)
    if not words:
        return ""
    if len(words) > 5:
        words = words[:5] + ["..."]
    return "expected " + ", ".join(words)


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the input"
    if tok.type == "_NL":
        return "the end of the line"
    return f"'{tok}'"


def convert_error(err: UnexpectedInput, text: str, file: str, opened: list[Token]) -> ParseError:
    """A lark error as a :class:`ParseError` in plain words.

    Args:
        err: what lark raised.
        text: the text being parsed (to look around the error).
        file: the name used in the error's span.
        opened: the brackets still open where parsing stopped, innermost last.
    """
    line, col = getattr(err, "line", 1) or 1, getattr(err, "column", 1) or 1
    if isinstance(err, UnexpectedCharacters):
        rest = text[err.pos_in_stream :]
        m = re.match(r"\\[A-Za-z]+", rest)
        if m:
            cmd = m.group(0)
            if cmd in ("\\sum", "\\prod"):
                # A loss or a normaliser (`-\sum_i y_i \log p_i`) is not a recurrence; say so
                # instead of listing what rnnviz reads.
                return ParseError(f"'{cmd}' over components is not part of the equation language",
                                  Span(file, line, col, line, col + len(cmd)),
                                  hint="write a softmax output as softmax(V h_t + c); the one sum is a loss "
                                       "over time, on a line of its own: L = \\sum_t L^{(t)}")
            span = Span(file, line, col, line, col + len(cmd))
            construct = _UNSUPPORTED.get(cmd[1:])
            if construct is not None:
                what, hint = construct
                return ParseError(f"{what} ('{cmd}') is not part of the equation language", span, hint=hint)
            import difflib  # only for an unknown command

            close = difflib.get_close_matches(cmd[1:], KNOWN_COMMANDS, n=3, cutoff=0.6)
            hint = ("the nearest known: " + ", ".join("\\" + c for c in close)) if close else (
                "rnnviz reads names, functions (\\tanh, \\sigma, \\text{ReLU}), \\cdot, \\odot, \\circ, "
                "\\frac and layout commands")
            return ParseError(f"unknown LaTeX command '{cmd}'", span, hint=hint)
        ch = rest[:1]
        if ch == "'" or ch == "′":
            # PyTorch's cell docs: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), the next step of h.
            return ParseError("a prime (h') as the next step of h is not part of the equation language",
                              Span(file, line, col, line, col + 1),
                              hint="write the step with a time index: h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)")
        if ch in "|∣":
            return ParseError("a condition 'p(y | x)' is not part of the equation language",
                              Span(file, line, col, line, col + 1),
                              hint="rnnviz reads recurrences such as h_t = tanh(W h_{t-1} + U x_t)")
        if rest[:2] in ("_{", "^{") and _brace_never_closed(rest[1:]):
            # `W_{hh h_{t-1}`: the subscript's brace is the trouble, not the letters after '_'.
            return ParseError("'{' is never closed; expected '}'", Span(file, line, col + 1, line, col + 2))
        if ch == "_":
            return ParseError("a subscript needs letters, digits or braces after '_'", Span(file, line, col, line, col + 1))
        if ch == "^":
            return ParseError("a superscript needs a letter, a time like (t) or braces after '^'",
                              Span(file, line, col, line, col + 1))
        if ch in "/÷":
            # min-char-rnn writes softmax as np.exp(y) / np.sum(np.exp(y)).
            return ParseError("division is not part of the equation language",
                              Span(file, line, col, line, col + 1),
                              hint="for exp(y) / sum(exp(y)) write softmax(y); for a constant "
                                   "factor write \\frac{1}{2} or 0.5")
        named = _construct_on_line(text, line, file)
        if named is not None:
            return named
        return ParseError(f"unexpected character '{ch}'", Span(file, line, col, line, col + 1),
                          hint=_expected(err.allowed or ()) or None)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END" or (tok.type == "_NL" and opened):
            if opened:
                o = opened[-1]
                closer = {"(": ")", "[": "]", "{": "}"}.get(str(o), "')'")
                return ParseError(f"'{o}' is never closed; expected '{closer}'",
                                  Span(file, o.line, o.column, o.line, o.column + 1))
            return ParseError("the input ends in the middle of an expression",
                              Span(file, line, col, line, col + 1), hint=_expected(err.expected) or None)
        span = Span(file, tok.line or line, tok.column or col, tok.end_line or line,
                    tok.end_column or (col + max(len(str(tok)), 1)))
        upper = re.match(r"\[\s*T\s*([+\-−]\s*\d+)?\s*\]", text[tok.start_pos:]) if tok.start_pos is not None else None
        if upper and str(tok) == "[":
            # `h[T]`: the last step of the sequence, or a capital t for t.
            fixed = upper.group(0).replace("T", "t")
            return ParseError(f"'{upper.group(0)}' reads the last step T, which rnnviz does not support yet; "
                              f"a step relative to t is written with a lowercase t, as in {fixed}",
                              Span(file, tok.line, tok.column, tok.line, tok.column + len(upper.group(0))),
                              hint="T is an ordinary name, such as a matrix")
        if str(tok) == "." and tok.start_pos is not None and \
                re.match(r"\.\s*[\[(A-Za-z\\]", text[tok.start_pos:]) and \
                re.search(r"[A-Za-z0-9}]\s*$", text[:tok.start_pos]):
            # `W_r . [h(t-1), x_t]`: a full stop written for a product (unless the line is code, np.tanh).
            named = _construct_on_line(text, span.line, file)
            if named is not None:
                return named
            return ParseError("a '.' between two factors is not a product in the equation language", span,
                              hint="write \\cdot or a space for a product, as in W_r \\cdot [h_{t-1}, x_t]")
        if str(tok) == "," and opened and re.search(r"\bmax\s*$", text[:opened[-1].start_pos]):
            return ParseError("a function of two arguments such as max(0, a) is not part of the language", span,
                              hint="max(0, a) is relu(a); write \\text{ReLU}(a) or relu(a)")
        if tok.type in ("RPAR", "RSQB", "RBRACE"):
            o = opened[-1] if opened else None
            between = text[o.end_pos:tok.start_pos] if o is not None and o.end_pos is not None else "?"
            if o is not None and not between.strip():  # `x = []`, `()`: closed, but holds nothing
                return ParseError(f"'{o}{tok}' holds nothing; expected a number, a name or an expression "
                                  f"inside", Span(file, o.line, o.column, span.end_line, span.end_column))
            if o is None:
                return ParseError(f"unbalanced '{tok}': nothing opened it", span)
        if tok.type == "PRIME":
            return ParseError("a prime (') belongs right after a name, as in h' (the new step of h in "
                              "PyTorch's cell docs)", span)
        if tok.type == "_NL":
            return ParseError("the line ends in the middle of an expression", span,
                              hint=_expected(err.expected) or None)
        if tok.type == "_EQ" and opened and opened[-1].line is not None and opened[-1].line < span.line:
            # A bracket left open on an earlier line swallowed the line break: the next
            # equation's '=' is only where the parser noticed.
            o = opened[-1]
            closer = {"(": ")", "[": "]", "{": "}"}.get(str(o), "')'")
            return ParseError(f"'{o}' is never closed; expected '{closer}' before the end of line {o.line}",
                              Span(file, o.line, o.column, o.line, o.column + 1))
        if tok.type == "_EQ" and "_EQ" not in err.expected:
            # `\hat p(x_{t+1}=v_j|x_t, ...)`: an event inside a conditional, not a second left side.
            named = _construct_on_line(text, span.line, file)
            if named is not None:
                return named
            return ParseError("unexpected '='; an equation has one name on the left, "
                              "as in h[t] = tanh(W h[t-1] + U x[t])", span)
        named = _construct_on_line(text, span.line, file)
        if named is not None:
            return named
        msg = f"unexpected {_describe(tok)}"
        exp = _expected(err.expected)
        source_line = text.splitlines()[span.line - 1] if 0 < span.line <= len(text.splitlines()) else ""
        if "=" not in source_line and len(re.findall(r"(?<![\\_^A-Za-z])[A-Za-z]{2,}\b", source_line)) >= 3:
            # `The hidden state is`: a sentence pasted with the equations.
            return ParseError(msg + (f"; {exp}" if exp else ""), span,
                              hint="this line reads like prose; rnnviz reads equations and values, so start "
                                   "a line of text with % or #")
        return ParseError(msg + (f"; {exp}" if exp else ""), span)
    if isinstance(err, UnexpectedEOF):
        return ParseError("the input ends in the middle of an expression", Span(file, line, col, line, col + 1))
    return ParseError(str(err), Span(file, line, col, line, col + 1))
