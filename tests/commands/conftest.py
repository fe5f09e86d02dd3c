"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def write(tmp_path):
    """Write a model file into the test's folder and give its path."""
    def _write(text: str, name: str = "model.rnn") -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return _write
