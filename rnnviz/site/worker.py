"""A second Python process that renders a site's plot blocks while the pages are built.

A cold build of a site spends most of its main thread in matplotlib (the project's own: 13
plots, about 7 of its 15 seconds), one block after the other, while the other core waits on
Graphviz. The MkDocs plugin reads the pages' sources before any page is built, finds the
fences that show a plot (``show=plot``, ``show=gradnorms``) and hands them to this worker:
one ``python -m rnnviz.site.worker`` process, fed one block at a time through a pipe. When a
page reaches such a block, the fence takes the worker's HTML; a block the worker has not
started yet is drawn in the page's own process instead (that is quicker than waiting), and
one the worker could not draw cleanly (an error, a warning, a dead process) is drawn there
too, so that its messages reach the build exactly as without the worker. What a block shows
does not depend on where it was drawn: the HTML is the same, byte for byte.

The process is started with ``python -m``, not ``multiprocessing``: a spawned
``multiprocessing`` child imports the parent's main script again, and a script that calls
MkDocs' build without an ``if __name__ == "__main__"`` guard would build the site twice.

Example:
    >>> worker = BlockWorker()
    >>> job = worker.submit("<rnnviz block>", "h[t] = tanh(W h[t-1] + U x[t])", {"show": "math"})
    >>> html = job.result(timeout=60)
    >>> worker.close()
    >>> "tanh" in html
    True
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

__all__ = ["BlockWorker", "render_block", "main"]


def render_block(name: str, text: str, opts: dict) -> str | None:
    """The HTML of a block as the site's fence renders it, or None when it cannot be rendered
    cleanly here: an error, or a warning logged or issued on the way (the page's own process
    renders it again, and its messages then go where they always go)."""
    import logging
    import warnings

    from . import blocks

    class _Flag(logging.Handler):
        seen = False

        def emit(self, record):
            self.seen = True

    flag = _Flag(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(flag)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = blocks.render(blocks.load(name, text), opts, narrow=True)
    except Exception:
        return None
    finally:
        root.removeHandler(flag)
    return None if flag.seen or caught else out


#: What the worker says once it has imported what drawing a plot needs.
_READY = "ready"


def main() -> int:
    """The worker's loop: (number, file name, text, options) in, (number, HTML or None) out,
    pickled on stdin and stdout, until stdin closes. It first imports what a plot needs and
    says that it is ready."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    from ..diagrams import plot  # noqa: F401  (matplotlib)
    from ..numeric import forward_pass  # noqa: F401
    from . import blocks, htmlblocks  # noqa: F401

    pickle.dump(_READY, stdout)
    stdout.flush()
    while True:
        try:
            number, name, text, opts = pickle.load(stdin)
        except (EOFError, OSError, pickle.UnpicklingError):
            return 0
        pickle.dump((number, render_block(name, text, opts)), stdout)
        stdout.flush()


class BlockWorker:
    """The parent's side: a worker process and a thread that feeds it one block at a time.

    :meth:`submit` returns a :class:`~concurrent.futures.Future` of the block's HTML (None when
    the worker could not render it). The worker takes the blocks from the last one submitted
    backwards, while the pages are built from the first one on: the two meet in the middle, and
    a page that reaches a block the worker has not started cancels its future and draws the
    block itself. :meth:`close` cancels what is left and ends the process.
    """

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "rnnviz.site.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env)
        self._jobs: list = []
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._feed, name="rnnviz-block-worker", daemon=True)
        self._thread.start()

    def submit(self, name: str, text: str, opts: dict) -> Future:
        fut: Future = Future()
        with self._cond:
            if self._closed:
                fut.cancel()
            else:
                self._jobs.append((fut, (name, text, dict(opts))))
                self._cond.notify()
        return fut

    def _next(self):
        with self._cond:
            while not self._jobs and not self._closed:
                self._cond.wait()
            return self._jobs.pop() if self._jobs and not self._closed else None

    def _feed(self) -> None:
        try:
            broken = pickle.load(self._proc.stdout) != _READY
        except Exception:  # it could not start: the pages render their blocks themselves
            broken = True
        number = 0
        while (item := self._next()) is not None:
            fut, (name, text, opts) = item
            if not fut.set_running_or_notify_cancel():
                continue
            out = None
            if not broken:
                number += 1
                try:
                    pickle.dump((number, name, text, opts), self._proc.stdin)
                    self._proc.stdin.flush()
                    got, out = pickle.load(self._proc.stdout)
                    if got != number:
                        raise OSError("the worker answered out of turn")
                except Exception:  # a dead or confused worker: the pages render their blocks themselves
                    broken, out = True, None
            fut.set_result(out)

    def close(self) -> None:
        """Cancel the blocks not started, let the one being drawn finish, end the process."""
        with self._cond:
            self._closed = True
            for fut, _ in self._jobs:
                fut.cancel()
            self._jobs.clear()
            self._cond.notify_all()
        self._thread.join(timeout=120)
        if self._thread.is_alive():  # a block that never ends: the process goes, its page draws it
            self._proc.kill()
            self._thread.join()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
