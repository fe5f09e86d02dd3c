"""The program's exit (``rnnviz.cli.run``): it skips the interpreter's teardown, and loses nothing.

``run`` leaves with ``os._exit`` once ``main`` has returned. These run the program as a user does
(``python -m rnnviz``) and check that what a normal exit would give is all there: every byte of
standard output, the messages, the exit codes, the files, and the exit handlers' work.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rnnviz.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "two_layer.rnn"


def _program(*args: str, code: str | None = None, **kw) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rnnviz", *args] if code is None else [sys.executable, "-c", code, *args]
    return subprocess.run(command, capture_output=True, cwd=ROOT, **kw)


def test_all_of_standard_output_arrives(capsysbinary):
    """A large binary output written to standard output arrives whole (64 KiB pipe buffers)."""
    proc = _program("draw", str(EXAMPLE), "--view", "unrolled", "--unroll", "40", "--format", "png", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    main(["draw", str(EXAMPLE), "--view", "unrolled", "--unroll", "40", "--format", "png", "-o", "-"])
    expected = capsysbinary.readouterr().out
    assert len(expected) > 100_000
    assert proc.stdout == expected


def test_text_output_and_files_as_with_main(tmp_path):
    proc = _program("draw", str(EXAMPLE), "-o", f"{tmp_path}/")
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["two_layer.folded.svg", "two_layer.unrolled.svg"]
    assert proc.stdout.decode().split() == [str(tmp_path / n) for n in written]
    for name in written:
        assert (tmp_path / name).read_bytes().rstrip().endswith(b"</svg>")


def test_errors_keep_their_message_and_exit_code(tmp_path):
    bad = tmp_path / "bad.rnn"
    bad.write_text("h[t] = tanh(W h[t-1] +)\n")
    proc = _program("draw", str(bad), "-o", f"{tmp_path}/")
    assert proc.returncode == 1
    assert b"bad.rnn:1:" in proc.stderr and b"^" in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.rnn"]
    usage = _program("draw", str(EXAMPLE), "--view", "sideways")
    assert usage.returncode == 2 and b"--view" in usage.stderr
    assert _program("--help").returncode == 0


def _version_after(setup: str) -> str:
    """What ``rnnviz --version`` prints as its last line, run by ``cli.run`` after ``setup``."""
    code = f"import sys\n{setup}sys.argv = ['rnnviz', '--version']\nfrom rnnviz.cli import run\nrun()\n"
    proc = _program(code=code)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().splitlines()[-1]


def test_exit_handlers_run():
    setup = "import atexit\natexit.register(lambda: print('exit handler ran', flush=True))\n"
    assert _version_after(setup) == "exit handler ran"


def test_a_running_thread_is_waited_for():
    setup = ("import threading, time\n"
             "def late():\n    time.sleep(0.3)\n    print('thread finished', flush=True)\n"
             "threading.Thread(target=late).start()\n")
    assert _version_after(setup) == "thread finished"


def test_a_reader_that_goes_away_is_no_traceback():
    """``rnnviz draw ... -o - | head -c 100``: no traceback, no 'Exception ignored' line."""
    proc = subprocess.Popen([sys.executable, "-m", "rnnviz", "draw", str(EXAMPLE), "--view", "unrolled",
                             "--unroll", "200", "--format", "dot", "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert b"digraph" in proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait() in (0, 1)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
