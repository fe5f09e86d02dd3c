"""A model as pieces of an HTML page: math, diagrams, tables, plots, counts.

The MkDocs fence (:mod:`rnnviz.site.fence`) asks for one of these per block with
``show=...``. Each function returns an HTML fragment; numbers and pictures come
from the modules that compute them (:mod:`rnnviz.diagrams.diagram`, :mod:`rnnviz.numeric.forward_pass`,
:mod:`rnnviz.numeric.shapes`, :mod:`rnnviz.diagrams.plot`, :mod:`rnnviz.numeric.grad`, :mod:`rnnviz.language.gates`),
imported lazily so that a page without numbers never loads numpy.

Example:
    >>> import rnnviz
    >>> m = rnnviz.load_model(r"h_t = \\tanh(W h_{t-1} + U x_t)")
    >>> latex_equations(m)
    ['h^{(t)} &= \\\\tanh\\\\left(W \\\\, h^{(t-1)} + U \\\\, x^{(t)}\\\\right)']
"""

from __future__ import annotations

import html
import io
import re

from ..language import Model
from ..language import expr as E
from ..language.syntax import Name

__all__ = ["latex_name", "latex_expr", "latex_equations", "math_html", "table_html",
           "params_html", "gates_html", "plot_html", "legend_html"]

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
          "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
          "varphi", "vartheta", "varepsilon"}
_FUNCS = {"tanh": r"\tanh", "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}",
          "softmax": r"\operatorname{softmax}", "exp": r"\exp", "log": r"\log",
          "identity": r"\operatorname{id}", "logsoftmax": r"\log\operatorname{softmax}"}
_ACCENTS = {"tilde": r"\tilde", "hat": r"\hat", "bar": r"\bar", "vec": r"\vec",
            "fwd": r"\overrightarrow", "bwd": r"\overleftarrow"}
_PREC = {E.Add: 1, E.Sub: 1, E.Neg: 2, E.EMul: 3, E.Prod: 4}


def latex_name(name: Name, time: str | None = None) -> str:
    """LaTeX of a symbol as written (``h_1^{(t-1)}``, ``\\tilde{c}``, ``U^{g}``).

    Example:
        >>> latex_name(Name("theta", subs=("c",)), "t")
        '\\\\theta_{c}^{(t)}'
    """
    base = "\\" + name.base if name.base in _GREEK else name.base
    if name.accent in _ACCENTS:
        base = f"{_ACCENTS[name.accent]}{{{base}}}"
    if name.bold:
        base = f"\\mathbf{{{base}}}"
    out = base
    if name.subs:
        out += "_{" + ",".join(name.subs) + "}"
    sups = [*name.sups] + ([f"({time})"] if time else [])
    if sups:
        out += "^{" + ",".join(sups) + "}"
    return out


#: The step reads are written from: t, or T for an equation computed once at the end.
_BASE = ["t"]


def _time(delay: int) -> str:
    base = _BASE[0]
    return base if delay == 0 else f"{base}{-delay:+d}"


def latex_expr(e: E.Expr, model: Model, _parent: int = 0) -> str:
    """LaTeX of an expression tree, with the model's spelling of every name."""
    def name(n: str) -> Name:
        sym = model.symbols.get(n)
        return sym.display if sym is not None else Name(n)

    if isinstance(e, E.Num):
        return str(int(e.value)) if float(e.value).is_integer() else repr(e.value)
    if isinstance(e, E.Var):
        if model.phases is not None and e.name in model.phases.encoder.once:
            return latex_name(name(e.name))  # a context: one value, read without a time (C c)
        return latex_name(name(e.name), _time(e.delay))
    if isinstance(e, E.Param):
        return latex_name(name(e.name))
    if isinstance(e, E.Call) and not e.generic and e.func == "square":
        return rf"\left({latex_expr(e.arg, model)}\right)^2"
    if isinstance(e, E.Call) and not e.generic and e.func == "sumsq":
        return rf"\left\|{latex_expr(e.arg, model)}\right\|^2"
    if isinstance(e, E.Call):
        func = latex_name(name(e.func)) if e.generic else _FUNCS.get(e.func, rf"\operatorname{{{e.func}}}")
        if e.abstract:
            return rf"{func}\left({E.call_arguments(e, lambda a: latex_expr(a, model))}\right)"
        return rf"{func}\left({latex_expr(e.arg, model)}\right)"
    if isinstance(e, E.Concat):
        return r"\left[" + ",\\, ".join(latex_expr(i, model) for i in e.items) + r"\right]"
    prec = _PREC[type(e)]
    if isinstance(e, E.Neg):
        s = "-" + latex_expr(e.operand, model, prec)
    else:
        op = {E.Add: " + ", E.Sub: " - ", E.EMul: r" \odot ", E.Prod: r" \, "}[type(e)]
        lp, rp = (prec + 1, prec) if isinstance(e, E.Prod) else (prec, prec + 1)
        s = latex_expr(e.left, model, lp) + op + latex_expr(e.right, model, rp)
    return rf"\left({s}\right)" if prec < _parent else s


