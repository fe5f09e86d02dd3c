"""An exercise sheet and its solution sheet: variants, each with the parts of the tasks asked.

:func:`build_sheet` turns a model into a :class:`Sheet`: the variants (the file's
values, or drawn ones), and for each the equations, then one :class:`~rnnviz.teaching.tasks.Part`
per task. :func:`sheet_markdown`, :func:`sheet_latex` and :func:`sheet_html` write the
exercise sheet (``solution=False``: questions only, no diagram) or the solution sheet;
:func:`answer_key` writes the answer lines ``rnnviz check`` reads.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    >>> sheet = build_sheet(m, ["forward"])
    >>> [a.line() for a in sheet.variants[0].parts[0].answers]
    ['h_1 = 6', 'h_2 = 0', 'h_3 = 3']
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..formulas.unrolled import at_steps
from ..language import Model
from .document import Chain, Heading, Math, Para, to_html, to_latex, to_markdown
from .tasks import TASKS, Context, Part, build_part
from .variants import Variant, draw_variants, file_variant

__all__ = ["Sheet", "SheetVariant", "build_sheet", "sheet_markdown", "sheet_latex", "sheet_html", "answer_key",
           "parse_tasks"]


@dataclass
class SheetVariant:
    variant: Variant
    context: Context
    intro: list
    parts: list[Part]


@dataclass
class Sheet:
    title: str
    tasks: list[str]
    variants: list[SheetVariant]


def parse_tasks(text: str) -> list[str]:
    """``draw,forward`` -> the task names, checked, in the order given."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    for n in names:
        if n not in TASKS:
            raise UsageError(f"--tasks: unknown task '{n}'", hint="the tasks are " + ", ".join(TASKS))
    if not names:
        raise UsageError("--tasks: name at least one task", hint="the tasks are " + ", ".join(TASKS))
    return list(dict.fromkeys(names))


def _equations(model: Model) -> list:
    from .scalar import StepPrinter

    # What is computed once (an encoder-decoder's c = h_T) is written without a step, its reads at T.
    once = frozenset(model.once)
    p, pp = StepPrinter(model, latex=True, bare=once), StepPrinter(model, latex=False, bare=once)
    out = []
    for eq in model.equations:
        at = "T" if eq.once else "t"
        out.append(Chain(Math(p.name(eq.target, "t"), pp.name(eq.target, "t")),
                         (Math(p.expr(at_steps(eq.expr, at)), pp.expr(at_steps(eq.expr, at))),)))
    for total, per in model.totals:
        out.append(Chain(Math(total, total), (Math(f"\\sum_{{t}} {p.name(per, 't')}", f"sum_t {pp.name(per, 't')}"),)))
    return out


def build_sheet(model: Model, tasks: list[str], *, variants: int | None = None, seed: int = 0,
                target: str | None = None, wrt: str | None = None, title: str | None = None) -> Sheet:
    """The sheet of ``tasks`` for the file's values (``variants`` None) or ``variants`` drawn ones."""
    from .variants import default_wrt

    if wrt is not None and wrt not in model.parameters:
        from ..language.parse import suggest

        close = suggest(wrt, model.parameters)
        raise UsageError(f"--wrt: '{wrt}' is not a parameter of the equations",
                         hint=f"did you mean {close}?" if close else "the parameters are " + ", ".join(model.parameters))
    grad = None
    if "grad" in tasks:
        grad = (target, wrt or default_wrt(model))
        if grad[1] is None:
            raise UsageError("the grad task needs a parameter to differentiate by; these equations have none")
    numeric = bool({"forward", "plot", "grad", "jacobian"} & set(tasks))
    # A sheet that counts and computes nothing lists no weights: its variants differ in their sizes.
    numbers = numeric or "params" not in tasks
    if variants is None:
        vs = [file_variant(model, seed=seed, numbers=numbers)]
    else:
        # Counting parameters differs by variant only with drawn sizes; a scalar sheet that also
        # asks for numbers keeps its scalars (a hand calculation), vector files redraw theirs.
        sizes = "params" in tasks and (not numeric or any(v.kind == "size" for v in model.values))
        vs = draw_variants(model, variants, seed=seed, rename_gates="gates" in tasks, grad=grad, sizes=sizes,
                           numbers=numbers, loss=[wrt] if wrt else None if "loss" not in tasks else [])
    out = []
    for v in vs:
        tgt = target if not v.renamed or target is None else _rename_target(target, v.renamed)
        w = v.renamed.get(wrt, wrt) if wrt else None
        ctx = Context.of(v.model, target=tgt, wrt=w, index=v.index)
        intro = [Para(("Consider the recurrent network",)), *_equations(v.model)]
        parts = [build_part(t, ctx) for t in tasks]
        out.append(SheetVariant(v, ctx, intro, parts))
    return Sheet(title or _title(model), list(tasks), out)


