"""``rnnviz exercise FILE``: an exercise sheet and its solution sheet, from the equations.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> here = os.getcwd(); os.chdir(tempfile.mkdtemp())
    >>> _ = open("relu.rnn", "w").write("h_t = ReLU(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]\\n")
    >>> main(["exercise", "relu.rnn", "--tasks", "forward"])
    relu.exercises.md
    relu.solutions.md
    relu.key.txt
    0
    >>> open("relu.key.txt").read().splitlines()[-3:]
    ['h_1 = 6', 'h_2 = 0', 'h_3 = 3']
    >>> os.chdir(here)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ._common import add_model_arguments, count, load_model_from_args, seed

HELP = "an exercise sheet and its worked solutions (Markdown, LaTeX, PDF, HTML, Moodle XML)"
DESCRIPTION = """\
Write an exercise sheet and its solution sheet from the equations: the tasks
courses set (draw the network, the forward pass, plot it, count the
parameters (per layer too), a derivative by backpropagation through time,
the loss summed over time and its derivatives by the weights, assign the
gates, unroll the formula, the state's Jacobian), questions worded as sheets
word them, and solutions worked step by step with their numbers
(h_1 = relu(-3·0 + 3·2) = 6; a backward chain from T down to 1). Numbers
stay exact where the values are (3/2, not 1.5000001). An encoder-decoder
(c = h_T, s_0 = tanh(D c)) is worked over the encoder's steps, the context,
then the decoder's steps.

Without --variants the sheet uses the file's values (and draws hand-sized
ones for values it does not give). With --variants N it draws N variants:
small integers, one decimal or simple fractions, as the file writes its
numbers; no variant has every ReLU dead or a zero derivative to compute;
the gates get the names g_1, g_2, ... in a shuffled order.

  rnnviz exercise relu_1d.rnn --tasks forward,grad
  rnnviz exercise lstm.rnn --tasks gates,forward --variants 20 \\
      --format md,tex,moodle -o sheets/
  rnnviz exercise vanilla.rnn --tasks params --variants 5 --seed 3
  rnnviz exercise loss.rnn --tasks forward,loss
  rnnviz exercise relu_1d.rnn --variants 20 --format pdf,moodle -o quiz/

One run gives the printed sheets and the quiz: --format pdf compiles the
exercise and the solution sheet with pdflatex (Debian: texlive-latex-base,
texlive-latex-extra and lmodern) into STEM.exercises.pdf and
STEM.solutions.pdf, the diagrams inside them.

Writes STEM.exercises.EXT and STEM.solutions.EXT for md, tex, pdf and html
(LaTeX figures as PDF files in STEM-figures/), STEM.moodle.xml (one question per
variant and task, the solution as feedback, images embedded), and the answer
key STEM.key.txt (STEM.vK.key.txt per variant), which rnnviz check passes.
Nothing is written when anything fails.
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]

