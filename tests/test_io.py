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
