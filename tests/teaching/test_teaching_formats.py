"""The sheet formats: Moodle XML as the importer reads it, LaTeX that compiles, HTML and Markdown."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from rnnviz import load_model
from rnnviz.cli import main
from rnnviz.teaching.moodle import TOLERANCE, moodle_xml, tolerance
from rnnviz.teaching.sheet import build_sheet
from tests.teaching.sheet_models import (BIDIRECTIONAL, DEEP, ENCODER_DECODER, LOSS, LSTM, RELU, SMALL_VECTORS,
                                         VECTOR_LOSS)

_CLOZE = re.compile(r"\{(\d*):(NUMERICAL|NM|MULTICHOICE|MC|SHORTANSWER|SA):([^{}]*)\}")
_TYPES = {"category", "numerical", "cloze", "essay", "multichoice", "shortanswer", "truefalse", "description"}


def _importer_reads(xml_text: str) -> list[ET.Element]:
    """The structure qformat_xml reads: quiz > question[type], name/text, questiontext[format]/text, files."""
    root = ET.fromstring(xml_text)
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    assert questions[0].find("category/text").text.startswith("$course$/")
    out = []
    for q in questions[1:]:
        assert q.get("type") in _TYPES
        assert q.find("name/text").text.strip()
        for field in ("questiontext", "generalfeedback"):
            el = q.find(field)
            assert el is not None and el.get("format") == "html"
            text = el.find("text").text or ""
            names = {f.get("name") for f in el.findall("file")}
            for f in el.findall("file"):
                assert f.get("path") == "/" and f.get("encoding") == "base64"
                assert base64.b64decode(f.text).startswith(b"\x89PNG")
            # every @@PLUGINFILE@@ reference has its file in the same field
            assert set(re.findall(r"@@PLUGINFILE@@/([\w.-]+)", text)) == names
        assert q.find("defaultgrade").text == "1" and q.find("hidden").text == "0"
        if q.get("type") == "numerical":
            answers = q.findall("answer")
            assert answers and all(a.get("fraction") == "100" for a in answers)
            for a in answers:
                float(a.find("text").text)
                float(a.find("tolerance").text)
        if q.get("type") == "cloze":
            assert _CLOZE.search(q.find("questiontext/text").text)
        if q.get("type") == "essay":
            assert q.find("graderinfo/text").text
        out.append(q)
    return out


def _cloze_numbers(q: ET.Element) -> list[tuple[float, float]]:
    out = []
    for _, kind, body in _CLOZE.findall(q.find("questiontext/text").text):
        if kind in ("NUMERICAL", "NM"):
            value, tol = body.lstrip("=").split(":")
            out.append((float(value), float(tol)))
    return out


def test_moodle_xml_parses_and_holds_each_variants_numbers():
    """One question per variant and task; each variant's forward values are its cloze answers, with tolerances."""
    sheet = build_sheet(load_model(RELU), ["forward", "params", "grad", "draw"], variants=5, seed=2)
    questions = _importer_reads(moodle_xml(sheet, category="relu"))
    assert len(questions) == 4 * 5
    forward = [q for q in questions if "Forward pass" in q.find("name/text").text]
    assert len(forward) == 5 and {q.get("type") for q in forward} == {"cloze"}
    for sv, q in zip(sheet.variants, forward):
        assert f"(variant {sv.variant.index})" in q.find("name/text").text
        expected = [float(a.value) for a in sv.parts[0].answers]
        got = _cloze_numbers(q)
        assert [v for v, _ in got] == pytest.approx(expected, abs=1e-6)
        for (v, tol), a in zip(got, sv.parts[0].answers):
            whole = isinstance(a.value, Fraction) and a.value.denominator == 1
            assert tol == (0 if whole else tolerance(a.value))
    params = [q for q in questions if q.get("type") == "numerical" and "parameters" in q.find("name/text").text]
    assert len(params) == 5
    draw = [q for q in questions if q.get("type") == "essay"]
    assert len(draw) == 5
    # the diagrams are in the solution (feedback) only, as PNG files
    for q in draw:
        assert not q.find("questiontext").findall("file")
        assert len(q.find("generalfeedback").findall("file")) == 2


def test_moodle_gates_are_multichoice():
    """The gate roles are MULTICHOICE cloze fields whose right choice is each gate's role."""
    sheet = build_sheet(load_model(LSTM), ["gates"], variants=3, seed=1)
    for sv, q in zip(sheet.variants, _importer_reads(moodle_xml(sheet, category="lstm"))):
        text = q.find("questiontext/text").text
        for a in sv.parts[0].answers:
            if a.kind == "gate":
                assert re.search(r"\{1:MULTICHOICE:[^}]*=" + a.value + r"[~}]", text)


