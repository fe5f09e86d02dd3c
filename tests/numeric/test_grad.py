"""Backprop through time checked against central finite differences, and by hand."""

from __future__ import annotations

import glob
import json

import numpy as np
import pytest

import rnnviz
from rnnviz.numeric.forward_pass import class_targets, forward
from rnnviz.numeric.grad import gradients, recurrent_spectra, select, state_grad_norms
from rnnviz.numeric.target import TargetError
from tests.conftest import one_phase_example_paths

EPS = 1e-6


def base_values(trace) -> dict:
    """Every value a run used, as the Python API takes them back."""
    vals = {p: np.array(v, dtype=float) for p, v in trace.params.items()}
    for name, steps in trace.inputs.items():
        vals[name] = np.array([steps[t] for t in sorted(steps) if t >= 1], dtype=float)
    for name, steps in trace.initial.items():
        # A forward chain starts at step 0, a backward one at T+1 (the API's value for either).
        vals[name] = np.array(steps[0] if 0 in steps else steps[trace.steps + 1], dtype=float)
    return vals


def objective(trace, target: str, model) -> float:
    """The scalar a target names, computed from the forward values only."""
    from rnnviz.numeric.target import parse_target

    tgt = parse_target(target, model)
    total = 0.0
    for t in tgt.steps(trace.steps):
        v = np.asarray(trace.value(tgt.name, t))
        total += float(v[..., tgt.component].sum() if tgt.component is not None else v.sum())
    return total


def check_fd(model, target: str, *, steps: int = 3, batch: int | None = None, seed: int = 0,
             tol: float = 1e-6, initial_steps=(0,)) -> int:
    """Compare every gradient entry with a central difference; return how many were checked."""
    trace = forward(model, steps=steps, batch=batch, seed=seed)
    grads = gradients(model, trace, target)
    vals = base_values(trace)
    checks = []
    for name, g in grads.params.items():
        checks.append((g, name, None))
    classes = class_targets(model, trace.shapes)  # a class index is picked, not varied: no difference
    for (name, t), g in grads.inputs.items():
        if t <= len(vals[name]) and name not in classes:
            checks.append((g, name, t - 1))
    for (name, t), g in grads.initial.items():
        if t in initial_steps or t == steps + 1:  # step T+1: a backward chain's start
            checks.append((g, name, None))
    count = 0
    for g, name, row in checks:
        base = vals[name] if row is None else vals[name][row]
        g = np.asarray(g)
        for idx in np.ndindex(np.shape(base)):
            results = []
            for sign in (1, -1):
                v = {k: a.copy() for k, a in vals.items()}
                v[name][idx if row is None else (row,) + idx] += sign * EPS
                results.append(objective(forward(model, steps=steps, batch=batch, values=v, seed=seed),
                                         target, model))
            fd = (results[0] - results[1]) / (2 * EPS)
            assert g[idx] == pytest.approx(fd, abs=tol, rel=1e-5), (name, row, idx)
            count += 1
    return count


