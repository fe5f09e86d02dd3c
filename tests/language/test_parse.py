"""The parser reads every spelling of LANGUAGE.md into the same syntax tree."""

from __future__ import annotations

import pytest

from rnnviz.errors import ParseError
from rnnviz.language.parse import parse_text
from rnnviz.language.syntax import Assign, Name, ReluDeriv, Size, Time


def lhs(text: str) -> Name:
    return parse_text(text).statements[0].lhs


def rhs_name(text: str) -> Name:
    """The name read on the right of `y[t] = <text>`."""
    return parse_text(f"y[t] = {text}").statements[0].rhs.name


@pytest.mark.parametrize(
    "text",
    ["x[t-1]", "x_{t-1}", "x^{(t-1)}", "x^{<t-1>}", r"x^{\langle t-1 \rangle}", r"x^{\langle t - 1\rangle}",
     "x^(t-1)", "x [ t - 1 ]", "x−{}".replace("−{}", "[t−1]")],
)
def test_spellings_of_t_minus_1(text):
    """All spellings of 'x at time t-1' read as x with offset -1."""
    name = rhs_name(text)
    assert (name.canonical, name.time) == ("x", Time(-1))


@pytest.mark.parametrize("text", ["x_t", "x[t]", "x^{(t)}", "x_{t}", "x^{<t>}", r"x^{\langle t \rangle}"])
def test_spellings_of_t(text):
    """All spellings of 'x at time t' read as x with offset 0."""
    name = rhs_name(text)
    assert (name.canonical, name.time) == ("x", Time(0))


@pytest.mark.parametrize("text,offset", [("x[t-2]", -2), ("x[t+1]", 1), ("x_{t+1}", 1), ("x^{(t-3)}", -3)])
def test_integer_offsets(text, offset):
    """Offsets are integers on either side of t."""
    assert rhs_name(text).time == Time(offset)


@pytest.mark.parametrize(
    "text,canonical,time",
    [("h[0] = 1", "h", Time(0, True)), ("h^{(0)} = 1", "h", Time(0, True)), ("h[-1] = 1", "h", Time(-1, True)),
     ("h_0 = 1", "h_0", None), ("x_3 = 1", "x_3", None), ("x^{<2>} = 1", "x", Time(2, True))],
)
def test_concrete_times_in_values(text, canonical, time):
    """Concrete times: bracket and parenthesised superscripts are times; `_3` is left to the model."""
    name = lhs(text)
    assert (name.canonical, name.time) == (canonical, time)


@pytest.mark.parametrize(
    "text,canonical",
    [("h_1^{(t)}", "h_1"), ("h1[t]", "h_1"), ("W_{hh}", "W_hh"), ("W_hh", "W_hh"), ("W_1", "W_1"),
     ("U^g", "U^g"), ("b^f", "b^f"), ("W^{(z)}", "W^z"), ("W^{z}", "W^z"), (r"\tilde{c}_t", "c_tilde"),
     (r"\hat{y}_t", "y_hat"), (r"\bar{h}_t", "h_bar"), (r"\widetilde{c}_t", "c_tilde"), ("c~[t]", "c_tilde"),
     ("c_tilde[t]", "c_tilde"), (r"\theta_c", "theta_c"), (r"\alpha", "alpha"), ("θ_c", "theta_c"), ("α", "alpha"),
     (r"\mathbf{h}_t", "h"), (r"\boldsymbol{W}", "W"), (r"\bm{x}", "x"), (r"\mathrm{W}", "W"),
     (r"W_{\textrm{xh}}", "W_xh"), (r"W_{\text{hh}}", "W_hh"), (r"W_{\mathrm{c}}", "W_c"), (r"\mathbf{W}_{hh}", "W_hh"),
     (r"\tilde{\mathbf{c}}_t", "c_tilde"), ("h_{1,t}", "h_1"), ("W_{h+1}", None)],
)
def test_names(text, canonical):
    """Sub- and superscripts that are not a time belong to the name; decoration does not."""
    if canonical is None:
        with pytest.raises(ParseError):
            lhs(f"{text} = 1")
        return
    assert lhs(f"{text} = 1").canonical == canonical


def test_trailing_digits_are_a_subscript():
    """`h1` and `h_1` are the same symbol, shown with a subscript 1."""
    assert lhs("h1 = 1") == lhs("h_1 = 1")
    assert lhs("h1 = 1").subs == ("1",)


