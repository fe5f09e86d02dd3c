"""Each op's backward agrees with central finite differences of its forward."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.numeric.ops import OPS, sigmoid, softmax, unbroadcast

EPS = 1e-6
rng = np.random.default_rng(0)


def numeric_grads(op, inputs, ctx, g):
    """d sum(g * forward(inputs)) / d inputs, by central differences."""
    grads = []
    for k, a in enumerate(inputs):
        a = np.array(a, dtype=float)
        d = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = a.copy(), a.copy()
            plus[idx] += EPS
            minus[idx] -= EPS
            args_p = list(inputs); args_p[k] = plus
            args_m = list(inputs); args_m[k] = minus
            d[idx] = (np.sum(g * op.forward(*args_p, ctx=ctx)) - np.sum(g * op.forward(*args_m, ctx=ctx))) / (2 * EPS)
        grads.append(d)
    return grads


CONCAT = {"sizes": (1, 3, 2), "batched": (True, True, False), "lead": ()}
CONCAT_B = {"sizes": (1, 3, 2), "batched": (True, True, False), "lead": (4,)}

CASES = [
    ("add", [rng.normal(size=3), rng.normal(size=3)], {}),
    ("add", [rng.normal(size=(4, 3)), rng.normal(size=3)], {}),       # a bias over a batch
    ("add", [rng.normal(size=(4, 3)), np.array(0.7)], {}),            # a scalar broadcast
    ("sub", [np.array(1.0), rng.normal(size=3)], {}),                 # 1 - z
    ("neg", [rng.normal(size=3)], {}),
    ("mul", [rng.normal(size=3), rng.normal(size=3)], {}),
    ("mul", [np.array(0.3), rng.normal(size=(4, 3))], {}),            # scaling
    ("mul", [rng.normal(size=(4, 1)), rng.normal(size=3)], {}),       # batched scalar times a vector
    ("matvec", [rng.normal(size=(5, 3)), rng.normal(size=3)], {}),
    ("matvec", [rng.normal(size=(5, 3)), rng.normal(size=(4, 3))], {}),
    ("vecmat", [rng.normal(size=3), rng.normal(size=(3, 5))], {}),
    ("vecmat", [rng.normal(size=(4, 3)), rng.normal(size=(3, 5))], {}),
    ("matmul", [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))], {}),
    ("concat", [np.array(0.5), rng.normal(size=3), rng.normal(size=2)], CONCAT),
    ("concat", [rng.normal(size=(4, 1)), rng.normal(size=(4, 3)), rng.normal(size=2)], CONCAT_B),
    ("tanh", [rng.normal(size=3)], {}),
    ("sigmoid", [rng.normal(size=3) * 5], {}),
    ("relu", [np.array([-1.0, 0.5, 2.0])], {"relu_prime0": 0.0}),
    ("softmax", [rng.normal(size=4)], {}),
    ("softmax", [rng.normal(size=(4, 3))], {}),
    ("exp", [rng.normal(size=3)], {}),
    ("log", [rng.uniform(0.5, 2.0, size=3)], {}),
    ("identity", [rng.normal(size=3)], {}),
]


@pytest.mark.parametrize("name,inputs,ctx", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_backward_matches_finite_differences(name, inputs, ctx):
    """backward(inputs, out, g, ctx) is the gradient of sum(g * forward(inputs))."""
    op = OPS[name]
    out = op.forward(*inputs, ctx=ctx)
    g = rng.normal(size=np.shape(out))
    got = op.backward(tuple(inputs), out, g, ctx)
    want = numeric_grads(op, inputs, ctx, g)
    assert len(got) == len(inputs)
    for a, gg, ww in zip(inputs, got, want):
        assert np.shape(gg) == np.shape(a)
        np.testing.assert_allclose(gg, ww, atol=1e-6)


@pytest.mark.parametrize("name,inputs,ctx", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_backward_reads_only_what_it_declares(name, inputs, ctx):
    """What an op's ``needs`` leaves out, its backward reads the shape of, never the value.

    The forward pass keeps only the declared values; a backward reading another one
    would compute from a placeholder. Here the undeclared values are NaN: the gradient
    must not change.
    """
    op = OPS[name]
    out = op.forward(*inputs, ctx=ctx)
    g = rng.normal(size=np.shape(out))
    want = op.backward(tuple(inputs), out, g, ctx)

    def blank(a):
        return np.broadcast_to(np.float64(np.nan), np.shape(a))

    ins = tuple(inputs) if "inputs" in op.needs else tuple(blank(a) for a in inputs)
    got = op.backward(ins, out if "out" in op.needs else blank(out), g, ctx)
    for gg, ww in zip(got, want):
        np.testing.assert_array_equal(gg, ww)


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].fast is not None))
def test_fast_forward_equals_forward(name):
    """The ctx-free fast path computes the same as forward."""
    op = OPS[name]
    arity = 2 if name in ("add", "sub", "mul", "matvec", "vecmat", "matmul") else 1
    if name in ("matvec", "matmul"):
        args = [rng.normal(size=(3, 3)), rng.normal(size=3 if name == "matvec" else (3, 3))]
    elif name == "vecmat":
        args = [rng.normal(size=3), rng.normal(size=(3, 3))]
    else:
        args = [rng.uniform(0.5, 2, size=3) for _ in range(arity)]
    np.testing.assert_allclose(op.fast(*args), op.forward(*args, ctx={}))


@pytest.mark.parametrize("prime0", [0.0, 1.0, 0.5])
def test_relu_derivative_at_zero_is_configurable(prime0):
    """relu'(0) is whatever the model says (0 by default, as in PyTorch)."""
    (g,) = OPS["relu"].backward((np.array([0.0, -1.0, 1.0]),), None, np.ones(3), {"relu_prime0": prime0})
    assert g.tolist() == [prime0, 0.0, 1.0]


def test_stable_functions_at_extremes():
    """sigmoid and softmax never overflow."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert sigmoid(np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]
        assert softmax(np.array([800.0, 0.0])).tolist() == [1.0, 0.0]
        assert float(softmax(np.array(3.0))) == 1.0


def test_unbroadcast_sums_batch_and_kept_axes():
    """unbroadcast reduces a batched gradient to a parameter's or a (B, 1) scalar's shape."""
    g = np.arange(12.0).reshape(4, 3)
    assert unbroadcast(g, (3,)).tolist() == g.sum(0).tolist()
    assert unbroadcast(g, (4, 1)).ravel().tolist() == g.sum(1).tolist()
    assert float(unbroadcast(g, ())) == g.sum()
