"""Every measure of rnnviz's speed and memory against its floor, measured in one run.

Prints one table (today / now / goal) of:

1. ``rnnviz draw two_layer.rnn`` (both views, SVG) against its floor: a Python process
   that starts and runs ``dot -Tsvg`` on the two views' DOT in parallel;
2. the unrolled two_layer view with every step drawn, N = 250, 500, 1000, 2000
   (time, and time per step, which stays flat when the drawing is linear in N);
3. a forward pass at teaching size (LSTM, hidden 4, input 3, T = 5, no batch) against the
   same LSTM written by hand in numpy;
4. the peak memory of a forward pass (LSTM, hidden 256, input 256, batch 32, T = 2000;
   by default every node stays readable through the Trace, what backward reads is kept)
   against hand-written numpy keeping what its backward needs (f, i, o, c~, c, tanh c, h
   of every step), each in its own process, measured with tracemalloc;
5. a cold ``mkdocs build`` of the project's site (the block cache turned off), against the
   same pages built without the rnnviz plugin.

The machine this runs on may be shared, so every timing is the median of paired,
interleaved runs: the command and its floor take turns, and each ratio is the median of
the per-pair ratios, so a burst of load hits both sides of a pair alike. Each timing is
given twice: wall-clock (what the goals are about) and CPU time (the processes' own,
``dot`` included), which other programs on a loaded machine inflate much less.

Every Python process started here compiles its modules into a bytecode cache of this
run (``PYTHONPYCACHEPREFIX``), see bench/README.md.

Run: ``python bench/bench_table.py`` (about three minutes; ``--quick`` skips N = 2000, the
memory measure and the site build).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "two_layer.rnn"
PY = sys.executable

# One BLAS thread, as bench_forward.py: two cores shared by several processes.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# A bytecode cache of our own: with PYTHONDONTWRITEBYTECODE set, every process would compile
# every module again (~30 ms for rnnviz alone, more for the standard library).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "rnnviz-bench-pycache"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ["NO_MKDOCS_2_WARNING"] = "1"
sys.path.insert(0, str(ROOT))

#: The figures of the issue that set these goals (medians of paired runs on this machine).
TODAY = {"draw": "2.6x", "unrolled": "9.8 s", "forward": "7.5x", "memory": "3.6x", "site": "15-19 s"}
GOAL = {"draw": 1.5, "unrolled": 2.0, "forward": 2.0, "memory": 1.5, "site": 8.0}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], stdin: bytes | None = None) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of ``cmd``; the CPU time counts the processes it
    waited for (``dot``), not what other programs on the machine took."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, input=stdin, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start, _children_cpu() - cpu


def paired(a, b, pairs: int) -> dict[str, tuple[float, float, float]]:
    """For the wall-clock and the CPU time ("wall", "cpu"): the median of ``a()``, of ``b()``
    and of the per-pair ratios a/b (turns alternate). ``a`` and ``b`` return (wall, cpu)."""
    got: dict[str, list] = {"wall": [[], [], []], "cpu": [[], [], []]}
    for i in range(pairs):
        if i % 2:
            y, x = b(), a()
        else:
            x, y = a(), b()
        for k, kind in enumerate(("wall", "cpu")):
            got[kind][0].append(x[k])
            got[kind][1].append(y[k])
            got[kind][2].append(x[k] / y[k])
    return {kind: tuple(statistics.median(v) for v in lists) for kind, lists in got.items()}


# -- 1. rnnviz draw against Python start-up + the two dot runs in parallel -----------------
FLOOR = """
import subprocess, sys
files = sys.argv[1:]
procs = [subprocess.Popen(["dot", "-Tsvg", f, "-o", f + ".svg"]) for f in files]
sys.exit(max(p.wait() for p in procs))
"""


def bench_draw(out: Path, pairs: int) -> dict[str, tuple[float, float, float]]:
    rnnviz = [PY, "-m", "rnnviz", "draw", str(EXAMPLE)]
    dots = []
    for view in ("folded", "unrolled"):
        path = out / f"floor.{view}.dot"
        subprocess.run(rnnviz + ["--view", view, "--format", "dot", "-o", str(path)], check=True, capture_output=True)
        dots.append(str(path))
    floor = [PY, "-c", FLOOR, *dots]
    draw = rnnviz + ["-o", f"{out}/"]
    run(draw), run(floor)  # warm the bytecode cache and the file cache
    return paired(lambda: run(draw), lambda: run(floor), pairs)


# -- 2. unrolled view, every step drawn ---------------------------------------------------
def bench_unrolled(out: Path, sizes: list[int]) -> dict[int, tuple[float, float]]:
    """N -> (median wall-clock seconds, median CPU seconds) of drawing N steps in full."""
    times = {}
    for n in sizes:
        cmd = [PY, "-m", "rnnviz", "draw", str(EXAMPLE), "--view", "unrolled", "--unroll", str(n),
               "--max-columns", str(n), "-o", str(out / f"u{n}.svg")]
        runs = [run(cmd) for _ in range(3 if n <= 1000 else 1)]
        times[n] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    return times


# -- 3. forward pass at teaching size -----------------------------------------------------
LSTM = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
dim x = {n_in}, h = {n_h}
"""


