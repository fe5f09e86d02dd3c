"""The Jacobians that ``formula --grad`` prints, evaluated with numbers and checked by finite differences."""

from __future__ import annotations

import glob
from functools import reduce

import numpy as np
import pytest

import rnnviz
from rnnviz.formulas.jacobian import (
    Diag,
    FPrime,
    Ident,
    Mat,
    Mul,
    Partial,
    RowD,
    Scale,
    Sum,
    XentD,
    Zero,
    jacobian_blocks,
)
from rnnviz.language import expr as E
from rnnviz.numeric.forward_pass import forward
from rnnviz.numeric.ops import sigmoid
from tests.conftest import one_phase_example_paths


class Evaluator:
    """Turns a symbolic Jacobian into a matrix at step 1 of a one-step run."""

    def __init__(self, model, trace, blocks, wrt: str) -> None:
        self.model, self.trace, self.blocks, self.wrt = model, trace, blocks, wrt
        self.loc = {id(p.expr): (target, p.index) for target, plan in trace.plan.items() for p in plan}
        self.concat_of = {id(item): p.expr for plan in trace.plan.values() for p in plan
                          if isinstance(p.expr, E.Concat) for item in p.expr.items}
        self.n = np.atleast_1d(trace.value(wrt, 0)).size

    def val(self, e: E.Expr) -> np.ndarray:
        target, index = self.loc[id(e)]
        return np.atleast_1d(np.asarray(self.trace.node(target, index, 1), dtype=float)).ravel()

    def fprime(self, call: E.Call) -> np.ndarray:
        func = self.trace.functions.get(call.func, call.func) if call.generic else call.func
        a, y = self.val(call.arg), self.val(call)
        if func == "softmax":
            return np.diag(y) - np.outer(y, y)
        d = {"tanh": lambda: 1 - y * y, "sigmoid": lambda: sigmoid(a) * (1 - sigmoid(a)),
             "relu": lambda: np.where(a > 0, 1.0, np.where(a == 0, self.model.relu_prime0, 0.0)),
             "exp": lambda: y, "log": lambda: 1 / a, "identity": lambda: np.ones_like(a),
             "square": lambda: 2 * a}[func]()
        return np.diag(d)

    def mat(self, x: Mat) -> np.ndarray:
        W = np.asarray(self.trace.params[x.param], dtype=float)
        if W.ndim == 0:
            return W
        if W.ndim == 1:
            return np.diag(W)
        if x.block is not None:
            items = self.concat_of[id(x.block)].items
            sizes = [self.val(i).size for i in items]
            k = next(i for i, it in enumerate(items) if it is x.block)
            start = sum(sizes[:k])
            W = W[start:start + sizes[k], :] if x.transpose else W[:, start:start + sizes[k]]
        return W.T if x.transpose else W

    def ev(self, x):
        if isinstance(x, Zero):
            return 0.0
        if isinstance(x, Ident):
            return np.eye(self.n)
        if isinstance(x, Scale):
            return x.value
        if isinstance(x, Mat):
            return self.mat(x)
        if isinstance(x, Diag):
            return np.diag(self.val(x.expr))
        if isinstance(x, FPrime):
            return self.fprime(x.call)
        if isinstance(x, RowD):  # a row: 2 z^T, 1^T, onehot(y)^T
            if x.kind == "sumsq":
                return 2 * self.val(x.expr)[None, :]
            if x.kind == "pick":
                hot = next(p.expr for plan in self.trace.plan.values() for p in plan
                           if isinstance(p.expr, E.Call) and p.expr.func == "onehot" and p.expr.arg == x.expr)
                return self.val(hot)[None, :]
            n = next(self.val(e.arg).size for plan in self.trace.plan.values() for p in plan
                     for e in [p.expr] if isinstance(e, E.Call) and e.func == "sum")
            return np.ones((1, n))
        if isinstance(x, XentD):
            o = self.val(x.scores)
            p = np.exp(o - o.max())
            p /= p.sum()
            hot = next(p_.expr for plan in self.trace.plan.values() for p_ in plan
                       if isinstance(p_.expr, E.Call) and p_.expr.func == "onehot" and p_.expr.arg == x.target)
            return (-np.log(p) if x.of_target else p - self.val(hot))[None, :]
        if isinstance(x, Partial):
            return self.ev(self.blocks[(x.var, self.wrt)])
        if isinstance(x, Mul):
            return reduce(lambda a, b: a @ b if np.ndim(a) == 2 and np.ndim(b) == 2 else a * b,
                          [self.ev(f) for f in x.factors])
        if isinstance(x, Sum):
            terms = [sign * np.asarray(self.ev(t), dtype=float) for sign, t in x.terms]
            shape = next((t.shape for t in terms if t.ndim == 2), None)
            # A scalar term of a sum of matrices is that scalar times the identity.
            return sum(t * np.eye(shape[0]) if shape and t.ndim == 0 else t for t in terms)
        raise NotImplementedError(type(x).__name__)


