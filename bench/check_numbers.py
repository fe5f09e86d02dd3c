"""Check that a change kept every number: forward values, every node, and gradients, bit for bit.

Runs, with the rnnviz of a git revision (default ``HEAD``, checked out into a temporary
folder) and with the working tree, for every example of ``examples/`` (and an LSTM with
hidden 64, batch 8, 300 steps, which goes through the batched and hoisted paths): the
forward pass, every value of every intermediate node at every step (the Trace API),
and the gradients of ``sum`` of the last variable with respect to everything. It then
compares the two sets of arrays bit for bit (``np.array_equal``), and the output of
``rnnviz run`` and ``rnnviz grad`` on every example byte for byte.

Run: ``python bench/check_numbers.py [REV]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUMP = r"""
import pickle, sys
from pathlib import Path
import numpy as np
from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.grad import gradients

LSTM = '''
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
dim x = 16, h = 64
'''
cases = {p.stem: (p.read_text(), None, None) for p in sorted(Path(sys.argv[1]).glob("*.rnn"))}
cases["lstm-batched"] = (LSTM, 8, 300)
out = {}
for name, (text, batch, steps) in cases.items():
    model = load_model(text)
    trace = forward(model, batch=batch, steps=steps, seed=3)
    # An encoder-decoder is two runs, each a trace of its own phase's model.
    runs = [("encoder", trace.encoder), ("decoder", trace.decoder)] if model.phases else [("", trace)]
    for phase, run in runs:
        for v in run.model.variables + run.model.inputs:
            for t in range(-2, run.steps + 2):
                if run.has(v, t):
                    out[(name, phase, "value", v, t)] = np.asarray(run.value(v, t))
        for eq in run.model.equations:
            if eq.target in getattr(run.model, "once", ()):  # a context: computed once, at step T
                continue
            for t in range(1, run.steps + 1):
                for i, node in enumerate(run.nodes(eq.target, t)):
                    out[(name, phase, "node", eq.target, t, i)] = np.asarray(node)
    last = model.variables[-1]
    g = gradients(model, trace, f"sum({last})")
    for k, v in g.params.items():
        out[(name, "dparam", k)] = np.asarray(v)
    for k, v in g.nodes.items():
        out[(name, "dnode", *k)] = np.asarray(v)
pickle.dump(out, sys.stdout.buffer)
"""


def dump(tree: Path) -> dict:
    import pickle

    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", DUMP, str(ROOT / "examples")], capture_output=True, env=env,
                          cwd=tree)
    if proc.returncode:
        raise SystemExit(proc.stderr.decode())
    return pickle.loads(proc.stdout)


def cli(tree: Path, args: list[str]) -> bytes:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-m", "rnnviz", *args], capture_output=True, env=env, cwd=tree)
    return proc.stdout + proc.stderr + bytes([proc.returncode])


def main() -> int:
    import numpy as np

    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        before, after = dump(old), dump(ROOT)
        commands = []
        for path in sorted((ROOT / "examples").glob("*.rnn")):
            commands.append(["run", str(path), "--precision", "17"])
            commands.append(["grad", str(path), "--of", "sum(" + ("y" if "y[t]" in path.read_text() else "h") + ")",
                             "--precision", "17"])
        texts = [(c, cli(old, c), cli(ROOT, c)) for c in commands]
    bad = [k for k in before.keys() | after.keys()
           if k not in before or k not in after or not np.array_equal(before[k], after[k])]
    for k in sorted(bad, key=str)[:20]:
        print("differs:", k)
    changed = [c for c, a, b in texts if a != b]
    for c in changed:
        print("output differs: rnnviz", " ".join(c))
    print(f"{len(before)} arrays and {len(texts)} command outputs against {rev}: "
          f"{len(bad)} arrays and {len(changed)} outputs differ")
    return 1 if bad or changed else 0


if __name__ == "__main__":
    sys.exit(main())
