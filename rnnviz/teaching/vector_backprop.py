"""Backpropagation by hand for a model of vectors: each derivative with its working.

Where the values are vectors, a solution sheet writes the backward pass the way it writes
the forward one: each value's derivative is the sum, over the values that read it, of the
transposed local Jacobian times their derivative, written with the names and then with the
numbers,

    dL/dh_1 = (do_1/dh_1)^T dL/do_1 + (da_2/dh_1)^T dL/da_2 = V^T dL/do_1 + W^T dL/da_2
            = [[2]]^T [0.5232] + [[0.5]]^T [-0.4742] = [0.8093]

and a weight's derivative is the sum over the steps of the outer products of the
derivative that reaches its product and the vector it multiplies
(``dL/dW = Σ_t dL/da_t h_{t-1}^T``). :func:`backward_blocks` computes each of these by
reverse mode over the expression trees, with numpy's forward pass for the values, and
checks every derivative against numpy's backpropagation. An encoder-decoder is worked
through the decoder's steps, then its context (the sum over every decoder step that reads
it, and the decoder's start), then the encoder's steps.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.numeric.forward_pass import forward
    >>> m = load_model("h[t] = tanh(W h[t-1] + x[t])  y[t] = V h[t]  W = [[0.5, 0], [0, 0.5]]  V = [[1, 1]]"
    ...                "  h_0 = [0, 0]  x = [[1, 0], [0, 1]]")
    >>> lines, grads = backward_blocks(m, forward(m), [("y", 2)], ["W"])
    >>> print(" = ".join(p for _, p in lines[2][1]))
    (dh_2/dh_1)^T·dy_2/dh_2 = W^T (tanh'(W h_1 + x_2) * dy_2/dh_2) = [[0.5, 0], [0, 0.5]]^T ([0.8679, 0.42] * [1, 1]) = [0.434, 0.21]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formulas.unrolled import at_steps
from ..language import Model
from ..language import expr as E
from .vectors import SMALL, _Printer, evaluate

__all__ = ["backward_blocks", "Unsupported"]


class Unsupported(Exception):
    """A tree whose local derivative this module does not write (a softmax, a concatenation)."""


def _derivative(func: str, u: np.ndarray, relu0: float) -> np.ndarray:
    from ..numeric.ops import sigmoid

    if func == "tanh":
        return 1.0 - np.tanh(u) ** 2
    if func == "sigmoid":
        s = sigmoid(u)
        return s * (1.0 - s)
    if func == "relu":
        return np.where(u > 0, 1.0, np.where(u == 0, relu0, 0.0))
    if func == "identity":
        return np.ones_like(u)
    if func == "exp":
        return np.exp(u)
    if func == "square":
        return 2.0 * u
    raise Unsupported(func)


@dataclass
class _Path:
    """The adjoint that reaches a leaf, and how it is written (names, numbers)."""

    value: np.ndarray
    sym: tuple[str, str]  # latex, plain
    num: tuple[str, str]
    #: An array on the way has more than SMALL entries a side: the numbers are not written out.
    large: bool = False


class _Walker:
    """Reverse mode over one equation at one step, writing each path's adjoint."""

    def __init__(self, model: Model, trace, t: int, fractions: bool, bare) -> None:
        self.model, self.trace, self.t = model, trace, t
        self.pl = _Printer(model, latex=True, fractions=fractions, bare=bare)
        self.pp = _Printer(model, latex=False, fractions=fractions, bare=bare)
        self.relu0 = float(model.relu_prime0)
        self.large = False

    def val(self, e: E.Expr) -> np.ndarray:
        return np.asarray(evaluate(self.model, self.trace, e, self.t), dtype=float)

    def sym(self, e: E.Expr, parent: int = 4) -> tuple[str, str]:
        return self.pl.expr(at_steps(e, str(self.t)), parent), self.pp.expr(at_steps(e, str(self.t)), parent)

    def arr(self, a: np.ndarray) -> tuple[str, str]:
        if any(n > SMALL for n in np.shape(a)):
            self.large = True
        return self.pl._array(np.asarray(a)), self.pp._array(np.asarray(a))

    def walk(self, e: E.Expr, adj: _Path, out: dict) -> None:
        """Add to ``out`` (leaf -> [paths]) the adjoint of every leaf of ``e`` given ``e``'s."""
        if isinstance(e, E.Var):
            adj.large = adj.large or self.large
            out.setdefault((e.name, self.t - e.delay), []).append(adj)
            return
        if isinstance(e, E.Param):
            adj.large = adj.large or self.large
            out.setdefault(e.name, []).append(adj)
            return
        if isinstance(e, E.Num):
            return
        if isinstance(e, E.Neg):
            self.walk(e.operand, _Path(-adj.value, _wrap("-", adj.sym), _wrap("-", adj.num)), out)
            return
        if isinstance(e, (E.Add, E.Sub)):
            for side, sign in ((e.left, 1.0), (e.right, 1.0 if isinstance(e, E.Add) else -1.0)):
                v = self.val(side)
                a = adj.value * sign
                if v.ndim < a.ndim:  # a number added to a vector: its derivative adds the entries
                    a = np.asarray(a.sum())
                    sym = (f"\\mathbf{{1}}^\\top {adj.sym[0]}", f"sum({adj.sym[1]})")
                    num = (f"\\mathbf{{1}}^\\top {adj.num[0]}", f"sum({adj.num[1]})")
                else:
                    sym, num = adj.sym, adj.num
                if sign < 0:
                    sym, num = _wrap("-", sym), _wrap("-", num)
                self.walk(side, _Path(a, sym, num), out)
            return
        if isinstance(e, E.Call):
            if e.func in ("softmax", "log") or e.generic:
                raise Unsupported(e.func)
            u = self.val(e.arg)
            d = 2.0 * u if e.func == "sumsq" else _derivative(e.func, u, self.relu0)
            name = self.pl.func(e), self.pp.func(e)
            arg = self.sym(e.arg, 0)
            if e.func == "sumsq":  # the derivative of ||u||^2 is 2u
                sym = (f"2\\left({arg[0]}\\right) {_br(adj.sym[0], True)}", f"2({arg[1]}) {_br(adj.sym[1], False)}")
            else:
                sym = (f"{name[0]}'\\left({arg[0]}\\right) \\odot {_br(adj.sym[0], True)}",
                       f"{name[1]}'({arg[1]}) * {_br(adj.sym[1], False)}")
            dn = self.arr(d)
            op_l, op_p = ("\\,", "·") if e.func == "sumsq" else (" \\odot", " *")
            num = (f"{dn[0]}{op_l} {_br(adj.num[0], True)}", f"{dn[1]}{op_p} {_br(adj.num[1], False)}")
            self.walk(e.arg, _Path(d * adj.value, sym, num), out)
            return
        if isinstance(e, (E.EMul, E.Prod)):
            a, b = self.val(e.left), self.val(e.right)
            g = adj.value
            scalarish = isinstance(e, E.EMul) or a.ndim == 0 or b.ndim == 0
            for side, other, ov, left in ((e.left, e.right, b, True), (e.right, e.left, a, False)):
                sv = self.val(side)
                os_, on = self.sym(other), self.arr(ov)
                if scalarish:
                    value = g * ov
                    if np.ndim(sv) < np.ndim(value):
                        value = np.asarray(value.sum())
                    op_l, op_p = (" \\cdot ", "·") if np.ndim(ov) == 0 or np.ndim(g) == 0 else (" \\odot ", " * ")
                    sym = (f"{os_[0]}{op_l}{_br(adj.sym[0], True)}", f"{os_[1]}{op_p}{_br(adj.sym[1], False)}")
                    num = (f"{on[0]}{op_l}{_br(adj.num[0], True)}", f"{on[1]}{op_p}{_br(adj.num[1], False)}")
                elif a.ndim == 2 and b.ndim == 1:  # W v
                    if left:  # by W: the outer product g v^T
                        value = np.outer(g, b)
                        sym = (f"{_br(adj.sym[0], True)} {os_[0]}^\\top", f"{_br(adj.sym[1], False)} {os_[1]}^T")
                        num = (f"{_br(adj.num[0], True)} {on[0]}^\\top", f"{_br(adj.num[1], False)} {on[1]}^T")
                    else:  # by v: W^T g
                        value = a.T @ g
                        sym = (f"{os_[0]}^\\top {_br(adj.sym[0], True)}", f"{os_[1]}^T {_br(adj.sym[1], False)}")
                        num = (f"{on[0]}^\\top {_br(adj.num[0], True)}", f"{on[1]}^T {_br(adj.num[1], False)}")
                elif a.ndim == 1 and b.ndim == 2:  # v W (a row vector)
                    if left:  # by v: g W^T
                        value = b @ g
                        sym = (f"{_br(adj.sym[0], True)} {os_[0]}^\\top", f"{_br(adj.sym[1], False)} {os_[1]}^T")
                        num = (f"{_br(adj.num[0], True)} {on[0]}^\\top", f"{_br(adj.num[1], False)} {on[1]}^T")
                    else:  # by W: v^T g
                        value = np.outer(a, g)
                        sym = (f"{os_[0]}^\\top {_br(adj.sym[0], True)}", f"{os_[1]}^T {_br(adj.sym[1], False)}")
                        num = (f"{on[0]}^\\top {_br(adj.num[0], True)}", f"{on[1]}^T {_br(adj.num[1], False)}")
                else:
                    raise Unsupported("product")
                self.walk(side, _Path(np.asarray(value), sym, num), out)
            return
        raise Unsupported(type(e).__name__)