# The Jacobians are written for one sequence (an encoder-decoder has two).
MODELS = [str(p.relative_to(p.parents[1])) for p in one_phase_example_paths()] + [
    "h[t] = tanh(h[t-1] W + x[t] U)\ndim x = 3, h = 4",
    "h[t] = tanh(K (W h[t-1]) + U x[t] - h[t-1] c)\nK = 0.7, c = 0.3\ndim x = 3, h = 4",
    "y[t] = softmax(W y[t-1] + U x[t])\ndim x = 3, y = 4",
    "h[t] = f(W [h[t-1], x[t]])\nf = tanh\ndim x = 2, h = 3",
    # The losses: a squared norm, the book's entry picked by a class index, a cross-entropy.
    "h_t = tanh(W h_{t-1} + U x_t)\no_t = V h_t\nL_t = \\|o_t - y_t\\|^2\ndim x = 2, h = 3, o = 2",
    "h^{(t)} = \\tanh(W h^{(t-1)} + U x^{(t)})\no^{(t)} = V h^{(t)}\n\\hat{y}^{(t)} = \\mathrm{softmax}(o^{(t)})\n"
    "L^{(t)} = -\\log \\hat{y}^{(t)}_{y^{(t)}}\ndim x = 2, h = 3, o = 4",
    "h[t] = tanh(W h[t-1] + U x[t])\no[t] = V h[t]\nL[t] = cross_entropy(o[t], y[t])\ndim x = 2, h = 3, o = 4",
]


@pytest.mark.parametrize("source", MODELS)
def test_printed_jacobians_equal_finite_differences(source):
    """Every block dv_j/dr_{j-1} of the expansion equals the finite-difference Jacobian of one step."""
    model = rnnviz.load(source) if source.endswith(".rnn") else rnnviz.load_model(source)
    base = forward(model, steps=2, seed=1)
    rng = np.random.default_rng(0)
    values = {p: np.asarray(v, dtype=float) for p, v in base.params.items()}
    for name, steps in base.inputs.items():
        values[name] = np.array([steps[t] for t in sorted(steps) if t >= 1], dtype=float)
    for r in model.recurrent:
        values[r] = np.array(0.5 * rng.standard_normal(np.shape(base.value(r, 0))))
    trace = forward(model, steps=1, values=values)
    blocks = jacobian_blocks(model)
    assert blocks
    eps = 1e-6
    for (v, r), sym in blocks.items():
        got = np.asarray(Evaluator(model, trace, blocks, r).ev(sym), dtype=float)
        cols = []
        for idx in np.ndindex(np.shape(values[r])):
            outs = []
            for sign in (1, -1):
                vals = {k: a.copy() for k, a in values.items()}
                vals[r][idx] += sign * eps
                outs.append(np.atleast_1d(forward(model, steps=1, values=vals).value(v, 1)).ravel())
            cols.append((outs[0] - outs[1]) / (2 * eps))
        want = np.stack(cols, axis=1)
        np.testing.assert_allclose(np.broadcast_to(got, want.shape), want, atol=1e-6, err_msg=f"d{v}/d{r}")