def latex_equations(model: Model) -> list[str]:
    """One aligned LaTeX line (``lhs &= rhs``) per equation, in evaluation order."""
    lines = []
    for eq in model.equations:
        lhs = latex_name(model.symbols[eq.target].display, None if eq.once else "t")
        _BASE[0] = "T" if eq.once else "t"  # o = V h_T + c reads the last step
        try:
            lines.append(f"{lhs} &= {latex_expr(eq.expr, model)}")
        finally:
            _BASE[0] = "t"
    return lines


def math_html(model: Model) -> str:
    """The equations as display math for KaTeX (``pymdownx.arithmatex`` generic form)."""
    body = r" \\ ".join(latex_equations(model))
    tex = r"\begin{aligned}" + body + r"\end{aligned}"
    return f'<div class="arithmatex rnnviz-math">\\[{html.escape(tex, quote=False)}\\]</div>'


def _fmt(value, precision: int) -> str:
    import numpy as np

    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.{precision}g}"
    flat = ", ".join(f"{float(v):.{precision}g}" for v in arr.reshape(-1)[:6])
    more = ", &hellip;" if arr.size > 6 else ""
    return f"[{flat}{more}]"


def _name_tex(model: Model, name: str, time: str | None = None) -> str:
    sym = model.symbols.get(name)
    return latex_name(sym.display if sym else Name(name), time)


def _math(tex: str) -> str:
    """Inline math for KaTeX (``pymdownx.arithmatex`` generic form)."""
    return f'<span class="arithmatex">\\({html.escape(tex, quote=False)}\\)</span>'


def _name_math(model: Model, name: str, time: str | None = None) -> str:
    return _math(_name_tex(model, name, time))


def _target_tex(model: Model, target: str) -> str:
    """LaTeX of a gradient target as the fence writes it: ``h[10]`` is ``h^{(10)}``.

    Example:
        >>> import rnnviz
        >>> _target_tex(rnnviz.load_model("h[t] = tanh(W h[t-1])"), "h[10]")
        'h^{(10)}'
    """
    m = re.fullmatch(r"\s*([^\[\]\s]+)\s*\[\s*(\w+)\s*\]\s*", target)
    if m is None or m.group(1) not in model.symbols:
        return r"\text{" + target.replace("\\", "").replace("{", "").replace("}", "") + "}"
    return _name_tex(model, m.group(1), m.group(2))