def test_bold_is_kept_for_display():
    """Font commands decorate a name without changing it; bold is remembered for drawing."""
    name = lhs(r"\mathbf{h}_t = 1")
    assert name.canonical == "h" and name.bold


@pytest.mark.parametrize(
    "a,b",
    [("y[t] = U x[t]", r"y_t = U \cdot x_t"), ("y[t] = U x[t]", "y[t] = U · x[t]"), ("y[t] = U x[t]", "y[t] = U @ x[t]"),
     ("y[t] = a[t] * b[t]", r"y_t = a_t \circ b_t"), ("y[t] = a[t] * b[t]", "y[t] = a[t] ∘ b[t]"),
     ("y[t] = a[t] * b[t]", r"y_t = a_t \odot b_t"), ("y[t] = a[t] * b[t]", "y[t] = a[t] ⊙ b[t]"),
     ("y[t] = (a[t] + b[t])", r"y_t = \left(a_t + b_t\right)"), ("y[t] = -a[t] - b[t]", "y[t] = −a[t] − b[t]"),
     ("y[t] = [h[t-1], x[t]]", "y_t = [h_{t-1}, x_t]"), ("y[t] = [h[t-1], x[t]]", "y_t = [h_{t-1}; x_t]"),
     ("y[t] = 1 - z[t]", r"y_t = \mathbf{1} - z_t"), ("y[t] = tanh(x[t])", r"y_t = \tanh(x_t)"),
     ("y[t] = sigma(x[t])", r"y_t = \sigma(x_t)"), ("y[t] = sigma(x[t])", "y[t] = σ(x[t])"),
     ("y[t] = ReLU(x[t])", r"y_t = \text{ReLU}(x_t)"), ("y[t] = ReLU(x[t])", r"y_t = \mathrm{ReLU}(x_t)"),
     ("y[t] = ReLU(x[t])", r"y_t = \operatorname{ReLU}(x_t)"), ("y[t] = softmax(x[t])", r"y_t = \text{softmax}(x_t)"),
     ("y[t] = exp(x[t])", r"y_t = \exp(x_t)"), ("y[t] = log(x[t])", r"y_t = \log(x_t)"),
("y[t] = W x[t]", r"y_t = W \, x_t \; \! \quad \qquad"),
     ("y[t] = W x[t]", r"$y_t = W x_t$"), ("y[t] = W x[t]", r"$$y_t = W x_t.$$"), ("y[t] = W x[t]", r"\[ y_t = W x_t, \]"),
     ("y[t] = W x[t]", r"\( y_t = W x_t \)"), ("y[t] = W x[t]", r"\begin{aligned} y_t &= W x_t \end{aligned}"),
     ("y[t] = W x[t]", r"\begin{align*} y_t &= W x_t \\ \end{align*}"), ("y[t] = W x[t]", r"\begin{equation} y_t = W x_t \end{equation}"),
     ("y[t] = W x[t]", r"\begin{gather} y_t = W x_t \end{gather}"), ("y[t] = W x[t]", r"\begin{align} y_t &= W x_t \label{eq:1} \end{align}")],
)
def test_operator_and_layout_spellings(a, b):
    """Plain and LaTeX spellings of operators, functions and layout give equal trees."""
    assert parse_text(a).statements == parse_text(b).statements


def test_caption_is_kept():
    r"""A text note after an equation (`\quad \text{(update gate)}`) becomes its caption."""
    stmt = parse_text(r"z_t = \sigma(W_z x_t) \quad \text{(update gate)}").statements[0]
    assert stmt.caption == "update gate"


def test_equation_separators():
    r"""`\\`, newlines, trailing commas and periods separate equations; newlines inside brackets do not."""
    prog = parse_text("a[t] = x[t],\nb[t] = x[t]. \\\\ c[t] = (x[t]\n + x[t])")
    assert [s.lhs.canonical for s in prog.statements] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "text,names",
    [("V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1", ["V", "W", "h_0", "x_1", "x_2", "x_3"]),
     ("U^g = 0.3   W^g = -0.3   b^g = 0.1", ["U^g", "W^g", "b^g"]), ("a = 1; b = 2", ["a", "b"]),
     ("a = 1\tb = 2", ["a", "b"])],
)
def test_several_assignments_on_a_line(text, names):
    """Assignments separated by commas, semicolons, `and` or wide spaces."""
    assert [s.lhs.canonical for s in parse_text(text).statements] == names