def _rename_target(text: str, rename: dict) -> str:
    from .variants import _renamed_target

    return _renamed_target(text, rename)


def _title(model: Model) -> str:
    import os

    stem = os.path.basename(model.file).split(".")[0] if model.file and not model.file.startswith("<") else ""
    return f"Exercise: {stem.replace('_', ' ')}" if stem else "Exercise"


def _blocks(sheet: Sheet, sv: SheetVariant, solution: bool) -> list:
    out: list = []
    if len(sheet.variants) > 1:
        out.append(Heading(f"Variant {sv.variant.index}"))
    out += sv.intro
    for i, part in enumerate(sv.parts, start=1):
        out.append(Heading(f"{i}. {part.title}", 1 if len(sheet.variants) > 1 else 0))
        out += part.question
        if solution:
            out.append(Para(("Solution.",)))
            out += part.solution
            if part.answers:
                out.append(Para(tuple(["Answers: "] + _answer_parts(part, sv))))
    return out


def _answer_parts(part: Part, sv: SheetVariant) -> list:
    from .tasks import _value_math

    out: list = []
    for i, a in enumerate(part.answers):
        if i:
            out.append("; ")
        if a.kind == "params":  # words, not math: a line may break between them
            out.append(f"{a.label.plain} = {a.value}")
        elif isinstance(a.value, str):
            if a.kind == "cell":
                out += [Math(sv.context.name(a.value, "t"), a.value), " is the cell state"]
            else:
                out += [a.label, " = " + a.value]
        else:
            v = _value_math(a.value, sv.context.fractions, digits=6)
            out.append(Math(f"{a.label.latex} = {v.latex}", f"{a.label.plain} = {v.plain}"))
    return out


def _heading(sheet: Sheet, solution: bool) -> str:
    return f"{sheet.title}: {'solutions' if solution else 'exercises'}"


def sheet_markdown(sheet: Sheet, *, solution: bool) -> str:
    """The sheet as Markdown for an MkDocs site with the rnnviz plugin."""
    parts = [f"# {_heading(sheet, solution)}\n"]
    for sv in sheet.variants:
        parts.append(to_markdown(_blocks(sheet, sv, solution), level=2))
    return "\n".join(parts)


_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=2.2cm]{geometry}
\allowdisplaybreaks
\setlength{\emergencystretch}{3em}
\tolerance=2000
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
"""


def sheet_latex(sheet: Sheet, *, solution: bool, figure_path) -> str:
    """A LaTeX document for pdflatex; ``figure_path(fig)`` names the PDF written for each figure."""
    from .document import latex_escape

    body = []
    for k, sv in enumerate(sheet.variants):
        if k:
            body.append("\\clearpage")
        if len(sheet.variants) > 1:
            body.append(f"\\section*{{{latex_escape(_heading(sheet, solution))}, variant {sv.variant.index}}}")
        else:
            body.append(f"\\section*{{{latex_escape(_heading(sheet, solution))}}}")
        blocks = [b for b in _blocks(sheet, sv, solution) if not (isinstance(b, Heading) and b.text.startswith("Variant"))]
        body.append(to_latex(blocks, figure_path))
    return _PREAMBLE + "\\begin{document}\n" + "\n".join(body) + "\\end{document}\n"


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: Georgia, 'Times New Roman', serif; max-width: 50em; margin: 2em auto; padding: 0 1em;
       line-height: 1.5; color: #222; }}
h1, h2, h3 {{ font-family: Arial, Helvetica, sans-serif; }}
.math.display {{ margin: 0.8em 0; overflow-x: auto; }}
.figure {{ text-align: center; }}
@media print {{ h2 {{ break-before: page; }} h2:first-of-type {{ break-before: auto; }} }}
</style>
{head}
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def sheet_html(sheet: Sheet, *, solution: bool, head: str = "") -> str:
    """One stand-alone HTML file; ``head`` typesets the math (a KaTeX bundle and its start script)."""
    import html

    body = []
    for sv in sheet.variants:
        body.append(to_html(_blocks(sheet, sv, solution), level=2))
    title = html.escape(_heading(sheet, solution))
    return _HTML.format(title=title, head=head, body="\n".join(body))


def answer_key(sheet: Sheet, sv: SheetVariant) -> str:
    """The variant's equations, values and answer lines: a sheet ``rnnviz check`` passes."""
    lines = [f"% {sheet.title}: answer key" + (f", variant {sv.variant.index}" if len(sheet.variants) > 1 else ""),
             "% checked by: rnnviz check FILE", "", sv.variant.source.rstrip("\n"), ""]
    for part in sv.parts:
        for a in part.answers:
            lines.append(a.line(sv.context.fractions))
    return "\n".join(lines) + "\n"