def table_html(model: Model, trace, *, precision: int = 3, names=None, caption: str | None = None) -> str:
    """The forward pass as a table: one row per step, one column per input and variable.

    An encoder-decoder has two tables, the encoder's steps and the decoder's, with the values
    computed once at the encoder's last step between them.
    """
    if getattr(trace, "decoder", None) is not None:
        return _phased_table_html(model, trace, precision)
    names = names if names is not None else [n for n in model.inputs + model.variables]
    head = "".join(f"<th>{_name_math(model, n, 't')}</th>" for n in names)
    rows = []
    for t in range(0, trace.steps + 1):
        cells = []
        for n in names:
            try:
                v = trace.value(n, t)
            except (KeyError, IndexError, ValueError):
                v = None
            cells.append("<td></td>" if v is None else f"<td>{_fmt(v, precision)}</td>")
        rows.append(f"<tr><th>{t}</th>{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<table class="rnnviz-table rnnviz-forward">{cap}<thead><tr><th>t</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _phased_table_html(model: Model, trace, precision: int) -> str:
    ph = model.phases
    enc, dec = trace.encoder, trace.decoder
    once = ph.encoder.once
    T = enc.steps
    first = table_html(model, enc, precision=precision, names=[n for n in enc.names if n not in once],
                       caption=f"encoder, t = 1..T (T = {T})")
    cells = "".join(f"<tr><td>{_name_math(model, n)}</td><td>{_fmt(enc.value(n, T), precision)}</td></tr>"
                    for n in once)
    middle = (f'<table class="rnnviz-table rnnviz-context"><caption>computed once, at the encoder\'s last '
              f"step (t = T = {T})</caption><tbody>{cells}</tbody></table>")
    last = table_html(model, dec, precision=precision, names=[n for n in dec.names if n not in ph.contexts],
                      caption=f"decoder, t = 1..T\u2032 (T\u2032 = {dec.steps})")
    return first + middle + last


def params_html(model: Model, shapes: dict[str, tuple[int, ...]]) -> str:
    """Parameter shapes and counts with their total."""
    rows, total = [], 0
    for name, shape in shapes.items():
        count = 1
        for d in shape:
            count *= int(d)
        total += count
        dims = " &times; ".join(str(d) for d in shape) or "scalar"
        rows.append(f"<tr><td>{_name_math(model, name)}</td><td>{dims}</td><td>{count}</td></tr>")
    rows.append(f"<tr><th>total</th><td></td><th>{total}</th></tr>")
    return ('<table class="rnnviz-table rnnviz-params"><thead><tr><th>parameter</th><th>shape</th>'
            f"<th>count</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def gates_html(model: Model, gates: dict[str, str], cell_state: str | None) -> str:
    """The gate roles found from the structure, and the cell state."""
    rows = [f"<tr><td>{_name_math(model, g, 't')}</td><td>{html.escape(role)} gate</td></tr>"
            for g, role in gates.items()]
    if cell_state:
        rows.append(f"<tr><td>{_name_math(model, cell_state, 't')}</td><td>cell state</td></tr>")
    if not rows:
        rows.append('<tr><td colspan="2">no gates: a plain recurrent network</td></tr>')
    return ('<table class="rnnviz-table rnnviz-gates"><thead><tr><th>variable</th><th>role</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _glyph(shape: str, fill: str, stroke: str, pen: float = 1.4) -> str:
    """A small picture of a node's shape in its colours (no text: the table says what it is)."""
    body = {
        "box": f'<rect x="3" y="4" width="30" height="16" rx="4" fill="{fill}" stroke="{stroke}" stroke-width="{pen}"/>',
        "square": f'<rect x="12" y="6" width="12" height="12" fill="{fill}" stroke="{stroke}" stroke-width="{pen}"/>',
        "param": f'<rect x="6" y="5" width="24" height="14" fill="{fill}" stroke="{stroke}" stroke-width="{pen}"/>',
        "circle": f'<circle cx="18" cy="12" r="9" fill="{fill}" stroke="{stroke}" stroke-width="{pen}"/>',
        "doublecircle": (f'<circle cx="18" cy="12" r="10.5" fill="none" stroke="{stroke}" stroke-width="{pen}"/>'
                         f'<circle cx="18" cy="12" r="8" fill="{fill}" stroke="{stroke}" stroke-width="{pen}"/>'),
        "line": f'<line x1="2" y1="12" x2="34" y2="12" stroke="{stroke}" stroke-width="{pen}"/>',
        "join": (f'<path d="M8 22 L18 14 L28 22 M18 14 L6 3 M18 14 L18 3 M18 14 L30 3" fill="none" '
                 f'stroke="{stroke}" stroke-width="{pen}"/><circle cx="18" cy="14" r="2.2" fill="{stroke}"/>'),
    }[shape]
    return (f'<svg class="rnnviz-glyph" width="36" height="24" viewBox="0 0 36 24" aria-hidden="true">'
            f"{body}</svg>")


def legend_html(model: Model) -> str:
    """What the shapes and colours of this model's diagrams mean, with the model's own names.

    The rows follow the diagrams' style (:mod:`rnnviz.diagrams.style`), so the legend
    cannot drift from the pictures; only the roles the model has are listed.

    Example:
        >>> import rnnviz
        >>> html = legend_html(rnnviz.load_model("h[t] = tanh(W h[t-1] + U x[t])\\ny[t] = V h[t]"))
        >>> "input" in html and "state" in html and "one-step delay" in html and "gate" not in html
        True
    """
    from ..diagrams import style
    from ..diagrams.graph import carried_outputs
    from ..language.gates import analyze

    def names(which: list[str]) -> str:
        return ", ".join(_name_math(model, n) for n in which)

    carried = carried_outputs(model)
    found = analyze(model)
    by_role = {role: [n for n in [*model.inputs, *model.variables] if model.role(n) == role]
               for role in ("input", "state", "hidden", "output")}
    gates = [n for n in by_role["hidden"] if n in found.roles]
    rows: list[tuple[str, str, str]] = []  # glyph, what it is, the model's names

    def look(role: str, **kw) -> str:
        a = style.node_attrs(role, **kw)
        return _glyph(a["shape"], a["fillcolor"], a["color"], float(a["penwidth"]))

    if by_role["input"]:
        rows.append((look("input"), "input, given at every step", names(by_role["input"])))
    if by_role["state"]:
        rows.append((look("state"), "state: carried to the next step (the thick ring)", names(by_role["state"])))
    if carried:
        rows.append((look("output", carried=True), "a state that is also the output (the double ring)",
                     names(sorted(carried, key=model.variables.index))))
    outputs = [n for n in by_role["output"] if n not in carried]
    if outputs:
        rows.append((look("output"), "output (the double ring)", names(outputs)))
    if gates:
        rows.append((look("hidden"), "gate: a value between 0 and 1 that scales another", names(gates)))
    others = [n for n in by_role["hidden"] if n not in gates]
    if others:
        rows.append((look("hidden"), "intermediate variable, computed at the same step", names(others)))
    if model.recurrent:
        delay = style.PALETTE["delay"]
        rows.append((_glyph("square", delay.fill, delay.stroke), "one-step delay (folded view): the value of "
                     "the step before", ""))
    rows.append((_glyph("line", "none", style.EDGE_COLOR), "a read; the parameter on it multiplies the value "
                 "it carries", names(model.parameters[:4]) + (", …" if len(model.parameters) > 4 else "")))
    cell = [(look("gate"), "gate activation (cell views)", "σ")] if gates else []
    cell += [(look("function"), "function (cell views)", "tanh, softmax"),
            (look("operation"), "operation (cell views)", "+, ⊙, ·"),
            (_glyph("param", style.PALETTE["parameter"].fill, style.PALETTE["parameter"].stroke, 1.0),
             "parameter box inside its product (cell views)", "")]
    from ..diagrams.cell import cell_graph
    from ..diagrams.cell_dot import joins_reads

    # An encoder-decoder's cell views draw the encoder's cell and the decoder's.
    cells = [model] if model.phases is None else [model.phases.encoder, model.phases.decoder]
    if model.phases is not None:
        rows.append((_glyph("join", "none", style.PALETTE["hidden"].stroke), "where the context enters a "
                     "decoder cell (cell views)", names(list(model.phases.contexts))))
    if any(joins_reads(cell_graph(m)) for m in cells):
        cell.append((_glyph("join", "none", style.EDGE_COLOR), "wires joining: the values every gate reads, "
                     "each through its own matrices (cell views)", ""))
    if found.highways:  # the LSTM's cell state, the GRU's interpolated h
        what = "additive path of the cell state" if found.cell_states else "additive path of the state"
        cell.append((_glyph("line", "none", style.PALETTE["state"].stroke, 3.6), f"{what} (cell views)",
                     names(list(found.highways))))
    rows.extend(cell)
    return _legend_table(rows)


def _legend_table(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<tr><td>{g}</td><td>{html.escape(what)}</td><td>{who}</td></tr>" for g, what, who in rows)
    return ('<table class="rnnviz-table rnnviz-legend"><thead><tr><th>shape</th><th>is</th><th>here</th>'
            f"</tr></thead><tbody>{body}</tbody></table>")


def plot_html(figure, prefix: str) -> str:
    """A matplotlib figure as an inline SVG whose ids do not clash with others on the page."""
    import matplotlib
    import matplotlib.pyplot as plt

    from ..diagrams.plot import measured_once
    from ..diagrams.svginline import inline_svg

    buf = io.StringIO()
    # A fixed hash salt and no date keep the SVG the same from build to build.
    with matplotlib.rc_context({"svg.hashsalt": "rnnviz"}), measured_once():
        figure.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return inline_svg(buf.getvalue(), prefix, classes=("rnnviz-plot",))


def gradnorms_html(model: Model, norms: dict[str, list[float]], spectra: dict[str, tuple[float, float]],
                   target: str, *, precision: int = 3, caption: str | None = None) -> str:
    """How far the gradient of ``target`` reaches back: its norm per recurrent state and step.

    ``caption`` (LaTeX) heads the table: an encoder-decoder has one table per phase, over its own steps.
    """
    steps = max((len(v) for v in norms.values()), default=0)
    of = _target_tex(model, target)
    # One row per step and one column per state, headed by the norm it holds in math
    # (the forward table's layout): narrow enough for a phone, whatever the steps.
    head = "".join("<th>" + _math(rf"\lVert \partial {of} / \partial {_name_tex(model, n, 't')} \rVert")
                   + "</th>" for n in norms)
    rows = []
    for t in range(steps):
        cells = "".join(f"<td>{vals[t]:.{precision}g}</td>" if t < len(vals) and vals[t] == vals[t]
                        else "<td></td>" for vals in norms.values())  # NaN: a backward chain's step 0
        rows.append(f"<tr><th>{t}</th>{cells}</tr>")
    above = f"<caption>{_math(caption)}</caption>" if caption else ""
    table = (f'<table class="rnnviz-table rnnviz-gradnorms">{above}<thead><tr>'
             f"<th>{_math('t')}</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return table + spectra_html(model, spectra, precision=precision)


def spectra_html(model: Model, spectra: dict[str, tuple[float, float]], *, precision: int = 3) -> str:
    """The spectral radius and the largest singular value of each recurrent weight, one per line."""
    if not spectra:
        return ""
    items = "<br>".join(f"{_name_math(model, w)}: spectral radius {r:.{precision}g}, "
                        f"largest singular value {s:.{precision}g}" for w, (r, s) in spectra.items())
    return f'<p class="rnnviz-spectra">{items}</p>'

