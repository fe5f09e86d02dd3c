"""A sheet as blocks (text with math, displayed equations, figures) and its Markdown, LaTeX and HTML.

Tasks (:mod:`rnnviz.teaching.tasks`) write blocks; this module writes them out:

- Markdown for an MkDocs site with the rnnviz plugin: ``$...$`` math (the plugin ships
  KaTeX) and the figures as ``rnnviz`` fences holding the variant's equations, so the
  site draws them at build time;
- LaTeX for pdflatex (amsmath, graphicx), the figures as PDF files beside it;
- one stand-alone HTML file: the figures inline (data URIs), the math set by a KaTeX
  the caller passes in as ``head`` (the site stage ships one).

A displayed equation is a chain ``lhs = a = b = c``; LaTeX and HTML align it on its
equals signs, one step a line, so a long worked step stays inside the page.

Example:
    >>> doc = [Heading("Forward pass"), Para(("Calculate ", Math("h_{1}", "h_1"), ".")),
    ...        Chain(Math("h_{1}", "h_1"), (Math("\\\\mathrm{relu}(6)", "relu(6)"), Math("6", "6")))]
    >>> print(to_markdown(doc, level=2))
    ## Forward pass
    <BLANKLINE>
    Calculate $h_{1}$.
    <BLANKLINE>
    $$
    \\begin{aligned}
    h_{1} &= \\mathrm{relu}(6) \\\\
    &= 6
    \\end{aligned}
    $$
    <BLANKLINE>
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Math", "Para", "Heading", "Chain", "Figure", "Block", "to_markdown", "to_latex", "to_html",
           "html_text", "latex_escape", "plain_text"]


@dataclass(frozen=True)
class Math:
    """A formula in LaTeX and in plain text (answer lines, alt texts)."""

    latex: str
    plain: str


@dataclass(frozen=True)
class Para:
    """A paragraph: text and :class:`Math` in turn."""

    parts: tuple


@dataclass(frozen=True)
class Heading:
    """A heading; ``depth`` 1 sits under a heading of depth 0 (a task under its variant)."""

    text: str
    depth: int = 0


@dataclass(frozen=True)
class Chain:
    """A displayed chain of equalities ``lhs = rhs[0] = rhs[1] ...`` (a worked step)."""

    lhs: Math
    rhs: tuple
    #: Written between the sides (``=``, ``\\approx``).
    rel: str = "="


@dataclass(frozen=True)
class Figure:
    """A diagram or plot: ``render(fmt)`` gives svg/png/pdf bytes; ``fence`` its rnnviz fence."""

    name: str
    alt: str
    render: Callable[[str], bytes]
    fence: str
    #: How wide in a LaTeX page, as a fraction of the line.
    width: float = 0.9


Block = Para | Heading | Chain | Figure


# -- Markdown ------------------------------------------------------------------------


def _md_inline(parts: tuple) -> str:
    out = []
    for p in parts:
        out.append(f"${p.latex}$" if isinstance(p, Math) else str(p).replace("*", "\\*"))
    return "".join(out)


#: Visible characters beyond which a long sum goes on over several lines.
_LINE = 56


def _visible(latex: str) -> int:
    """Roughly how many characters a formula shows (its commands and braces do not count)."""
    # A product dot sets about as wide as a character with its spacing: it counts as one.
    latex = re.sub(r"\\[co]dot\b", "x", latex)
    return len(re.sub(r"\\(left|right|operatorname|mathrm|frac|partial|sigma|tanh|quad|,)|[{}\\ ]", "",
                      latex))


def _terms(latex: str) -> list[str]:
    """A formula cut at its top-level `` + `` and `` - `` (each piece keeps its sign)."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(latex):
        ch = latex[i]
        if latex.startswith("\\begin{", i) or latex.startswith("\\end{", i):  # a matrix is one piece
            depth += 1 if latex[i + 1] == "b" else -1
            i = latex.index("}", i)
        elif latex.startswith(("\\left\\|", "\\right\\|"), i):  # a norm's bars pair like brackets
            depth += 1 if latex[i + 1] == "l" else -1
            i += len("\\left\\|" if latex[i + 1] == "l" else "\\right\\|") - 1
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0 and latex.startswith((" + ", " - "), i) and i > start:
            out.append(latex[start:i])
            start = i + 1
            i += 2
        i += 1
    out.append(latex[start:])
    return out


def _broken(latex: str) -> list[str]:
    """A long right side over several lines: whole terms, each line about :data:`_LINE` wide."""
    if _visible(latex) <= _LINE:
        return [latex]
    lines: list[str] = []
    for term in _terms(latex):
        if lines and _visible(lines[-1] + term) <= _LINE:
            lines[-1] += " " + term
        else:
            lines.append(term)
    return lines


def _aligned(chain: Chain | list) -> str:
    """One or more chains as the lines of an ``aligned`` environment, aligned on their relations.

    A right side too long for a line goes on below, ``&\\quad + ...``, cut between terms.
    """
    chains = chain if isinstance(chain, list) else [chain]
    lines = []
    for c in chains:
        for k, r in enumerate(c.rhs):
            head = f"{c.lhs.latex} &{c.rel} " if k == 0 else f"&{c.rel} "
            pieces = _broken(r.latex)
            lines.append(head + pieces[0])
            lines += [f"&\\quad {p}" for p in pieces[1:]]
    return " \\\\\n".join(lines)