def _one_array(text: str) -> bool:
    """``[1, 2]`` or one ``pmatrix``: a single array, written as a whole."""
    if text.startswith("\\begin{pmatrix}") and text.endswith("\\end{pmatrix}"):
        return text.count("\\begin{pmatrix}") == 1
    if text.startswith("[") and text.endswith("]"):
        depth = 0
        for i, ch in enumerate(text):
            depth += (ch == "[") - (ch == "]")
            if depth == 0 and i < len(text) - 1:
                return False
        return True
    return False


def _one_frac(text: str) -> bool:
    """``\\frac{...}{...}`` and nothing else."""
    if not text.startswith("\\frac{"):
        return False
    depth, groups, i = 0, 0, len("\\frac")
    for j, ch in enumerate(text[i:], start=i):
        depth += (ch == "{") - (ch == "}")
        if depth == 0:
            groups += 1
            if groups == 2:
                return j == len(text) - 1
    return False


def _br(text: str, latex: bool) -> str:
    """A factor in brackets unless it is one name or one array."""
    simple = not any(op in text for op in (" + ", " - ", " \\odot ", " * ", "^\\top", "^T", " "))
    if simple or _one_array(text) or _one_frac(text):
        return text
    return f"\\left({text}\\right)" if latex else f"({text})"


