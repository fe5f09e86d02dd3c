"""What ``rnnviz draw`` imports: every command is a new Python process, and what it imports
it pays for each time (bench/bench_table.py measures the rest)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Standard modules the draw path does without, with what importing each cost (CPU, 2-core
#: machine): dataclasses and the inspect it imports ~6 ms, logging ~4 ms, pickle ~1 ms, and
#: hashlib's OpenSSL ~3 ms (the SVG's id prefix takes SHA-256 from the built-in _sha256).
NOT_ON_THE_DRAW_PATH = ("dataclasses", "inspect", "logging", "pickle", "hashlib", "numpy", "matplotlib", "lark")


def test_drawing_imports_none_of_the_modules_it_can_do_without():
    code = ("import sys\nfrom rnnviz.cli import main\n"
            "main(['draw', 'examples/two_layer.rnn', '--format', 'dot', '--view', 'unrolled', '-o', '-'])\n"
            f"print(sorted(m for m in {NOT_ON_THE_DRAW_PATH!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr


def test_the_id_prefix_is_hashlibs_sha256():
    import hashlib

    from rnnviz.diagrams.render import _sha256, diagram_prefix

    for text in ("", "digraph { a }", "é" * 1000):
        assert _sha256(text.encode()).hexdigest() == hashlib.sha256(text.encode()).hexdigest()
    assert diagram_prefix("digraph { a }") == "rv" + hashlib.sha256(b"digraph { a }").hexdigest()[:10]


@pytest.mark.parametrize("name", ["Transformer", "Transformer_InPlace", "Visitor", "Interpreter"])
def test_the_parsers_getmembers_is_inspects(name):
    """_lark_parser.py has its own getmembers (scripts/generate_parser.py), for v_args on classes."""
    from rnnviz.language import _lark_parser, parse

    classes = [getattr(_lark_parser, name)] + [c for c in vars(parse).values()
                                               if isinstance(c, type) and issubclass(c, _lark_parser.Transformer)]
    def plain(members):  # a wrapped method is a new wrapper at each lookup: compare what it wraps
        return [(k, (type(v), v.base_func) if isinstance(v, _lark_parser._VArgsWrapper) else v) for k, v in members]

    for cls in classes:
        assert plain(_lark_parser.getmembers(cls)) == plain(inspect.getmembers(cls))
        assert _lark_parser.getmro(cls) == inspect.getmro(cls)


def test_the_parsers_logger_is_set_up_as_lark_sets_it_up_when_first_used():
    code = ("import sys, rnnviz.language._lark_parser as p\nassert 'logging' not in sys.modules\n"
            "p.logger.debug('x')\nimport logging\nl = logging.getLogger('lark')\n"
            "print(p.logger is l, l.level == logging.CRITICAL, len(l.handlers))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.split() == ["True", "True", "1"], proc.stderr
