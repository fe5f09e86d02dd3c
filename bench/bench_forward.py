"""Forward pass of an LSTM: rnnviz against a hand-written numpy LSTM and torch.nn.LSTM.

Hidden 256, batch 32, 200 steps, float64 everywhere. The hand-written loop does the
same math as the equations (one matrix product per weight, the same element-wise
ops), so the ratio measures what compiling the trees costs over writing numpy by
hand. Prints the times and the ratios from one run (best of a few repeats).

Run:  python bench/bench_forward.py [--hidden 256] [--batch 32] [--steps 200]
"""

from __future__ import annotations

import argparse
import os
import time

# One BLAS thread each, unless the caller says otherwise: on a shared machine several
# threads fighting over two cores make the ratios noise.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from rnnviz import load_model  # noqa: E402
from rnnviz.numeric.forward_pass import forward  # noqa: E402
from rnnviz.numeric.ops import sigmoid  # noqa: E402

LSTM = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
dim x = {n_in}, h = {n_h}
"""


def by_hand(p: dict, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The same LSTM written directly in numpy (rows are batch entries)."""
    hs = []
    for t in range(x.shape[0]):
        xt = x[t]
        f = sigmoid(xt @ p["W_f"].T + h @ p["U_f"].T + p["b_f"])
        i = sigmoid(xt @ p["W_i"].T + h @ p["U_i"].T + p["b_i"])
        o = sigmoid(xt @ p["W_o"].T + h @ p["U_o"].T + p["b_o"])
        g = np.tanh(xt @ p["W_c"].T + h @ p["U_c"].T + p["b_c"])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs)


def best_of(fns: dict, repeats: int) -> tuple[dict[str, float], dict[str, object]]:
    """Best time of each function; the functions take turns, so a burst of load hits all alike."""
    best = {k: float("inf") for k in fns}
    out: dict[str, object] = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            start = time.perf_counter()
            out[k] = fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--input", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()

    model = load_model(LSTM.format(n_in=a.input, n_h=a.hidden))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.steps, a.batch, a.input))
    h0 = np.zeros((a.batch, a.hidden))
    warm = forward(model, batch=a.batch, values={"x": x[:2]}, keep_nodes=False)
    params = warm.params

    fns = {
        "hand": lambda: by_hand(params, x, h0, h0),
        "all": lambda: forward(model, batch=a.batch, values={"x": x}),
        "lean": lambda: forward(model, batch=a.batch, values={"x": x}, keep_nodes=False),
    }
    try:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        lstm = torch.nn.LSTM(a.input, a.hidden).double()
        xt = torch.tensor(x)

        def run_torch():
            with torch.no_grad():
                return lstm(xt)

        fns["torch"] = run_torch
    except ImportError:
        pass
    times, outs = best_of(fns, a.repeats)
    t_hand, t_all, t_lean = times["hand"], times["all"], times["lean"]
    trace, hs = outs["all"], outs["hand"]
    got = np.stack([trace.value("h", t) for t in range(1, a.steps + 1)])
    assert np.allclose(got, hs, atol=1e-10), "rnnviz and the hand-written LSTM disagree"

    print(f"LSTM forward, hidden {a.hidden}, input {a.input}, batch {a.batch}, {a.steps} steps, float64")
    print(f"  hand-written numpy            {t_hand * 1e3:8.1f} ms")
    print(f"  rnnviz (every node kept)      {t_all * 1e3:8.1f} ms   ratio {t_all / t_hand:.2f}")
    print(f"  rnnviz (keep_nodes=False)     {t_lean * 1e3:8.1f} ms   ratio {t_lean / t_hand:.2f}")
    if "torch" in times:
        print(f"  torch.nn.LSTM (CPU)           {times['torch'] * 1e3:8.1f} ms   rnnviz/torch "
              f"{t_all / times['torch']:.2f}")
    else:
        print("  torch.nn.LSTM                 (torch not installed)")
    print(f"  BLAS threads: {os.environ['OMP_NUM_THREADS']} (set OMP_NUM_THREADS to change)")


if __name__ == "__main__":
    main()
