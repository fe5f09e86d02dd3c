"""`make demo`'s drawing step (scripts/demo.sh) draws every bundled example, so the README's
first command works on whatever examples/ holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, example_paths


@pytest.mark.slow
def test_demo_draws_every_bundled_example(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    written = {p.name for p in tmp_path.iterdir()}
    for path in example_paths():
        for view in ("folded", "unrolled"):
            for ext in ("svg", "png"):
                assert f"{path.stem}.{view}.{ext}" in written, (path.stem, view, ext)
        gates = subprocess.run([sys.executable, "-m", "rnnviz", "gates", str(path), "--json"], env=env,
                               capture_output=True, text=True, check=True).stdout
        gated = bool(json.loads(gates)["gates"])
        # Gated cells get their cell diagram (an encoder-decoder's too: both cells and the context).
        assert (f"{path.stem}.cell.svg" in written) == gated, path.stem