def bench_forward(pairs: int) -> dict[str, tuple[float, float, float]]:
    import numpy as np

    from rnnviz import load_model
    from rnnviz.numeric.forward_pass import forward
    from rnnviz.numeric.ops import sigmoid

    model = load_model(LSTM.format(n_in=3, n_h=4))
    x = np.random.default_rng(0).standard_normal((5, 3))
    params = dict(forward(model, values={"x": x}).params)
    values = {"x": x, **params}

    def by_hand():
        p = params
        h = c = np.zeros(4)
        hs = []
        for xt in x:
            f = sigmoid(p["W_f"] @ xt + p["U_f"] @ h + p["b_f"])
            i = sigmoid(p["W_i"] @ xt + p["U_i"] @ h + p["b_i"])
            o = sigmoid(p["W_o"] @ xt + p["U_o"] @ h + p["b_o"])
            g = np.tanh(p["W_c"] @ xt + p["U_c"] @ h + p["b_c"])
            c = f * c + i * g
            h = o * np.tanh(c)
            hs.append(h)
        return hs

    trace = forward(model, values=values)
    assert np.allclose(np.stack([trace.value("h", t) for t in range(1, 6)]), by_hand(), atol=1e-12)
    calls = 40

    def timed(fn):
        def go():
            cpu, start = time.thread_time(), time.perf_counter()
            for _ in range(calls):
                fn()
            return (time.perf_counter() - start) / calls, (time.thread_time() - cpu) / calls
        return go

    return paired(timed(lambda: forward(model, values=values)), timed(by_hand), pairs)


# -- 4. peak memory of a long batched forward pass ----------------------------------------
MEMORY = """
import sys, tracemalloc
import numpy as np
from rnnviz import load_model
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.ops import sigmoid
sys.path.insert(0, {bench!r})
from bench_table import LSTM
H, B, T = 256, 32, 2000
model = load_model(LSTM.format(n_in=H, n_h=H))
rng = np.random.default_rng(0)
x = rng.standard_normal((T, B, H))
params = dict(forward(model, batch=B, values={{"x": x[:1]}}).params)
tracemalloc.start()
if sys.argv[1] == "hand":
    p = params
    h = c = np.zeros((B, H))
    keep = []
    for t in range(T):
        xt = x[t]
        f = sigmoid(xt @ p["W_f"].T + h @ p["U_f"].T + p["b_f"])
        i = sigmoid(xt @ p["W_i"].T + h @ p["U_i"].T + p["b_i"])
        o = sigmoid(xt @ p["W_o"].T + h @ p["U_o"].T + p["b_o"])
        g = np.tanh(xt @ p["W_c"].T + h @ p["U_c"].T + p["b_c"])
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        keep.append((f, i, o, g, c, tc, h))
else:
    trace = forward(model, batch=B, values={{"x": x, **params}})
print(tracemalloc.get_traced_memory()[1])
"""


def bench_memory() -> tuple[int, int]:
    code = MEMORY.format(bench=str(Path(__file__).parent))

    def peak(kind: str) -> int:
        proc = subprocess.run([PY, "-c", code, kind], capture_output=True, text=True, check=True, cwd=ROOT)
        return int(proc.stdout.split()[-1])

    return peak("rnnviz"), peak("hand")