def test_wide_spaces_inside_an_equation_are_not_separators():
    """Two spaces before `=` or between terms do not split an equation."""
    prog = parse_text("y[t]  = softmax(P x[t]  + Q h2[t] + d)")
    assert len(prog.statements) == 1


@pytest.mark.parametrize(
    "text,dims",
    [("dim x = 3", None), ("x[t] in R^3", (3,)), (r"x_t \in \mathbb{R}^3", (3,)), (r"x_t \in \mathbb{R}^{3}", (3,)),
     ("x[t] ∈ ℝ^3", (3,)), (r"W \in \mathbb{R}^{5 \times 3}", (5, 3))],
)
def test_sizes(text, dims):
    """Sizes as `dim` lines or as `in R^n`."""
    stmt = parse_text(text).statements[0]
    assert isinstance(stmt, Size)
    if dims is not None:
        assert stmt.dims == dims


def test_dim_line_with_several_sizes():
    """`dim x = 3, h = 5` gives two sizes."""
    stmts = parse_text("dim x = 3, h = 5").statements
    assert [type(s) for s in stmts] == [Size, Size]


@pytest.mark.parametrize("text", ["relu'(0) = 1", "ReLU'(0) = 1", r"\text{ReLU}'(0) = 1"])
def test_relu_derivative_line(text):
    """The derivative of ReLU at 0 is a value line."""
    assert isinstance(parse_text(text).statements[0], ReluDeriv)


@pytest.mark.parametrize("text", ["x = [0.7, 0.5, 0.7]", "W = [[0.1, 0.2], [0.3, 0.4]]", "x = [1]", "W = [[1]]",
                                  "b = -0.3", r"a = \frac{3}{2}"])
def test_value_literals(text):
    """Lists, matrices, one-element lists and fractions parse as values."""
    assert isinstance(parse_text(text).statements[0], Assign)


def test_comments_and_blank_lines_are_ignored():
    """`#` and `%` start comments; blank lines are ignored."""
    prog = parse_text("# title\n\n% latex comment\nh[t] = W h[t-1]  # why\n\n")
    assert len(prog.statements) == 1


def test_windows_line_endings():
    """CRLF files parse like LF files."""
    assert parse_text("a[t] = x[t]\r\nb[t] = x[t]\r\n").statements == parse_text("a[t] = x[t]\nb[t] = x[t]\n").statements


@pytest.mark.parametrize(
    "text,line,column,words",
    [("h[t] = tanh(W h[t-1]", 1, 12, "never closed"), ("h[t] = tanh(W h[t-1]))", 1, 22, "unbalanced"),
     ("h[t] = W h[t-1]\ny[t] = \\foo{h}", 2, 8, "unknown LaTeX command"), ("h[t] = = 3", 1, 8, "unexpected '='"),
     ("h[t] = W h[t-1] +", 1, 17, "ends in the middle"), ("a_ = 2", 1, 2, "subscript"),
     ("h[t] = W $ h[t-1] ?", 1, 19, "unexpected character"), ("x[t][t] = 1", 1, 5, "two time indices")],
)
def test_errors_have_positions(text, line, column, words):
    """Syntax errors say where (line, column) and what, in plain words."""
    with pytest.raises(ParseError) as info:
        parse_text(text, "sheet.rnn")
    err = info.value
    assert (err.span.file, err.span.line, err.span.column) == ("sheet.rnn", line, column)
    assert words in err.message
    shown = err.format()
    assert shown.startswith(f"sheet.rnn:{line}:{column}: ")
    assert "^" in shown.splitlines()[-1] or "^" in shown


def test_caret_sits_under_the_column():
    """The caret line points at the reported column."""
    with pytest.raises(ParseError) as info:
        parse_text("h[t] = tanh(W h[t-1]))")
    source_line, caret_line = info.value.excerpt().splitlines()
    assert source_line.strip() == "h[t] = tanh(W h[t-1]))"
    assert caret_line.index("^") - 2 == 21


