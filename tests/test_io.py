"""Output files are written whole or not at all, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from rnnviz.io import write_atomic


def test_new_file_gets_the_umask_mode(tmp_path):
    """A new output file is readable by others as with a plain open(), not private."""
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.svg", "<svg/>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.svg").st_mode) == 0o644


def test_replaced_file_keeps_its_mode(tmp_path):
    """Replacing a file keeps the mode it had."""
    p = tmp_path / "a.svg"
    p.write_text("old")
    os.chmod(p, 0o600)
    write_atomic(p, "new")
    assert p.read_text() == "new"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_failure_leaves_the_old_content_and_no_temporary(tmp_path, monkeypatch):
    """If the rename fails, the old file is untouched and no temporary file is left behind."""
    p = tmp_path / "a.svg"
    p.write_text("old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(p, "new")
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.svg"]


# -- targets that are not regular files, all-or-nothing, termination ---------------------------

import signal
import subprocess
import sys
import threading
import time

import rnnviz.io as rio
from tests.conftest import ROOT


def _fake_null(folder):
    """A character device with the numbers of /dev/null, made in a temporary folder."""
    node = folder / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return node


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_device_target_stays_a_device(tmp_path):
    """Writing to a device writes into it; it is not replaced by a regular file."""
    node = _fake_null(tmp_path)
    write_atomic(node, "<svg/>")
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["null"]


def test_a_fifo_target_reaches_its_reader(tmp_path):
    """A named pipe stays a pipe and its reader gets the whole output."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    write_atomic(fifo, "<svg>all of it</svg>")
    reader.join(10)
    assert got == [b"<svg>all of it</svg>"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_directory_target_is_refused_before_writing(tmp_path):
    (tmp_path / "out.svg").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "out.svg", "x")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.svg"]


def test_several_files_all_or_nothing(tmp_path):
    """When the second target cannot be written, the first keeps its old content."""
    (tmp_path / "a.svg").write_text("old a")
    (tmp_path / "b.svg").mkdir()
    with pytest.raises(IsADirectoryError):
        rio.write_all_atomic([(tmp_path / "a.svg", "new a"), (tmp_path / "b.svg", "new b")])
    assert (tmp_path / "a.svg").read_text() == "old a"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.svg", "b.svg"]


def test_a_failed_rename_puts_back_the_files_already_replaced(tmp_path, monkeypatch):
    (tmp_path / "a.svg").write_text("old a")
    real = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError):
        rio.write_all_atomic([(tmp_path / "a.svg", "new a"), (tmp_path / "b.svg", "new b")])
    monkeypatch.setattr(os, "replace", real)
    assert (tmp_path / "a.svg").read_text() == "old a"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.svg"]


_SLOW_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
import rnnviz.io as io
real = io._write_temporary
def slow(path, raw):
    tmp = real(path, raw)
    open({ready!r}, "w").close()
    time.sleep(30)
    return tmp
io._write_temporary = slow
io.write_atomic({target!r}, "new")
"""


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path):
    """SIGTERM (timeout, a container stop) while writing: the old file stays, no hidden .tmp."""
    target = tmp_path / "out.svg"
    target.write_text("old")
    ready = tmp_path / "ready"
    code = _SLOW_WRITER.format(root=str(ROOT), ready=str(ready), target=str(target))
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 30
        while not ready.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == -signal.SIGTERM
    assert target.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.svg", "ready"]