# -- 5. cold site build -------------------------------------------------------------------
def bench_site(out: Path, pairs: int = 2) -> dict[str, tuple[float, float, float]]:
    """The cold build (block cache off) against its floor: the same pages built by MkDocs and
    Material without the rnnviz plugin (each fence left as a code block), in turns."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\n  - rnnviz\n" in text, "mkdocs.yml no longer lists the rnnviz plugin as '  - rnnviz'"
    cold = ROOT / f".bench-mkdocs-{os.getpid()}.yml"
    floor = ROOT / f".bench-mkdocs-floor-{os.getpid()}.yml"
    cold.write_text(text.replace("\n  - rnnviz\n", "\n  - rnnviz:\n      cache: false\n"), encoding="utf-8")
    floor.write_text(text.replace("\n  - rnnviz\n", "\n"), encoding="utf-8")
    try:
        return paired(lambda: run([PY, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(cold), "-d", str(out / "site")]),
                      lambda: run([PY, "-m", "mkdocs", "build", "-q", "-f", str(floor), "-d", str(out / "floor")]),
                      pairs)
    finally:
        cold.unlink()
        floor.unlink()


def main() -> int:
    quick = "--quick" in sys.argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        draw = bench_draw(out, 15)
        (t_draw, t_floor, r_draw), (c_draw, c_floor, rc_draw) = draw["wall"], draw["cpu"]
        print(f"1. rnnviz draw two_layer.rnn {t_draw * 1e3:.0f} ms, floor {t_floor * 1e3:.0f} ms "
              f"(median of 15 pairs); CPU {c_draw * 1e3:.0f} ms, floor {c_floor * 1e3:.0f} ms, "
              f"ratio {rc_draw:.2f}x", flush=True)
        rows.append(("draw two_layer.rnn / (python + 2 dot in parallel)", TODAY["draw"],
                     f"{r_draw:.2f}x (CPU {rc_draw:.2f}x)", f"<= {GOAL['draw']}x", r_draw <= GOAL["draw"]))

        sizes = [250, 500, 1000] + ([] if quick else [2000])
        times = bench_unrolled(out, sizes)
        for n, (t, c) in times.items():
            print(f"2. unrolled, every step drawn, N = {n:>4}: {t:6.2f} s   {t / n * 1e3:5.2f} ms per step; "
                  f"CPU {c:6.2f} s   {c / n * 1e3:5.2f} ms per step", flush=True)
        growth = times[sizes[-1]][0] / times[sizes[-2]][0]
        growth_cpu = times[sizes[-1]][1] / times[sizes[-2]][1]
        linear = growth_cpu <= 1.25 * sizes[-1] / sizes[-2]
        rows.append(("unrolled two_layer, every step, N = 1000", TODAY["unrolled"],
                     f"{times[1000][0]:.2f} s, CPU {times[1000][1]:.2f} s (CPU x{growth_cpu:.2f} for x{sizes[-1] // sizes[-2]} N)",
                     f"<= {GOAL['unrolled']} s, linear", times[1000][0] <= GOAL["unrolled"] and linear))

        fwd = bench_forward(21)
        (t_rv, t_hand, r_fwd), (c_rv, c_hand, rc_fwd) = fwd["wall"], fwd["cpu"]
        print(f"3. forward, hidden 4, T = 5: rnnviz {t_rv * 1e6:.0f} us, by hand {t_hand * 1e6:.0f} us "
              f"(median of 21 pairs of 40 calls); CPU {c_rv * 1e6:.0f} us, {c_hand * 1e6:.0f} us, "
              f"ratio {rc_fwd:.2f}x", flush=True)
        rows.append(("forward, hidden 4, T = 5 / numpy by hand", TODAY["forward"], f"{r_fwd:.2f}x (CPU {rc_fwd:.2f}x)",
                     f"<= {GOAL['forward']}x", r_fwd <= GOAL["forward"]))

        if not quick:
            m_rv, m_hand = bench_memory()
            print(f"4. peak memory, hidden 256, batch 32, T = 2000: rnnviz {m_rv / 1e9:.2f} GB, "
                  f"by hand {m_hand / 1e9:.2f} GB", flush=True)
            rows.append(("forward peak memory (every node readable), h 256, B 32, T 2000 / numpy", TODAY["memory"],
                         f"{m_rv / m_hand:.2f}x", f"<= {GOAL['memory']}x", m_rv / m_hand <= GOAL["memory"]))
            site = bench_site(out)
            (t_site, t_bare, r_site), (c_site, c_bare, _) = site["wall"], site["cpu"]
            print(f"5. mkdocs build, cold: {t_site:.1f} s, CPU {c_site:.1f} s (both cores; at best "
                  f"{c_site / (os.cpu_count() or 1):.1f} s of wall-clock on {os.cpu_count()} cores); floor (the same "
                  f"pages without the rnnviz plugin) {t_bare:.1f} s, CPU {c_bare:.1f} s; ratio {r_site:.2f}x "
                  f"(median of 2 pairs)", flush=True)
            rows.append(("mkdocs build, cold", TODAY["site"], f"{t_site:.1f} s (CPU {c_site:.1f} s)",
                         f"<= {GOAL['site']:g} s", t_site <= GOAL["site"]))

    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}} {'today':>8} {'now':>44} {'goal':>16}  met")
    for name, today, now, goal, met in rows:
        print(f"{name:<{width}} {today:>8} {now:>44} {goal:>16}  {'yes' if met else 'NO'}")
    print("(today: the figures of the issue, medians of paired runs on this machine; now: this run, "
          "wall-clock; CPU: the\n processes' own CPU time, which other programs on a loaded machine "
          "do not inflate as much; met: wall-clock)")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
