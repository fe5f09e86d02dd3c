"""How long ``rnnviz draw`` takes, end to end, against what it cannot avoid.

Measures, in one run, with the median of a few repetitions:

- ``python -c pass``: the interpreter start-up every command pays;
- ``dot -Tsvg`` on the DOT of both views of examples/two_layer.rnn: Graphviz alone;
- ``rnnviz draw examples/two_layer.rnn`` (both views, SVG) as a subprocess;
- the unrolled view at N = 10, 100, 1000 steps, drawn in full (``--max-columns N``)
  and with the default collapse into an ellipsis column;

then prints the ratios, and checks that ``rnnviz draw`` does not import numpy
or matplotlib (``python -X importtime``) unless values or gradients are asked for.

Run: ``python bench/bench_draw.py`` (add ``--quick`` to skip N = 1000 drawn in full).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A bytecode cache of our own (see README.md): otherwise, with PYTHONDONTWRITEBYTECODE set,
# every command timed here would compile every module again.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "rnnviz-bench-pycache"))
EXAMPLE = ROOT / "examples" / "two_layer.rnn"
PY = sys.executable


def timed(cmd: list[str], *, stdin: bytes | None = None, repeat: int = 5) -> float:
    """Median wall time of ``cmd`` in seconds (fails loudly if the command fails)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, input=stdin, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imported_modules(args: list[str]) -> set[str]:
    """Top-level packages imported by ``rnnviz ARGS``, from ``-X importtime``."""
    proc = subprocess.run([PY, "-X", "importtime", "-m", "rnnviz", *args], capture_output=True, text=True, check=True)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def main() -> int:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rnnviz = [PY, "-m", "rnnviz", "draw", str(EXAMPLE)]
        dots = [subprocess.run(rnnviz + ["--view", v, "--format", "dot", "-o", "-"], capture_output=True,
                               check=True).stdout for v in ("folded", "unrolled")]

        t_pass = timed([PY, "-c", "pass"])
        t_dot = sum(timed(["dot", "-Tsvg"], stdin=d) for d in dots)
        t_draw = timed(rnnviz + ["-o", f"{out}/"])
        print(f"python -c pass                       {t_pass * 1000:8.1f} ms")
        print(f"dot -Tsvg on both views' DOT         {t_dot * 1000:8.1f} ms")
        print(f"rnnviz draw two_layer.rnn (2 views)  {t_draw * 1000:8.1f} ms")
        print(f"  ratio draw / dot alone             {t_draw / t_dot:8.2f}")
        print(f"  ratio draw / (python start + dot)  {t_draw / (t_pass + t_dot):8.2f}")
        print(f"  overhead beyond python start + dot {(t_draw - t_pass - t_dot) * 1000:8.1f} ms")
        print()
        print(f"{'unrolled N':>10} {'drawn in full':>14} {'collapsed':>12} {'full/collapsed':>15}")
        for n in (10, 100, 1000):
            base = rnnviz + ["--view", "unrolled", "--unroll", str(n), "-o", str(out / f"u{n}.svg")]
            reps = 1 if n >= 100 else 3
            full = None
            if not (quick and n == 1000):
                full = timed(base + ["--max-columns", str(n)], repeat=reps)
            collapsed = timed(base, repeat=3)
            full_s = f"{full:12.2f} s" if full is not None else f"{'skipped':>14}"
            ratio = f"{full / collapsed:15.1f}" if full is not None else f"{'':>15}"
            print(f"{n:>10} {full_s} {collapsed:10.2f} s {ratio}")
        print()

        plain = imported_modules(["draw", str(EXAMPLE), "-o", f"{out}/"])
        heavy = sorted(plain & {"numpy", "matplotlib", "torch", "PIL"})
        print("heavy imports of 'rnnviz draw':", ", ".join(heavy) if heavy else "none (import-lean)")
        annotated = imported_modules(["draw", str(EXAMPLE), "--values", "-o", f"{out}/"])
        print("with --values:                 ", ", ".join(sorted(annotated & {"numpy", "matplotlib"})) or "none")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
