"""Shared fixtures: the bundled examples and the worked exercises."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"


def example_paths() -> list[Path]:
    """Every bundled example file, sorted by name."""
    return sorted(EXAMPLES.glob("*.rnn"))


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(params=example_paths(), ids=lambda p: p.stem)
def example_path(request) -> Path:
    """Each bundled example in turn."""
    return request.param
