"""Printable sheets: the LaTeX documents compiled to PDF with pdflatex.

:func:`compile_pdfs` writes the documents and their figures into a temporary folder,
runs ``pdflatex`` on each (no shell escape, a time limit) and returns the PDFs' bytes;
nothing of the run is left behind. Without pdflatex it says which Debian packages bring it.

Example:
    >>> import shutil
    >>> doc = "\\\\documentclass{article}\\\\begin{document}Hello\\\\end{document}\\n"
    >>> pdfs = compile_pdfs({"hello.tex": doc}, {}) if shutil.which("pdflatex") else {"hello.pdf": b"%PDF"}
    >>> pdfs["hello.pdf"][:4]
    b'%PDF'
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import RenderError
from ..limits import PDFLATEX_TIMEOUT

__all__ = ["compile_pdfs", "find_pdflatex", "PACKAGES"]

#: The Debian packages that bring pdflatex and the LaTeX packages the sheets use.
PACKAGES = "texlive-latex-base texlive-latex-extra lmodern"


def find_pdflatex() -> str:
    """The path of ``pdflatex``.

    Raises:
        RenderError: pdflatex is not installed (with the packages that bring it).
    """
    path = shutil.which("pdflatex")
    if path is None:
        raise RenderError("--format pdf runs pdflatex, which was not found",
                          hint=f"install it (Debian, Ubuntu: apt install {PACKAGES}; other systems: TeX Live "
                               "or MiKTeX), or write --format tex and compile the .tex files yourself")
    return path


def _log_tail(log: str, lines: int = 12) -> str:
    """The lines of a pdflatex log from its first error (``! ...``), else its last lines."""
    rows = log.splitlines()
    for i, row in enumerate(rows):
        if row.startswith("!"):
            return "\n".join(rows[i:i + lines])
    return "\n".join(rows[-lines:])


def compile_pdfs(documents: dict[str, str], figures: dict[str, bytes], *, timeout: float | None = None
                 ) -> dict[str, bytes]:
    """``{"ex.solutions.tex": text}`` and the figures they include (relative path -> bytes) to
    ``{"ex.solutions.pdf": bytes}``.

    Raises:
        RenderError: pdflatex missing, failing (with the start of its error) or over the time limit.
    """
    exe = find_pdflatex()
    seconds = PDFLATEX_TIMEOUT if timeout is None else timeout
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="rnnviz-pdf-") as tmp:
        folder = Path(tmp)
        for rel, data in figures.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, text in documents.items():
            (folder / name).write_text(text, encoding="utf-8")
            cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name]
            try:
                run = subprocess.run(cmd, cwd=folder, capture_output=True, timeout=seconds,
                                     stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise RenderError(f"pdflatex did not finish {name} within {seconds:g} seconds") from None
            pdf = folder / (Path(name).stem + ".pdf")
            if run.returncode != 0 or not pdf.exists():
                log_path = folder / (Path(name).stem + ".log")
                log = log_path.read_text(errors="replace") if log_path.exists() else run.stdout.decode(errors="replace")
                missing = re.search(r"File `([\w.-]+\.sty)' not found", log)
                hint = (f"a LaTeX package is missing ({missing.group(1)}); install it (Debian, Ubuntu: "
                        f"apt install {PACKAGES})" if missing else "write --format tex to look at the LaTeX")
                raise RenderError(f"pdflatex could not compile {name}:\n{_log_tail(log)}", hint=hint)
            out[pdf.name] = pdf.read_bytes()
    return out