def _wrap(sign: str, text: tuple[str, str]) -> tuple[str, str]:
    return f"{sign}{_br(text[0], True)}", f"{sign}{_br(text[1], False)}"


def backward_blocks(model: Model, trace, roots: list[tuple[str, int]], wrts: list[str], *, fractions: bool = False,
                    bare=(), top: tuple[str, str] | None = None) -> tuple[list, dict]:
    """The backward pass by hand: ``[(lhs, stages), ...]`` in LaTeX and plain, and each weight's derivative.

    ``roots`` are the values whose derivative is 1 (each loss a total adds, or the target);
    ``top`` names what is differentiated (``("L", "L")``; default the one root). Each line
    is ``((lhs_latex, lhs_plain), [(latex, plain), ...])``: the sum of the paths in names,
    then in numbers, then the value.

    Raises:
        Unsupported: a function or product whose local derivative is not written here.
    """
    from ..numeric.grad import gradients
    from .scalar import computation_order

    T = trace.steps
    if top is None:
        n, t = roots[0]
        pl, pp = _Printer(model, latex=True, bare=bare), _Printer(model, latex=False, bare=bare)
        top = (pl.name(n, t), pp.name(n, t))
    pl, pp = _Printer(model, latex=True, fractions=fractions, bare=bare), \
        _Printer(model, latex=False, fractions=fractions, bare=bare)

    def d(key) -> tuple[str, str]:
        b = (pl.name(*key), pp.name(*key)) if isinstance(key, tuple) else (pl.name(key), pp.name(key))
        return f"\\frac{{\\partial {top[0]}}}{{\\partial {b[0]}}}", f"d{top[1]}/d{b[1]}"

    def local(r, key) -> tuple[str, str]:
        a = (pl.name(*r), pp.name(*r))
        b = (pl.name(*key), pp.name(*key)) if isinstance(key, tuple) else (pl.name(key), pp.name(key))
        return f"\\frac{{\\partial {a[0]}}}{{\\partial {b[0]}}}", f"d{a[1]}/d{b[1]}"

    arrivals: dict = {}  # leaf -> [(reader, path)]
    lines: list = []
    if model.phases is None:
        _sweep(model, trace, computation_order(model, T), roots, arrivals, lines, d, local, fractions, bare)
    else:
        _phased_sweep(model, trace, roots, arrivals, lines, d, local, fractions, bare)
    grads: dict = {}
    target = f"{roots[0][0]}[{roots[0][1]}]" if len(roots) == 1 else f"sum({roots[0][0]})"
    ref = gradients(model, trace, target).named()
    weight_lines: list = []
    for wname in wrts:
        paths = arrivals.get(wname, [])
        shape = np.shape(trace.params[wname])
        total = sum((np.reshape(p.value, shape) for _, p in paths), np.zeros(shape))
        if not np.allclose(total, ref[wname], rtol=1e-9, atol=1e-12):
            raise AssertionError(f"the worked {d(wname)[1]} disagrees with numpy's backpropagation")
        grads[wname] = total
        if not paths:
            weight_lines.append((d(wname), [("0", "0")]))
            continue
        sym_l = " + ".join(f"\\left({local(r, wname)[0]}\\right)^\\top {d(r)[0]}" for r, _ in paths)
        sym_p = " + ".join(f"({local(r, wname)[1]})^T·{d(r)[1]}" for r, _ in paths)
        stages = [(sym_l, sym_p), (" + ".join(p.sym[0] for _, p in paths), " + ".join(p.sym[1] for _, p in paths))]
        if not any(p.large for _, p in paths):
            stages.append((" + ".join(p.num[0] for _, p in paths), " + ".join(p.num[1] for _, p in paths)))
        stages.append((pl._array(total), pp._array(total)))
        keep = [s for i, s in enumerate(stages) if i == 0 or s[1] != stages[i - 1][1]]
        weight_lines.append((d(wname), keep))
    return lines + [None] + weight_lines, grads