FUNCTION_MODELS = {
    "tanh": "h[t] = tanh(W h[t-1] + U x[t] + b)\ndim x = 3, h = 4",
    "sigmoid": "h[t] = sigmoid(W h[t-1] + U x[t] + b)\ndim x = 3, h = 4",
    "relu": "h[t] = relu(W h[t-1] + U x[t] + b)\ndim x = 3, h = 4",
    "softmax": "y[t] = softmax(W y[t-1] + U x[t])\ndim x = 3, y = 4",
    "exp": "h[t] = exp(0.1 * (W h[t-1] + U x[t]))\ndim x = 3, h = 4",
    "log": "h[t] = log(sigmoid(W h[t-1] + U x[t]) + 1)\ndim x = 3, h = 4",
    "identity": "h[t] = identity(W h[t-1]) + U x[t]\ndim x = 3, h = 4",
    "row vectors": "h[t] = tanh(h[t-1] W + x[t] U)\ndim x = 3, h = 4",
    "product of two vectors": "h[t] = tanh(W h[t-1]) h[t-1] + U x[t]\ndim x = 3, h = 4",
    "element-wise": "h[t] = sigmoid(W h[t-1]) * tanh(U x[t] + V h[t-1])\ndim x = 3, h = 4",
    "concat": "h[t] = tanh(W [h[t-1], x[t]] + b)\ndim x = 3, h = 4",
    "one minus": "z[t] = sigmoid(U x[t] + W h[t-1])\nh[t] = (1 - z[t]) * h[t-1] + z[t] * tanh(V x[t])\n"
                 "dim x = 3, h = 4",
    "scalars scale": "h[t] = tanh(K (W h[t-1]) + U x[t] - h[t-1] c)\nK = 0.7, c = 0.3\ndim x = 3, h = 4",
    "negation and subtraction": "h[t] = tanh(-(W h[t-1]) - U x[t])\ndim x = 3, h = 4",
    "scalar input and state": "h[t] = tanh(w h[t-1] + u x[t] + b)\nw = 0.5, u = -0.7, b = 0.1, h_0 = 0.2\n"
                              "x = [0.3, -1.2, 0.8]",
    "delay of two": "h[t] = tanh(W h[t-1] + V h[t-2] + U x[t])\ndim x = 3, h = 4",
    "input read ahead": "h[t] = tanh(W h[t-1] + U x[t] + V x[t+1])\ndim x = 2, h = 3",
    "generic activation bound by a value": "h[t] = f(W h[t-1] + U x[t])\nf = tanh\ndim x = 3, h = 4",
    "matrix times matrix-free chain": "a[t] = tanh(U x[t])\nh[t] = W a[t] + V h[t-1]\ndim x = 3, a = 2, h = 4",
}


@pytest.mark.parametrize("name", sorted(FUNCTION_MODELS))
def test_function_gradients_match_finite_differences(name):
    """Every function and operator gets the finite-difference gradient, through 3 steps."""
    model = rnnviz.load_model(FUNCTION_MODELS[name])
    target = f"sum({model.variables[-1]})"
    assert check_fd(model, target) > 0


@pytest.mark.parametrize("component", [0, 2])
def test_one_component_target(component):
    """A named component seeds only that entry, and matches finite differences."""
    model = rnnviz.load_model(FUNCTION_MODELS["softmax"])
    assert check_fd(model, f"y[3][{component}]") > 0


def test_batch_gradient_is_the_sum_over_the_batch():
    """With a batch, the target is summed over the batch; parameters match finite differences."""
    model = rnnviz.load_model(FUNCTION_MODELS["concat"])
    trace = forward(model, steps=3, batch=2)
    g = gradients(model, trace, "sum(h)")
    assert g.nodes[("h", 2)].shape == (2, 4) and g.inputs[("x", 1)].shape == (2, 3)
    assert check_fd(model, "sum(h)", batch=2) > 0


def test_batch_of_scalars():
    """Per-step scalars with a batch are stored (B, 1); gradients come back as (B,) and match."""
    model = rnnviz.load_model(FUNCTION_MODELS["scalar input and state"])
    g = gradients(model, forward(model, steps=3, batch=3), "h[3]")
    assert g.nodes[("h", 1)].shape == (3,) and g.initial[("h", 0)].shape == (3,)
    assert check_fd(model, "h[3]", batch=3) > 0


# An encoder-decoder runs two sequences (check_fd reads one); tests/numeric/test_encoder_decoder.py
# checks its gradients against finite differences.
EXAMPLES = [str(p.relative_to(p.parents[1])) for p in one_phase_example_paths()]


@pytest.mark.parametrize("path", EXAMPLES)
def test_examples_match_finite_differences(path):
    """Every example: parameters, inputs and initial states against finite differences."""
    model = rnnviz.load(path)
    last = model.variables[-1]
    steps = min(3, forward(model, keep_nodes=False).steps)  # an example's own sequence may be shorter
    assert check_fd(model, f"sum({last})", steps=steps) > 0


