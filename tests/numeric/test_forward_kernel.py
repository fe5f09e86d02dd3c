"""The forward pass's written-out block of steps against the step-by-step checked run.

Each sweep's block runs as Python written out for its equations (``_kernel``); a block
that goes wrong runs again step by step, checked (``_Runner.checked_block``). Both must
give the same numbers, bit for bit, for every value and node, whichever runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz import load_model
from rnnviz.numeric import forward_pass as fp

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.rnn"))

CASES = {
    **{p.stem: (p.read_text(encoding="utf-8"), {}) for p in EXAMPLES},
    "lstm batched, long": ("f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)\nc[t] = f[t] * c[t-1] + (1 - f[t]) * "
                           "tanh(W_c x[t] + U_c h[t-1])\nh[t] = tanh(c[t])\ndim x = 3, h = 4",
                           {"batch": 3, "steps": 300}),
    "a root of constants": ("h[t] = W v\ny[t] = h[t] + x[t]\nW = [[1, 2], [3, 4]], v = [1, -1], dim x = 2", {}),
    "a concatenation": ("h[t] = tanh(W [h[t-1]; x[t]; b])\ndim x = 2, h = 3, b = 1", {"batch": 2}),
    "a constant vector times a scalar input": ("h[t] = [1, 2] U x[t]\nU = 0.5, x = [1, 2, 3]", {}),
    "scalars along time, batched": ("h[t] = tanh(a h[t-1] + [1, 2] b x[t])\ndim x = 1, h = 2", {"batch": 3}),
    "read ahead and behind": ("h[t] = tanh(W h[t-1] + U x[t+1] + V x[t-1])\ndim x = 2, h = 3", {}),
}


def _everything(trace) -> dict:
    out = {}
    runs = [trace.encoder, trace.decoder] if hasattr(trace, "encoder") else [trace]
    for k, run in enumerate(runs):
        for v in run.model.variables + run.model.inputs:
            for t in range(-2, run.steps + 3):
                if run.has(v, t) and run.value(v, t) is not None:
                    out[(k, "value", v, t)] = np.asarray(run.value(v, t))
        for eq in run.model.equations:
            if eq.target in getattr(run.model, "once", ()):
                continue
            for t in range(1, run.steps + 1):
                for i, node in enumerate(run.nodes(eq.target, t)):
                    out[(k, "node", eq.target, t, i)] = np.asarray(node)
                for i, node in enumerate(run.backward_nodes(eq.target, t)):
                    out[(k, "backward", eq.target, t, i)] = np.shape(node)
    return out


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("keep", ["backward", True])
def test_kernel_and_checked_run_agree(name, keep, monkeypatch):
    text, kwargs = CASES[name]
    kernel = _everything(fp.forward(load_model(text), seed=5, keep_nodes=keep, **kwargs))
    again = _everything(fp.forward(load_model(text), seed=5, keep_nodes=keep, **kwargs))
    # Every block handed to the checked run, as one that went wrong would be.
    monkeypatch.setattr(fp, "_kernel", lambda *a: lambda *b: False)
    checked = _everything(fp.forward(load_model(text), seed=5, keep_nodes=keep, **kwargs))
    assert kernel.keys() == checked.keys() == again.keys()
    for key, value in kernel.items():
        assert np.array_equal(value, checked[key]) and np.array_equal(value, again[key]), key


def test_second_run_of_a_model_reuses_its_kernel():
    """The code is written once per model and sizes; a run with other sizes writes its own."""
    model = load_model("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 2, h = 3")
    written = []
    real = fp._kernel
    try:
        fp._kernel = lambda *a: written.append(a[1]) or real(*a)
        first = fp.forward(model, seed=1)
        second = fp.forward(model, seed=1)
        fp.forward(model, seed=1, batch=4)
    finally:
        fp._kernel = real
    assert written == [("h",), ("h",)]
    assert all(np.array_equal(first.value("h", t), second.value("h", t)) for t in range(4))


def test_keep_nodes_false_runs_the_kernel_without_nodes():
    tr = fp.forward(load_model("h[t] = tanh(W h[t-1] + U x[t])\ndim x = 2, h = 3"), keep_nodes=False)
    assert tr.value("h", 3).shape == (3,)
    with pytest.raises(ValueError):
        tr.nodes("h", 1)
