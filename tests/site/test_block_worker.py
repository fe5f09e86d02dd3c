"""The worker process that draws a site's plots ahead of their pages (rnnviz.site.worker)."""

from __future__ import annotations

import gc
import logging
import shutil
import warnings
from pathlib import Path

import pytest

from rnnviz.site import blocks, fence, plugin
from rnnviz.site import worker as worker_module
from rnnviz.site.worker import BlockWorker, render_block

DATA = Path(__file__).parent / "data"

VANILLA = "h[t] = tanh(W h[t-1] + U x[t])\ny[t] = V h[t]\ndim h = 3, x = 2, y = 1"
SEQ2SEQ = Path(__file__).resolve().parents[2] / "examples" / "encoder_decoder.rnn"

def _in_process(text: str, opts: dict) -> str:
    return blocks.render(blocks.load(blocks.BLOCK, text), opts, narrow=True)


def test_the_worker_writes_what_the_page_would_byte_for_byte():
    """An encoder-decoder's plot of both phases and its gradient norms, phase by phase: the same HTML
    from the worker as from the page's process (the site test below has a plain RNN's and an LSTM's)."""
    text = SEQ2SEQ.read_text(encoding="utf-8")
    cases = [{"show": "plot"}, {"show": "gradnorms", "grad": "o[2]"}]
    worker = BlockWorker()
    try:
        jobs = [worker.submit(blocks.BLOCK, text, opts) for opts in cases]
        got = [job.result(timeout=120) for job in jobs]
    finally:
        worker.close()
    for opts, html in zip(cases, got):
        assert html is not None, opts
        assert html == _in_process(text, opts), opts
        assert "rnnviz-plot" in html


def test_a_block_with_an_error_or_a_warning_is_left_to_its_page(monkeypatch):
    """The worker gives up on a block that fails, logs a warning or warns: its page draws it and reports."""
    assert render_block(blocks.BLOCK, "h[t] = tahn(W h[t-1])", {"show": "plot"}) is None
    real = blocks.render

    def logs(model, opts, **kw):
        logging.getLogger("mkdocs.plugins.rnnviz").warning("something to say")
        return real(model, opts, **kw)

    monkeypatch.setattr(blocks, "render", logs)
    assert render_block(blocks.BLOCK, VANILLA, {"show": "math"}) is None

    def warns(model, opts, **kw):
        warnings.warn("something to say", UserWarning)
        return real(model, opts, **kw)

    monkeypatch.setattr(blocks, "render", warns)
    assert render_block(blocks.BLOCK, VANILLA, {"show": "math"}) is None
    monkeypatch.setattr(blocks, "render", real)
    assert "arithmatex" in render_block(blocks.BLOCK, VANILLA, {"show": "math"})


def test_close_cancels_what_is_not_started_and_leaves_no_process():
    """Closing with blocks queued: those not started are cancelled, the process is gone, nothing leaks."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        worker = BlockWorker()
        jobs = [worker.submit(blocks.BLOCK, VANILLA, {"show": "plot", "unroll": n}) for n in range(2, 8)]
        assert jobs[0].cancel()  # not started: a page takes it over
        worker.close()
        assert worker._proc.returncode is not None
        assert not worker._thread.is_alive()
        assert all(job.done() for job in jobs)
        assert jobs[0].cancelled()
        # A block submitted after closing is cancelled at once: its page draws it.
        assert worker.submit(blocks.BLOCK, VANILLA, {"show": "plot"}).cancelled()
        del worker
        gc.collect()


def test_a_dead_worker_leaves_every_block_to_its_page():
    worker = BlockWorker()
    try:
        first = worker.submit(blocks.BLOCK, VANILLA, {"show": "math"})
        assert first.result(timeout=120) is not None
        worker._proc.kill()
        worker._proc.wait()
        later = [worker.submit(blocks.BLOCK, VANILLA, {"show": "plot", "unroll": n}) for n in (2, 3)]
        assert [job.result(timeout=60) for job in later] == [None, None]
    finally:
        worker.close()


@pytest.fixture
def fresh_context(monkeypatch):
    """A build in this process sets the fence's context (folders, memos); the tests after it get theirs back."""
    for name, value in list(vars(fence.CONTEXT).items()):
        monkeypatch.setattr(fence.CONTEXT, name, value)
    for name in ("SVG_MEMO", "DIAGRAM_MEMO"):
        monkeypatch.setattr(blocks, name, getattr(blocks, name))


def _build(root: Path, site: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(str(root / "mkdocs.yml"), site_dir=str(site), strict=False))


def _tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_a_site_is_the_same_with_and_without_the_worker(tmp_path, monkeypatch, caplog, fresh_context):
    """Every file of a site with four plots (one of them a duplicate) and a bad block is the same,
    byte for byte, whether the worker drew the plots or the pages did; the worker did draw them,
    and the bad block's page reports it (one warning, with its page and line: --strict fails)."""
    root = tmp_path / "plots"
    shutil.copytree(DATA / "plots", root)
    text = (root / "mkdocs.yml").read_text().replace("  - rnnviz\n", "  - rnnviz:\n      cache: false\n")
    (root / "mkdocs.yml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")  # the theme writes the build's date in each page

    drawn_here = []
    real = fence._render
    monkeypatch.setattr(fence, "_render", lambda m, o, **kw: drawn_here.append(o.get("show")) or real(m, o, **kw))
    monkeypatch.setattr(plugin, "_AHEAD_MIN", 10**9)  # no worker
    _build(root, tmp_path / "alone")
    assert drawn_here.count("plot") + drawn_here.count("gradnorms") == 3  # the duplicate once, the bad one never

    drawn_here.clear()
    monkeypatch.setattr(plugin, "_AHEAD_MIN", 2)
    foresee = plugin.RnnvizPlugin._foresee_plots
    ahead = {}

    def foresee_and_wait(self, files):  # the worker draws them all before the first page is built
        foresee(self, files)
        ahead.update(fence.CONTEXT.ahead)
        for job in ahead.values():
            job.result(timeout=120)

    monkeypatch.setattr(plugin.RnnvizPlugin, "_foresee_plots", foresee_and_wait)
    started = []

    class Recorded(worker_module.BlockWorker):
        def __init__(self):
            super().__init__()
            started.append(self)

    monkeypatch.setattr(worker_module, "BlockWorker", Recorded)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.rnnviz"):
        _build(root, tmp_path / "worker")
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and said[0].startswith("lstm.md:16:8: unknown function 'tahn'"), said
    assert len(ahead) == 4  # three good plots and the bad one
    assert sum(job.result() is None for job in ahead.values()) == 1  # the bad one, left to its page
    assert drawn_here.count("plot") + drawn_here.count("gradnorms") == 0  # ... which reads it again, and stops
    assert fence.CONTEXT.ahead == {}
    assert len(started) == 1 and started[0]._proc.returncode is not None  # stopped once the pages were built
    assert _tree(tmp_path / "alone") == _tree(tmp_path / "worker")
    assert "rnnviz-error" in (tmp_path / "worker" / "lstm.html").read_text(encoding="utf-8")