def _relu_by_hand(V, W, h0, xs, r0):
    """h_t = ReLU(V h_{t-1} + W x_t) and its BPTT, one scalar at a time, in plain Python."""
    def d(a):
        return 1.0 if a > 0 else (r0 if a == 0 else 0.0)
    hs, pre = [h0], []
    for x in xs:
        pre.append(V * hs[-1] + W * x)
        hs.append(max(pre[-1], 0.0))
    dV = dW = 0.0
    dh = 1.0
    dx = [0.0] * len(xs)
    for k in range(len(xs), 0, -1):  # the reversed loop of min-char-rnn
        da = dh * d(pre[k - 1])
        dV += da * hs[k - 1]
        dW += da * xs[k - 1]
        dx[k - 1] = da * W
        dh = da * V
    return hs, dV, dW, dx, dh


@pytest.mark.parametrize("xs", [(2, 3, 1), (2, 6, 1), (1, 1, 1)])
@pytest.mark.parametrize("r0", [0.0, 1.0])
def test_exercise_2_relu_rnn_by_hand(xs, r0):
    """Exercise 2's ReLU RNN: dh_3/dV, dh_3/dW, dh_3/dx_k, dh_3/dh_0 as computed by hand."""
    text = ("h_t = \\text{ReLU}(V \\cdot h_{t-1} + W \\cdot x_t)\n"
            f"V = -3, W = 3, h_0 = 0, x_1 = {xs[0]}, x_2 = {xs[1]} and x_3 = {xs[2]}\nrelu'(0) = {r0}")
    model = rnnviz.load_model(text)
    trace = forward(model)
    hs, dV, dW, dx, dh0 = _relu_by_hand(-3.0, 3.0, 0.0, [float(x) for x in xs], r0)
    assert [float(trace.value("h", t)) for t in range(4)] == hs
    g = gradients(model, trace, "h[3]")
    assert float(g.params["V"]) == dV
    assert float(g.params["W"]) == dW
    assert [float(g.inputs[("x", t)]) for t in (1, 2, 3)] == dx
    assert float(g.initial[("h", 0)]) == dh0


@pytest.mark.parametrize("r0, expected_dV", [(0.0, 0.0), (1.0, -18.0)])
def test_relu_derivative_at_zero_decides(r0, expected_dV):
    """With x_2 = 6 the ReLU input at step 2 is exactly 0: dh_3/dV = V h_1 relu'(0) = -18 relu'(0)."""
    model = rnnviz.load_model("h_t = ReLU(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 6, 1]")
    if r0:
        model = model.with_values(rnnviz.parse_text("relu'(0) = 1"))
    V, h1 = -3.0, 6.0
    g = gradients(model, forward(model), "h[3]")
    assert float(g.params["V"]) == V * h1 * r0 == expected_dV


def test_nodes_cover_every_variable_input_and_initial_state():
    """Gradients.nodes holds d target / d every value of the unrolled graph, shaped as the values."""
    model = rnnviz.load("examples/vanilla.rnn")
    trace = forward(model, steps=4)
    g = gradients(model, trace, "y[3]")
    for name in model.variables:
        for t in range(1, 5):
            assert g.nodes[(name, t)].shape == np.shape(trace.value(name, t))
    assert ("h", 0) in g.nodes and ("x", 4) in g.nodes
    # Nothing after the target's step feeds it.
    assert not g.nodes[("h", 4)].any() and not g.nodes[("x", 4)].any()
    assert g.nodes[("y", 3)].tolist() == [1.0, 1.0]


def test_json_uses_canonical_names_and_shapes():
    """to_json: {"of", "grad"} with canonical names, numbers for scalars, lists in the parameter's shape."""
    model = rnnviz.load("examples/relu_1d.rnn")
    g = gradients(model, forward(model), "h_3")
    data = json.loads(g.to_json())
    assert data["of"] == "h[3]"
    assert set(data["grad"]) == {"V", "W", "x[1]", "x[2]", "x[3]", "h[0]"}
    assert data["grad"]["W"] == 1.0
    vm = rnnviz.load("examples/vanilla.rnn")
    gv = gradients(vm, forward(vm, steps=2), "y[2][1]")
    arr = json.loads(gv.to_json(["W_hh", "x[1]"]))["grad"]
    assert np.shape(arr["W_hh"]) == (5, 5) and np.shape(arr["x[1]"]) == (3,)