def _grouped(blocks: list) -> list:
    """Consecutive chains as one list (one displayed block), other blocks as they are."""
    out: list = []
    for b in blocks:
        if isinstance(b, Chain) and out and isinstance(out[-1], list):
            out[-1].append(b)
        else:
            out.append([b] if isinstance(b, Chain) else b)
    return out


def to_markdown(blocks: list, *, level: int = 2) -> str:
    """Markdown with ``$`` math and rnnviz fences for the figures."""
    out: list[str] = []
    for b in _grouped(blocks):
        if isinstance(b, Heading):
            out.append("#" * (level + b.depth) + " " + b.text)
        elif isinstance(b, Para):
            out.append(_md_inline(b.parts))
        elif isinstance(b, list):
            out.append("$$\n\\begin{aligned}\n" + _aligned(b) + "\n\\end{aligned}\n$$")
        elif isinstance(b, Figure):
            out.append(b.fence.rstrip("\n"))
    return "\n\n".join(out) + "\n"


# -- LaTeX ---------------------------------------------------------------------------

_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def latex_escape(text: str) -> str:
    """Text (not math) for LaTeX: its special characters escaped.

    Example:
        >>> latex_escape("50% of x_t & more")
        '50\\\\% of x\\\\_t \\\\& more'
    """
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


#: Visible characters of a line that cannot be cut between terms, beyond which it is scaled to the page.
_WIDE = 100


def to_latex(blocks: list, figure_path: Callable[[Figure], str]) -> str:
    """The body of a LaTeX document; ``figure_path(fig)`` names the PDF file of each figure."""
    out: list[str] = []
    for b in _grouped(blocks):
        if isinstance(b, Heading):
            out.append(f"\\{'sub' * (1 + b.depth)}section*{{{latex_escape(b.text)}}}")
        elif isinstance(b, Para):
            out.append("".join(f"${p.latex}$" if isinstance(p, Math) else latex_escape(str(p)) for p in b.parts))
        elif isinstance(b, list):
            run: list = []
            for c in b + [None]:
                if c is not None and max(_visible(p) for r in c.rhs for p in _broken(r.latex)) <= _WIDE:
                    run.append(c)
                    continue
                if run:
                    out.append("\\begin{align*}\n" + _aligned(run) + "\n\\end{align*}")
                    run = []
                if c is not None:  # one line too long for the page: scaled to the line's width
                    inner = " ".join([c.lhs.latex, c.rel, c.rhs[0].latex] + [f"{c.rel} {r.latex}" for r in c.rhs[1:]])
                    out.append(f"\\[\\resizebox{{\\linewidth}}{{!}}{{$\\displaystyle {inner}$}}\\]")
        elif isinstance(b, Figure):
            out.append("\\begin{center}\n"
                       f"\\includegraphics[width={b.width}\\linewidth,height=0.42\\textheight,keepaspectratio]"
                       f"{{{figure_path(b)}}}\n\\end{{center}}")
    return "\n\n".join(out) + "\n"


# -- HTML ----------------------------------------------------------------------------


def html_text(parts: tuple, *, moodle: bool = False) -> str:
    """A paragraph's HTML: math as KaTeX spans, or as ``\\(...\\)`` for Moodle's MathJax filter."""
    out = []
    for p in parts:
        if isinstance(p, Math):
            out.append(f"\\({html.escape(p.latex, quote=False)}\\)" if moodle
                       else f'<span class="math">{html.escape(p.latex, quote=False)}</span>')
        else:
            out.append(html.escape(str(p), quote=False))
    return "".join(out)


def to_html(blocks: list, *, moodle: bool = False, image: Callable[[Figure], str] | None = None,
            level: int = 3) -> str:
    """HTML of the blocks; ``image(fig)`` gives an ``<img>`` src (default: an inline SVG data URI)."""
    out: list[str] = []
    for b in _grouped(blocks):
        if isinstance(b, Heading):
            out.append(f"<h{level + b.depth}>{html.escape(b.text)}</h{level + b.depth}>")
        elif isinstance(b, Para):
            out.append(f"<p>{html_text(b.parts, moodle=moodle)}</p>")
        elif isinstance(b, list):
            tex = html.escape("\\begin{aligned}" + _aligned(b) + "\\end{aligned}", quote=False)
            out.append(f"<p>\\[{tex}\\]</p>" if moodle else f'<div class="math display">{tex}</div>')
        elif isinstance(b, Figure):
            if image is not None:
                src = image(b)
            else:
                src = "data:image/svg+xml;base64," + base64.b64encode(b.render("svg")).decode("ascii")
            out.append(f'<p class="figure"><img src="{src}" alt="{html.escape(b.alt)}"'
                       ' style="max-width:100%;height:auto"></p>')
    return "\n".join(out) + "\n"


def plain_text(parts: tuple) -> str:
    """A paragraph as plain text (math in its plain spelling)."""
    return "".join(p.plain if isinstance(p, Math) else str(p) for p in parts)