def test_html_is_standalone(tmp_path):
    """The HTML sheet carries its math typesetting and its pictures; it asks no other host."""
    (tmp_path / "relu.rnn").write_text(RELU)
    assert main(["exercise", str(tmp_path / "relu.rnn"), "--tasks", "draw,forward", "--format", "html"]) == 0
    page = (tmp_path / "relu.solutions.html").read_text()
    assert "katex" in page and "data:image/svg+xml;base64," in page
    assert not re.search(r"(src|href)=\"https?:", page)
    assert "data:image" not in (tmp_path / "relu.exercises.html").read_text()


def test_markdown_uses_fences_and_dollar_math(tmp_path):
    """Markdown for the rnnviz plugin: $ math, and the diagrams as rnnviz fences in the solution only."""
    sheet = build_sheet(load_model(RELU), ["draw", "plot"])
    from rnnviz.teaching.sheet import sheet_markdown

    sol = sheet_markdown(sheet, solution=True)
    assert "```rnnviz {view=folded}" in sol and "```rnnviz {show=plot}" in sol
    assert "$$\n\\begin{aligned}" in sol
    assert "```rnnviz" not in sheet_markdown(sheet, solution=False)


def test_nothing_is_written_when_a_task_fails(tmp_path):
    """A task that does not apply (gates of a plain RNN) stops before any file is written."""
    (tmp_path / "relu.rnn").write_text(RELU)
    assert main(["exercise", str(tmp_path / "relu.rnn"), "--tasks", "forward,gates"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relu.rnn"]


def test_unknown_task_and_format_are_usage_errors(tmp_path, capsys):
    """--tasks and --format name what they know."""
    (tmp_path / "relu.rnn").write_text(RELU)
    assert main(["exercise", str(tmp_path / "relu.rnn"), "--tasks", "forwrd"]) == 2
    assert "unknown task 'forwrd'" in capsys.readouterr().err
    assert main(["exercise", str(tmp_path / "relu.rnn"), "--format", "docx"]) == 2
    assert "unknown format 'docx'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
@pytest.mark.parametrize("text", [RELU, LSTM], ids=["relu", "lstm"])
def test_latex_compiles(tmp_path, text):
    """The LaTeX sheets (every task, two variants) compile with pdflatex, figures as PDF, no overfull line."""
    (tmp_path / "ex.rnn").write_text(text)
    tasks = "draw,forward,plot,grad,formula,jacobian" + (",gates" if "g_1" in text else "")
    assert main(["exercise", str(tmp_path / "ex.rnn"), "--tasks", tasks, "--variants", "2", "--format", "tex",
                 "-o", str(tmp_path / "out")]) == 0
    for kind in ("exercises", "solutions"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"ex.{kind}.tex"],
                             cwd=tmp_path / "out", capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stdout[-3000:]
        assert (tmp_path / "out" / f"ex.{kind}.pdf").stat().st_size > 1000
        assert "Overfull \\hbox" not in (tmp_path / "out" / f"ex.{kind}.log").read_text(errors="replace")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
def test_one_command_gives_printable_sheets_and_a_quiz(tmp_path, capsys):
    """--format pdf,moodle: the exercise and solution sheets as PDF (diagrams inside, no .tex left) and the quiz."""
    (tmp_path / "ex.rnn").write_text(RELU)
    out = tmp_path / "out"
    assert main(["exercise", str(tmp_path / "ex.rnn"), "--variants", "2", "--format", "pdf,moodle",
                 "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ex.exercises.pdf", "ex.moodle.xml", "ex.solutions.pdf", "ex.v1.key.txt", "ex.v2.key.txt"]
    for kind in ("exercises", "solutions"):
        data = (out / f"ex.{kind}.pdf").read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    if shutil.which("pdfinfo"):
        pages = {}
        for kind in ("exercises", "solutions"):
            info = subprocess.run(["pdfinfo", str(out / f"ex.{kind}.pdf")], capture_output=True, text=True,
                                  check=True).stdout
            pages[kind] = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))
        assert pages["solutions"] > pages["exercises"] >= 2  # a page per variant; the solutions are longer
    _importer_reads((out / "ex.moodle.xml").read_text())


def test_pdf_without_pdflatex_names_the_packages_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import rnnviz.teaching.pdf as pdf

    which = pdf.shutil.which
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None if name == "pdflatex" else which(name))
    (tmp_path / "ex.rnn").write_text(RELU)
    assert main(["exercise", str(tmp_path / "ex.rnn"), "--format", "md,pdf", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "pdflatex, which was not found" in err and "apt install texlive-latex-base texlive-latex-extra" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
def test_a_failing_compile_says_where():
    from rnnviz.errors import RenderError
    from rnnviz.teaching.pdf import compile_pdfs

    doc = "\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n\\end{document}\n"
    with pytest.raises(RenderError, match="pdflatex could not compile bad.tex:\n! Undefined control sequence"):
        compile_pdfs({"bad.tex": doc}, {})


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
def test_a_missing_latex_package_is_named_with_what_installs_it():
    """A machine with pdflatex but without a package the sheets use (lmodern is only a
    recommendation of texlive-latex-base) is told which one, and how to install it."""
    from rnnviz.errors import RenderError
    from rnnviz.teaching.pdf import PACKAGES, compile_pdfs

    doc = "\\documentclass{article}\n\\usepackage{rnnviz-no-such-package}\n\\begin{document}x\\end{document}\n"
    with pytest.raises(RenderError) as caught:
        compile_pdfs({"bad.tex": doc}, {})
    assert "rnnviz-no-such-package.sty" in caught.value.hint and f"apt install {PACKAGES}" in caught.value.hint
    assert "lmodern" in PACKAGES


def test_wrt_names_a_parameter(tmp_path, capsys):
    """--wrt that is no parameter is a usage error naming the parameters."""
    (tmp_path / "relu.rnn").write_text(RELU)
    assert main(["exercise", str(tmp_path / "relu.rnn"), "--tasks", "grad", "--wrt", "X"]) == 2
    assert "--wrt: 'X' is not a parameter" in capsys.readouterr().err


@pytest.mark.parametrize("text, task", [(BIDIRECTIONAL, "forward"), (DEEP, "params"), (LOSS, "loss"),
                                       (ENCODER_DECODER, "forward")],
                         ids=["backward-chain", "layer-counts", "loss", "encoder-decoder"])
def test_moodle_xml_holds_each_variants_numbers_of_the_new_tasks(text, task):
    """A backward chain's values, the per-layer counts, the loss and its gradient: each variant's numbers are
    its cloze answers, each within the tolerance its size calls for."""
    sheet = build_sheet(load_model(text), [task], variants=20, seed=4)
    questions = _importer_reads(moodle_xml(sheet, category=task))
    assert len(questions) == 20 and {q.get("type") for q in questions} == {"cloze"}
    for sv, q in zip(sheet.variants, questions):
        expected = [a.value for a in sv.parts[0].answers]
        got = _cloze_numbers(q)
        assert [v for v, _ in got] == pytest.approx([float(x) for x in expected], rel=1e-5, abs=1e-9)
        assert [tol for _, tol in got] == pytest.approx([tolerance(x) for x in expected], rel=1e-9)


def test_moodle_tolerance_is_relative_where_the_size_calls_for_it():
    """0.0373 is graded within 0.1% of it (three decimals would pass 0.037 and 0.038 alike, and 0 for 0.0003);
    1234.5 within 1.23; numbers from 0.1 up to 100 within 0.001; whole numbers exactly."""
    assert tolerance(Fraction(402)) == 0
    assert tolerance(0.5622) == TOLERANCE and tolerance(-99.5) == TOLERANCE
    assert tolerance(0.0373194) == pytest.approx(3.73e-5) and tolerance(-0.0003) == pytest.approx(3e-7)
    assert tolerance(1234.5) == pytest.approx(1.23)
    sheet = build_sheet(load_model(LOSS), ["forward"])
    text = _importer_reads(moodle_xml(sheet, category="loss"))[0].find("questiontext/text").text
    l2 = next(a for a in sheet.variants[0].parts[0].answers if a.key == "L[2]")
    assert f"{{1:NUMERICAL:={float(l2.value):.6g}:{tolerance(l2.value)!r}}}" in text
    assert "numbers below 0.1 or from 100 up to four significant digits" in text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)")
@pytest.mark.parametrize("text, tasks", [(BIDIRECTIONAL, "draw,forward,grad,jacobian"), (DEEP, "draw,params"),
                                         (LOSS, "draw,forward,loss"), (SMALL_VECTORS, "forward,grad"),
                                         (ENCODER_DECODER, "draw,forward,params,grad,formula,jacobian"),
                                         (DEEP, "forward"), (VECTOR_LOSS, "forward,loss,grad")],
                         ids=["backward-chain", "layers", "loss", "vector-sums", "encoder-decoder", "large-vectors",
                              "vector-backprop"])
def test_latex_of_the_new_tasks_compiles(tmp_path, text, tasks):
    """The sheets of exercises 8, 9, 10 (its 8-vectors too) and 11 and of models of small vectors worked with their
    sums forward and backward (two variants) compile with pdflatex, with no overfull line."""
    (tmp_path / "ex.rnn").write_text(text)
    assert main(["exercise", str(tmp_path / "ex.rnn"), "--tasks", tasks, "--variants", "2", "--format", "tex",
                 "-o", str(tmp_path / "out")]) == 0
    for kind in ("exercises", "solutions"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"ex.{kind}.tex"],
                             cwd=tmp_path / "out", capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stdout[-3000:]
        assert "Overfull \\hbox" not in (tmp_path / "out" / f"ex.{kind}.log").read_text(errors="replace")
