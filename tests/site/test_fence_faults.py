"""The fence and the plugin under hostile pages and broken caches: nothing leaked, nothing stuck."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import markdown
import pytest

from rnnviz.site import blocks, fence, plugin

SECRET = "RNNVIZ_SECRET_VALUE=hunter2"


def convert(text: str) -> str:
    md = markdown.Markdown(extensions=["pymdownx.superfences"],
                           extension_configs={"pymdownx.superfences": {"custom_fences": [fence.FENCE]}})
    return md.convert(text)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site folder with an equation file, a secret beside it (outside), and a fresh context."""
    root = tmp_path / "site"
    (root / "examples").mkdir(parents=True)
    (root / "examples" / "rnn.rnn").write_text("h[t] = tanh(W h[t-1] + U x[t])\n")
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n")
    monkeypatch.setattr(fence.CONTEXT, "base_dir", root)
    monkeypatch.setattr(fence.CONTEXT, "files_root", None, raising=False)
    monkeypatch.setattr(fence.CONTEXT, "memory", {})
    monkeypatch.setattr(fence.CONTEXT, "cache_dir", None)
    monkeypatch.setattr(fence.CONTEXT, "block_lines", {})
    monkeypatch.setattr(fence.CONTEXT, "block_seen", {}, raising=False)
    return root


# -- item 2: file= stays inside the site ----------------------------------------------------------

@pytest.mark.parametrize("name", ["../secret.txt", "{outside}/secret.txt", "/proc/self/environ", "/etc/passwd"])
def test_file_outside_the_site_is_refused_and_not_quoted(site, tmp_path, monkeypatch, name):
    monkeypatch.setenv("RNNVIZ_SECRET_VALUE", "hunter2")
    out = convert(f"```rnnviz {{show=math file={name.format(outside=tmp_path)}}}\n```")
    assert "rnnviz-error" in out and "is outside the folder" in out
    assert "hunter2" not in out


def test_a_link_inside_pointing_outside_is_refused(site, tmp_path):
    os.symlink(tmp_path / "secret.txt", site / "examples" / "link.rnn")
    out = convert("```rnnviz {show=math file=examples/link.rnn}\n```")
    assert "is outside the folder" in out and "hunter2" not in out


def test_a_file_inside_is_read(site):
    out = convert("```rnnviz {show=math file=examples/rnn.rnn}\n```")
    assert "rnnviz-error" not in out and "\\tanh" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_device_is_not_read(site):
    """file= naming a device like /dev/zero would read until the memory runs out."""
    os.mknod(site / "examples" / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    out = convert("```rnnviz {show=math file=examples/zero}\n```")
    assert "is not a regular file" in out


def test_a_pipe_does_not_block_the_build(site):
    os.mkfifo(site / "examples" / "pipe.rnn")
    done = []
    worker = threading.Thread(target=lambda: done.append(convert("```rnnviz {show=math file=examples/pipe.rnn}\n```")),
                              daemon=True)
    worker.start()
    worker.join(20)
    assert done and "is not a regular file" in done[0]


def test_a_file_too_large_is_refused(site, monkeypatch):
    monkeypatch.setattr(blocks, "MAX_INPUT_BYTES", 100)
    (site / "examples" / "big.rnn").write_text("h[t] = tanh(W h[t-1] + U x[t])\n" + "# x\n" * 100)
    out = convert("```rnnviz {show=math file=examples/big.rnn}\n```")
    assert "is larger than" in out


def test_files_root_option(site, monkeypatch):
    """The plugin's files_root moves where file= reads from."""
    monkeypatch.setattr(fence.CONTEXT, "files_root", site / "examples")
    assert "rnnviz-error" not in convert("```rnnviz {show=math file=rnn.rnn}\n```")
    assert "is outside the folder" in convert("```rnnviz {show=math file=../examples/../../secret.txt}\n```")


# -- item 4: the cache ----------------------------------------------------------------------------

def test_a_cut_short_cache_entry_is_rendered_again(site, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(fence.CONTEXT, "cache_dir", cache)
    text = "```rnnviz {show=math}\nh[t] = tanh(W h[t-1] + U x[t])\n```"
    first = convert(text)
    (entry,) = cache.iterdir()
    entry.write_text(entry.read_text()[:40])  # a build stopped while writing
    monkeypatch.setattr(fence.CONTEXT, "memory", {})
    assert convert(text) == first
    assert entry.read_text().endswith(fence._CACHE_END)


def test_a_read_only_cache_folder_renders_without_the_cache(site, tmp_path, monkeypatch, caplog):
    """A cache folder that cannot be written: a warning, and every block still renders."""
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")  # a folder cannot be made under a file, even by root
    monkeypatch.setattr(fence.CONTEXT, "cache_dir", blocker / "rnnviz")
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.rnnviz"):
        out1 = convert("```rnnviz {show=math}\nh[t] = tanh(W h[t-1] + U x[t])\n```")
        out2 = convert("```rnnviz {show=math}\nh[t] = tanh(W h[t-1] + V x[t])\n```")
    assert "rnnviz-error" not in out1 + out2 and "\\tanh" in out1 and "\\tanh" in out2
    warnings = [r.getMessage() for r in caplog.records if "cannot write the cache folder" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("ext, whole", [
    ("svg", b"<svg>...</svg>\n"), ("png", b"\x89PNG....IEND\xaeB`\x82"), ("pdf", b"%PDF-1.5 ... %%EOF\n")])
def test_cached_downloads_are_checked_whole(tmp_path, ext, whole):
    path = tmp_path / f"a.{ext}"
    path.write_bytes(whole)
    assert plugin._complete(path, ext)
    path.write_bytes(whole[: len(whole) // 2])
    assert not plugin._complete(path, ext)


# -- item 9: a warning names the line of its own block -------------------------------------------

def test_two_identical_bad_blocks_name_their_own_lines(site, caplog, monkeypatch):
    page = ("# Two\n\n```rnnviz\ny[t] = tahn(h[t])\n```\n\ntext\n\n```rnnviz\ny[t] = tahn(h[t])\n```\n")
    monkeypatch.setattr(fence.CONTEXT, "block_lines", plugin.fence_lines(page))
    monkeypatch.setattr(fence.CONTEXT, "page", "two.md")
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.rnnviz"):
        convert(page)
    lines = [r.getMessage().splitlines()[0] for r in caplog.records]
    assert [line.split(":")[1] for line in lines] == ["4", "10"], lines