_FORMATS = ("md", "tex", "pdf", "html", "moodle")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --tasks, --variants, --seed, --format, -o, --of, --wrt, --title, --values, --set."""
    from ..teaching.tasks import TASKS

    add_model_arguments(parser)
    parser.add_argument("--tasks", metavar="LIST", default=None,
                        help="comma-separated tasks: " + ",".join(TASKS) +
                             " (default: every task that applies to the equations)")
    parser.add_argument("--variants", metavar="N", type=count, default=None,
                        help="draw N variants with their own values (default: one sheet with the file's values)")
    parser.add_argument("--seed", metavar="S", type=seed, default=0, help="seed of the drawn variants (default 0)")
    parser.add_argument("--format", metavar="LIST", default="md",
                        help="comma-separated formats: md, tex, pdf (compiled with pdflatex), html, moodle "
                             "(default md)")
    parser.add_argument("-o", "--output", metavar="DIR", default=None,
                        help="the folder to write into (default: the folder of FILE)")
    parser.add_argument("--of", metavar="TARGET", default=None,
                        help="what grad differentiates and formula unrolls (default: the last output at the "
                             "last step, as y[3])")
    parser.add_argument("--wrt", metavar="NAME", default=None,
                        help="the parameter grad differentiates by (default: the weight on the recurrent path)")
    parser.add_argument("--title", metavar="TEXT", default=None, help="the sheet's title")


def _formats(text: str) -> list[str]:
    names = [f.strip() for f in text.split(",") if f.strip()]
    for f in names:
        if f not in _FORMATS:
            raise UsageError(f"--format: unknown format '{f}'", hint="the formats are " + ", ".join(_FORMATS))
    if not names:
        raise UsageError("--format: name at least one format", hint="the formats are " + ", ".join(_FORMATS))
    return list(dict.fromkeys(names))


def _default_tasks(model) -> list[str]:
    from ..language.gates import analyze
    from ..teaching.tasks import TASKS

    tasks = list(TASKS)
    if model.phases is not None:  # an encoder-decoder's two sequences have no one plot of the steps
        tasks.remove("plot")
    if not analyze(model).gates:
        tasks.remove("gates")
    if not model.recurrent:
        tasks.remove("jacobian")
    if not model.parameters:
        tasks.remove("grad")
    if not model.totals or not model.parameters:
        tasks.remove("loss")
    return tasks


def _stem(file: str) -> tuple[Path, str]:
    if file == "-":
        return Path("."), "stdin"
    p = Path(file)
    return p.parent, p.name.split(".")[0] or p.stem


def run(args: argparse.Namespace) -> int:
    """Build every sheet in memory, then write the files (each atomically); print their paths."""
    from ..io import write_atomic
    from ..teaching.sheet import answer_key, build_sheet, parse_tasks, sheet_html, sheet_latex, sheet_markdown

    formats = _formats(args.format)
    model = load_model_from_args(args)
    tasks = parse_tasks(args.tasks) if args.tasks else _default_tasks(model)
    folder, stem = _stem(args.file)
    if args.output:
        folder = Path(args.output)
    sheet = build_sheet(model, tasks, variants=args.variants, seed=args.seed, target=args.of, wrt=args.wrt,
                        title=args.title)
    files: list[tuple[Path, str | bytes]] = []
    if "md" in formats:
        for kind, solution in (("exercises", False), ("solutions", True)):
            files.append((folder / f"{stem}.{kind}.md", sheet_markdown(sheet, solution=solution)))
    if "tex" in formats or "pdf" in formats:
        figures: dict[str, bytes] = {}

        def figure_path(fig) -> str:
            if fig.name not in figures:
                figures[fig.name] = fig.render("pdf")
            return f"{stem}-figures/{fig.name}.pdf"

        documents = {f"{stem}.{kind}.tex": sheet_latex(sheet, solution=solution, figure_path=figure_path)
                     for kind, solution in (("exercises", False), ("solutions", True))}
        if "tex" in formats:
            files += [(folder / name, text) for name, text in documents.items()]
            files += [(folder / f"{stem}-figures" / f"{name}.pdf", data) for name, data in figures.items()]
        if "pdf" in formats:  # compiled before anything is written: a failure leaves no file behind
            from ..teaching.pdf import compile_pdfs

            pdfs = compile_pdfs(documents, {f"{stem}-figures/{n}.pdf": d for n, d in figures.items()})
            files += [(folder / name, data) for name, data in pdfs.items()]
    if "html" in formats:
        from ..site.standalone import katex_head

        for kind, solution in (("exercises", False), ("solutions", True)):
            files.append((folder / f"{stem}.{kind}.html", sheet_html(sheet, solution=solution, head=katex_head())))
    if "moodle" in formats:
        from ..teaching.moodle import moodle_xml

        files.append((folder / f"{stem}.moodle.xml", moodle_xml(sheet, category=stem)))
    for sv in sheet.variants:
        name = f"{stem}.key.txt" if len(sheet.variants) == 1 else f"{stem}.v{sv.variant.index}.key.txt"
        files.append((folder / name, answer_key(sheet, sv)))
    for path, data in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        print(path)
    return 0
