"""Check that a change kept every picture: node positions of every example and view, before and after.

Renders every example of ``examples/`` in every view (folded, unrolled at the default
3 steps, unrolled 10 and 100 steps drawn in full, unrolled 1000 steps collapsed, cell,
cell-unrolled, and the unrolled view with ``--values`` and with ``--grad``) to SVG
twice: with the rnnviz of a git revision (default ``HEAD``, checked out into a
temporary folder) and with the working tree. It then compares, node by node (the
``<title>`` Graphviz gives each node), the centre of each node's outline in page
coordinates, and fails when a node moved by more than 0.5 pt, appeared or vanished.
The invisible bend points of long straight edges are not nodes of the picture and are
left out.

Run: ``python bench/check_pictures.py [REV]`` (a minute or two: it runs ``dot`` a few
hundred times; add ``--quick`` to skip the 100-step views).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from svg_geometry import parse  # noqa: E402

TOLERANCE = 0.5  # points
_TRANSLATE = re.compile(r'class="graph" transform="[^"]*translate\(([-\d.]+) ([-\d.]+)\)')


def cases(quick: bool) -> list[tuple[str, list[str]]]:
    """(name, arguments of ``rnnviz draw``) of every picture compared."""
    out = []
    for path in sorted((ROOT / "examples").glob("*.rnn")):
        f = str(path)
        views = [("folded", ["--view", "folded"]), ("unrolled", ["--view", "unrolled"]),
                 ("unrolled10", ["--view", "unrolled", "--unroll", "10", "--max-columns", "10"]),
                 ("collapsed1000", ["--view", "unrolled", "--unroll", "1000"]),
                 ("cell", ["--view", "cell"]), ("cell-unrolled", ["--view", "cell-unrolled"]),
                 ("values", ["--view", "unrolled", "--values"])]
        if not quick:
            views.append(("unrolled100", ["--view", "unrolled", "--unroll", "100", "--max-columns", "100"]))
        out += [(f"{path.stem} {name}", [f, *args]) for name, args in views]
    grads = {"vanilla": "y[3]", "two_layer": "y[3][0]", "lstm": "h[3][0]", "relu_1d": "h[3]"}
    out += [(f"{stem} grad", [str(ROOT / "examples" / f"{stem}.rnn"), "--view", "unrolled", "--grad", target])
            for stem, target in grads.items()]
    return out


class Refused(str):
    """The message of a view that rnnviz refuses for a model (an encoder-decoder's cell view)."""


def draw(tree: Path, args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-m", "rnnviz", "draw", *args, "--format", "svg", "-o", "-"],
                          capture_output=True, text=True, env=env, cwd=tree)
    if proc.returncode == 2 and proc.stderr.startswith("error:"):  # a clear refusal, not a crash
        return Refused(proc.stderr.splitlines()[0])
    if proc.returncode != 0:
        raise SystemExit(f"rnnviz draw {' '.join(args)} failed in {tree}:\n{proc.stderr}")
    return proc.stdout


def centres(svg: str) -> dict[str, tuple[float, float]]:
    """Node title -> centre of its outline, in page coordinates (the graph's translate added)."""
    m = _TRANSLATE.search(svg)
    dx, dy = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    return {t: ((b[0] + b[2]) / 2 + dx, (b[1] + b[3]) / 2 + dy)
            for t, b in parse(svg).nodes.items() if not t.startswith("bend_")}


def compare(before: str, after: str) -> tuple[float, list[str]]:
    a, b = centres(before), centres(after)
    problems = [f"node {t} only before" for t in sorted(a.keys() - b.keys())]
    problems += [f"node {t} only after" for t in sorted(b.keys() - a.keys())]
    worst = 0.0
    for t in a.keys() & b.keys():
        d = max(abs(a[t][0] - b[t][0]), abs(a[t][1] - b[t][1]))
        worst = max(worst, d)
        if d > TOLERANCE:
            problems.append(f"node {t} moved by {d:.2f} pt")
    return worst, problems


def main() -> int:
    rev = next((a for a in sys.argv[1:] if not a.startswith("--")), "HEAD")
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        todo = cases(quick)
        with ThreadPoolExecutor(max_workers=2) as pool:
            befores = list(pool.map(lambda c: draw(old, c[1]), todo))
            afters = list(pool.map(lambda c: draw(ROOT, c[1]), todo))
    failed = 0
    overall = 0.0
    for (name, _), before, after in zip(todo, befores, afters):
        if isinstance(before, Refused) or isinstance(after, Refused):
            # A view refused by both revisions is no picture to compare; refused by one only is a change.
            same = isinstance(before, Refused) and isinstance(after, Refused)
            print(f"{name:<34} refused {'by both' if same else 'by one revision only'}: "
                  f"{after if isinstance(after, Refused) else before}")
            failed += not same
            continue
        worst, problems = compare(before, after)
        overall = max(overall, worst)
        status = "ok" if not problems else "MOVED"
        print(f"{name:<34} {len(centres(after)):5d} nodes   largest move {worst:6.3f} pt   {status}")
        for p in problems[:5]:
            print(f"    {p}")
        failed += bool(problems)
    print(f"\n{len(todo)} pictures against {rev}: largest node move {overall:.3f} pt "
          f"(tolerance {TOLERANCE} pt); {failed} changed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