@pytest.mark.parametrize("words, expected", [
    (["V"], ["V"]),
    (["x[1]", "x_2"], ["x[1]", "x[2]"]),
    (["x"], ["x[1]", "x[2]", "x[3]"]),
    (["h[0]", "h"], ["h[0]"]),
])
def test_select_wrt(words, expected):
    """--wrt words name parameters, inputs at a step, every step of an input, initial states."""
    model = rnnviz.load("examples/relu_1d.rnn")
    g = gradients(model, forward(model), "h[3]")
    assert select(model, g, words) == expected


@pytest.mark.parametrize("word, message", [
    ("Q", "not a parameter, input or initial state"),
    ("h[2]", "not an initial state"),
    ("x[7]", "at steps 1..3"),
    ("V[1]", "has no steps"),
])
def test_select_rejects(word, message):
    """A --wrt word that names nothing differentiable is a TargetError that says why."""
    model = rnnviz.load("examples/relu_1d.rnn")
    g = gradients(model, forward(model), "h[3]")
    with pytest.raises(TargetError, match=message.replace("[", r"\[")):
        select(model, g, [word])


@pytest.mark.parametrize("target, message", [
    ("h[9]", "beyond the last step"),
    ("h[3][4]", "has 1 entry"),
    ("k[1]", "not a variable"),
])
def test_bad_targets_for_a_run(target, message):
    """Steps beyond the run and components out of range are TargetErrors."""
    model = rnnviz.load("examples/relu_1d.rnn")
    with pytest.raises(TargetError, match=message.replace("[", r"\[")):
        gradients(model, forward(model), target)


def test_state_grad_norms_follow_the_chain_rule():
    """The norm at step t-1 is the norm at t times |w tanh'(a_t)| for a scalar tanh RNN."""
    model = rnnviz.load_model("h_t = tanh(w h_{t-1} + x_t)\nw = 0.9, h_0 = 0.1, x = [0.5, -0.2, 0.3, 0.1]")
    trace = forward(model)
    norms = state_grad_norms(model, trace, "h[4]")["h"]
    assert len(norms) == 5 and norms[4] == 1.0
    for t in range(4, 0, -1):
        h = float(trace.value("h", t))
        assert norms[t - 1] == pytest.approx(norms[t] * abs(0.9 * (1 - h * h)))


@pytest.mark.parametrize("source, expected_keys", [
    ("examples/vanilla.rnn", {"W_hh"}),
    ("examples/gru.rnn", {"W_z[:, h]", "W_r[:, h]"}),
    ("examples/lstm.rnn", {"U_f", "U_i", "U_o", "U_c"}),
    ("examples/two_layer.rnn", {"V", "W", "S"}),
])
def test_recurrent_spectra(source, expected_keys):
    """Square weights on previous states: spectral radius <= largest singular value."""
    model = rnnviz.load(source)
    spectra = recurrent_spectra(model, forward(model, steps=2))
    assert expected_keys <= set(spectra)
    for rho, sigma in spectra.values():
        assert 0 <= rho <= sigma + 1e-12


def test_spectral_radius_of_a_known_matrix():
    """A rotation scaled by 0.5 has spectral radius 0.5 and largest singular value 0.5."""
    model = rnnviz.load_model("h[t] = tanh(W h[t-1] + x[t])\nW = [[0, -0.5], [0.5, 0]]\ndim x = 2")
    (rho, sigma), = recurrent_spectra(model, forward(model, steps=1)).values()
    assert rho == pytest.approx(0.5) and sigma == pytest.approx(0.5)


def test_gradient_overflow_is_reported():
    """A gradient that overflows is a NumericError naming the target, never inf in the output."""
    from rnnviz.errors import NumericError

    model = rnnviz.load_model("h[t] = w h[t-1] + x[t]\nw = 1, h_0 = 0, x = [1, 0, 0]")
    # Finite values (h_3 = 1e100), but dh_3/dh_0 = w^3 = 1e600.
    trace = forward(model, values={"w": 1e200, "x": [1e-300, 0.0, 0.0]})
    with pytest.raises(NumericError, match="gradient of h\\[3\\]"):
        gradients(model, trace, "h[3]")