def _sweep(model: Model, trace, order: list, roots: list, arrivals: dict, lines: list, d, local, fractions: bool,
           bare) -> None:
    """Reverse mode over ``order`` (one pass's values): each value's derivative, the sum of the paths that
    ``arrivals`` holds for it, is written to ``lines``; its paths into what it reads join ``arrivals``."""
    pl, pp = _Printer(model, latex=True, fractions=fractions, bare=bare), \
        _Printer(model, latex=False, fractions=fractions, bare=bare)
    for k in reversed(order):
        value = np.zeros(np.shape(trace.value(*k)))
        paths = arrivals.get(k, [])
        if k not in roots and not paths:
            continue
        if paths:
            value = sum((p.value for _, p in paths), np.zeros_like(value)) + (1.0 if k in roots else 0.0)
            sym_l = " + ".join(f"\\left({local(r, k)[0]}\\right)^\\top {d(r)[0]}" for r, _ in paths)
            sym_p = " + ".join(f"({local(r, k)[1]})^T·{d(r)[1]}" for r, _ in paths)
            how_l = " + ".join(p.sym[0] for _, p in paths)
            how_p = " + ".join(p.sym[1] for _, p in paths)
            num_l = " + ".join(p.num[0] for _, p in paths)
            num_p = " + ".join(p.num[1] for _, p in paths)
            stages = [(sym_l, sym_p), (how_l, how_p)] + ([(num_l, num_p)] if not any(p.large for _, p in paths)
                                                          else []) + [(pl._array(value), pp._array(value))]
            keep = [s for i, s in enumerate(stages) if i == 0 or s[1] != stages[i - 1][1]]
            lines.append((d(k), keep))
        else:
            value = value + 1.0
            lines.append((d(k), [("1", "1")]))
        w = _Walker(model, trace, k[1], fractions, bare)
        dl, dp = d(k)
        out: dict = {}
        start = w.arr(value)
        w.walk(model.equation(k[0]).expr, _Path(value, (dl, dp), start), out)
        for leaf, ps in out.items():
            for p in ps:
                arrivals.setdefault(leaf, []).append((k, p))


def _phased_sweep(model: Model, trace, roots: list, arrivals: dict, lines: list, d, local, fractions: bool,
                  bare) -> None:
    """An encoder-decoder: the decoder's steps back, then the context (the sum over every decoder step that
    reads it, and the decoder's start), then the encoder's steps."""
    from .scalar import computation_order

    phases = model.phases
    enc, dec = phases.bind(model)
    T = trace.steps
    starts = dict(phases.starts)  # the decoder's state -> its start, computed once by the encoder
    dec_roots = [r for r in roots if phases.phase_of(r[0]) == "decoder"]
    enc_roots = [r for r in roots if r not in dec_roots]
    dec_bare = frozenset(bare) | frozenset(c for c in phases.contexts if c in dec.symbols)
    reached: dict = {}
    _sweep(dec, trace.decoder, computation_order(dec, trace.decoder_steps), dec_roots, reached, lines, d, local,
           fractions, dec_bare)
    for leaf, ps in reached.items():
        if isinstance(leaf, tuple) and leaf[0] in phases.contexts:
            leaf = (leaf[0], T)  # every decoder step reads the one context
        elif isinstance(leaf, tuple) and leaf[1] == 0 and leaf[0] in starts:
            leaf = (starts[leaf[0]], T)
        arrivals.setdefault(leaf, []).extend(ps)
    _sweep(enc, trace.encoder, computation_order(enc, T), enc_roots, arrivals, lines, d, local, fractions,
           frozenset(bare) | frozenset(enc.once))