def test_generated_parser_is_up_to_date_with_the_grammar():
    """_lark_parser.py was generated from the grammar as it is now (scripts/generate_parser.py).

    A stale parser would read the old grammar without a word: the header records the
    grammar's SHA-256, and parsing with lark itself, from the grammar file, gives the
    same trees and the same errors on every example and on broken input.
    """
    import hashlib
    from pathlib import Path

    lark = pytest.importorskip("lark")
    from rnnviz.language import _lark_parser, parse
    from rnnviz.language.postlex import NewlinesInBrackets

    root = Path(parse.__file__).parent
    grammar = (root / "grammar" / "rnnviz.lark").read_bytes()
    header = (root / "_lark_parser.py").read_text(encoding="utf-8").splitlines()[:4]
    assert f"grammar sha256 {hashlib.sha256(grammar).hexdigest()}" in header[2], \
        "the grammar changed: run python scripts/generate_parser.py"
    reference = lark.Lark(grammar.decode("utf-8"), parser="lalr", lexer="contextual", postlex=NewlinesInBrackets(),
                          propagate_positions=True, maybe_placeholders=False)
    ours = _lark_parser.Lark_StandAlone(postlex=NewlinesInBrackets())
    examples = sorted((root.parent.parent / "examples").glob("*.rnn"))
    texts = [p.read_text(encoding="utf-8") for p in examples] + ["h[t] = tanh(W h[t-1]\n", "h[t] = = 1\n", "h[t] = W $ h\n"]

    def plain(node):
        """A tree as nested tuples: rule names, and each token with its type, text and position."""
        if hasattr(node, "children"):
            meta = node.meta
            where = (meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else None
            return (str(node.data), where, tuple(plain(c) for c in node.children))
        return (node.type, str(node), node.line, node.column, node.end_line, node.end_column)

    def result(parser, errors, text):
        parser.options.postlex.text = text
        try:
            return plain(parser.parse(text))
        except errors as err:
            return type(err).__name__, err.line, err.column

    for text in texts:
        want = result(reference, lark.exceptions.UnexpectedInput, text)
        assert result(ours, _lark_parser.UnexpectedInput, text) == want, text


def test_lexer_regex_cache_holds_every_pattern_of_the_lexer_as_re_compiles_it():
    """_regex_cache.py (scripts/generate_parser.py) has every pattern the lexer compiles, each
    with the code ``re`` gives the engine now; a stale or partial cache would be slower, or,
    with other code, match differently: run python scripts/generate_parser.py."""
    import re
    from re import _compiler
    from re import _parser as sre_parse

    from rnnviz.language import _lark_parser, _regex_cache, parse
    from rnnviz.language.lexer_regex import CACHED_RE, engine_key
    from rnnviz.language.postlex import NewlinesInBrackets

    if _regex_cache.KEY != engine_key():
        pytest.skip(f"the cache was compiled for {_regex_cache.KEY}, this Python is {engine_key()}")
    seen = set()

    class Recording:
        error = re.error

        @staticmethod
        def compile(pattern, flags=0):
            seen.add((pattern, int(flags)))
            return re.compile(pattern, flags)

        @staticmethod
        def match(pattern, string, flags=0):
            return Recording.compile(pattern, flags).match(string)

    fresh = _lark_parser.Lark_StandAlone(postlex=NewlinesInBrackets())
    lexers = parse._lexers(fresh)
    assert len(lexers) > 10
    for lexer in lexers:
        lexer.re = Recording
        lexer._build_scanner()
    assert sorted(seen - set(_regex_cache.ENTRIES)) == [], "run python scripts/generate_parser.py"
    CACHED_RE._load()
    for (pattern, flags), (final_flags, start, length, groups, groupindex) in _regex_cache.ENTRIES.items():
        parsed = sre_parse.parse(pattern, flags)
        assert [int(w) for w in _compiler._code(parsed, flags)] == CACHED_RE._code[start:start + length].tolist()
        assert (final_flags, groups) == (int(flags | parsed.state.flags), parsed.state.groups - 1)
        compiled, plain = CACHED_RE.compile(pattern, flags), re.compile(pattern, flags)
        assert (compiled.pattern, compiled.flags, compiled.groups, compiled.groupindex) == \
            (plain.pattern, plain.flags, plain.groups, plain.groupindex)


def test_lexer_regexes_of_another_python_are_compiled_as_usual(monkeypatch):
    """A cache made for another engine is not used: the patterns are compiled by ``re``."""
    from rnnviz.language import lexer_regex

    monkeypatch.setattr(lexer_regex, "engine_key", lambda: ("other", 0, 0, 0, 0))
    other = lexer_regex._CachedRe()
    assert other._load() == {}
    assert other.compile(r"(?P<A>a+)|(?P<B>b)").match("aab").lastgroup == "A"
    assert other.match(r"b+", "bbc").group(0) == "bb"
