"""The numpy forward pass: values per step, intermediates, batches, steps, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz import ShapeError, ValueSpecError, load, load_model
from rnnviz.errors import NumericError
from rnnviz.language.expr import walk
from rnnviz.numeric.forward_pass import DEFAULT_STEPS, forward, random_parameter

VANILLA = "h[t] = tanh(W_hh h[t-1] + W_xh x[t] + b_h)\ny[t] = W_hy h[t] + b_y\ndim x = 3, h = 5, y = 2\n"


def test_relu_rnn_by_hand():
    """The one-dimensional ReLU RNN gives h = 6, 0, 3 and keeps h_0."""
    m = load_model("h_t = relu(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1")
    tr = forward(m)
    assert [float(v) for v in tr.values["h"]] == [0.0, 6.0, 0.0, 3.0]
    assert tr.values["x"][0] is None


def test_vanilla_matches_plain_numpy():
    """Drawn weights and inputs give what the equations say, step by step."""
    tr = forward(load_model(VANILLA), steps=4, seed=3)
    p = tr.params
    h = np.zeros(5)
    for t in range(1, 5):
        x = tr.value("x", t)
        h = np.tanh(p["W_hh"] @ h + p["W_xh"] @ x + p["b_h"])
        np.testing.assert_allclose(tr.value("h", t), h, atol=1e-12)
        np.testing.assert_allclose(tr.value("y", t), p["W_hy"] @ h + p["b_y"], atol=1e-12)


def test_every_node_is_kept_per_step():
    """trace.node(target, index, t) holds each node of the tree, leaves included."""
    m = load_model(VANILLA)
    tr = forward(m, steps=3)
    eq = m.equation("h")
    nodes = list(walk(eq.expr))
    for t in range(1, 4):
        assert np.array_equal(tr.node("h", 0, t), tr.value("h", t))
        for i, n in enumerate(nodes):
            v = tr.node("h", i, t)
            assert np.shape(v) == tr.shapes.node("h", i)
            if type(n).__name__ == "Var":
                assert np.array_equal(v, tr.value(n.name, t - n.delay))
            if type(n).__name__ == "Param":
                assert v is tr.params[n.name]


def test_plan_names_each_op():
    """The plan tells which op each node ran, so backprop can walk it."""
    tr = forward(load_model(VANILLA), steps=1)
    ops = [p.op.name if p.op else None for p in tr.plan["h"]]
    assert ops == ["tanh", "add", "add", "matvec", None, None, "matvec", None, None, None]


def test_batch_equals_separate_runs():
    """A batch of B runs equals B runs of one, entry by entry."""
    m = load_model(VANILLA)
    tb = forward(m, steps=4, batch=3, seed=1)
    xs = np.stack([tb.value("x", t) for t in range(1, 5)])
    assert xs.shape == (4, 3, 3)
    for b in range(3):
        one = forward(m, values={**tb.params, "x": xs[:, b]})
        for t in range(1, 5):
            np.testing.assert_allclose(tb.value("y", t)[b], one.value("y", t), atol=1e-12)


def test_batched_scalars_come_back_as_vectors_of_the_batch():
    """With a batch, a scalar variable reads back as shape (B,)."""
    m = load_model("h_t = relu(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    tr = forward(m, batch=4)
    assert tr.value("h", 1).shape == (4,)
    assert tr.value("h", 1).tolist() == [6.0] * 4


def test_seed_draws_parameters_reproducibly():
    """The same seed gives the same weights; another seed other weights."""
    m = load_model(VANILLA)
    a, b, c = forward(m, seed=0, steps=1), forward(m, seed=0, steps=1), forward(m, seed=1, steps=1)
    assert np.array_equal(a.params["W_hh"], b.params["W_hh"])
    assert not np.array_equal(a.params["W_hh"], c.params["W_hh"])


def test_random_parameters_follow_pytorch_bounds():
    """Drawn weights lie within 1/sqrt(fan-in)."""
    w = random_parameter("W", (50, 16), 7)
    assert np.abs(w).max() <= 1 / math.sqrt(16)
    assert np.abs(w).max() > 0.2  # and they use the range


def test_steps_default_and_option():
    """T is the input length, or DEFAULT_STEPS without inputs, or the steps asked for."""
    m = load_model("h[t] = tanh(W h[t-1] + U x[t])\nx = [1, 2, 3, 4]\ndim h = 2")
    assert forward(m).steps == 4
    assert forward(m, steps=2).steps == 2
    assert forward(load_model(VANILLA)).steps == DEFAULT_STEPS


def test_sequence_too_short_for_steps():
    """Asking for more steps than the sequence holds names the sequence's line."""
    m = load_model("h[t] = tanh(W h[t-1] + U x[t])\ndim h = 2\nx = [1, 2]")
    with pytest.raises(ValueSpecError) as info:
        forward(m, steps=3)
    assert info.value.span.line == 3 and "2 steps" in info.value.message


def test_gap_in_sequence_is_an_error():
    """x_1 and x_3 without x_2 is an error."""
    m = load_model("h[t] = W h[t-1] + x[t]\nW = 1\nx_1 = 1, x_3 = 2")
    with pytest.raises(ValueSpecError):
        forward(m)


def test_read_ahead_shortens_the_run():
    """An equation reading x[t+1] runs one step less than the sequence is long."""
    m = load_model("h[t] = h[t-1] + x[t+1]\nx = [1, 2, 3]")
    tr = forward(m)
    assert tr.steps == 2
    assert [float(tr.value("h", t)) for t in (1, 2)] == [2.0, 5.0]


def test_delay_two_uses_both_initial_values():
    """h[t] = h[t-1] + h[t-2] with h[-1] = 1, h[0] = 1 gives Fibonacci numbers."""
    m = load_model("h[t] = h[t-1] + h[t-2]\nh[-1] = 1, h_0 = 1")
    tr = forward(m, steps=5)
    assert [float(tr.value("h", t)) for t in range(-1, 6)] == [1, 1, 2, 3, 5, 8, 13]


def test_vector_initial_state_broadcasts_a_scalar():
    """h_0 = 1 for a vector state fills every entry."""
    m = load_model("h[t] = W h[t-1]\ndim h = 3\nh_0 = 1")
    assert forward(m, steps=1).value("h", 0).tolist() == [1.0, 1.0, 1.0]


def test_initial_state_of_wrong_size():
    """A vector initial value of the wrong size is a ShapeError."""
    m = load_model("h[t] = W h[t-1]\ndim h = 3\nh_0 = [1, 2]")
    with pytest.raises(ShapeError):
        forward(m, steps=1)


@pytest.mark.parametrize("binding,expected", [("tanh", math.tanh(0.5)), ("relu", 0.5), ("identity", 0.5)])
def test_generic_activation_bound_by_value(binding, expected):
    """f = tanh gives the generic activation its meaning."""
    m = load_model(f"h[t] = f(x[t])\nf = {binding}\nx = [0.5]")
    tr = forward(m)
    assert float(tr.value("h", 1)) == pytest.approx(expected)
    assert tr.functions == {"f": binding}


def test_unbound_generic_activation_is_an_error():
    """An activation f without f = ... cannot be computed, and the error says how to fix it."""
    m = load_model("h[t] = f(W h[t-1] + x[t])\nW = 1\nx = [1]")
    with pytest.raises(ValueSpecError) as info:
        forward(m)
    assert "f = tanh" in info.value.hint


@pytest.mark.parametrize("text,variable,step", [
    ("h[t] = exp(W h[t-1] + x[t])\nW = 10, h_0 = 1\nx = [1, 2, 3, 4, 5]", "h", 2),
    ("h[t] = log(h[t-1] + x[t])\nh_0 = 0\nx = [1, -3, 3]", "h", 2),
    ("h[t] = W h[t-1]\nW = 1e200, h_0 = 1e200", "h", 1),
    ("y[t] = exp(x[t])\nx = [1, 1000]", "y", 2),
])
def test_overflow_and_nan_name_variable_and_step(text, variable, step):
    """Overflow or NaN raises a NumericError naming the variable and the step."""
    with pytest.raises(NumericError) as info:
        forward(load_model(text), steps=None if "x" in text else 3)
    assert (info.value.variable, info.value.step) == (variable, step)
    assert f"{variable}[{step}]" in info.value.message
    assert info.value.span is not None


def test_a_value_that_goes_infinite_and_back_is_named_at_its_step():
    """inf at g[1] turns finite again in c[1] = tanh(g[1]); the error still names g[1], with
    later steps that raise nothing (the steps are checked a block at a time, then again
    step by step when a block went wrong)."""
    m = load_model("g[t] = 2 c[t-1] + x[t]\nc[t] = tanh(g[t])\nx = [1, 2, 3]")
    with pytest.raises(NumericError) as info:
        forward(m, values={"c": np.inf})
    assert (info.value.variable, info.value.step) == ("g", 1)
    m = load_model("h[t] = tanh(W h[t-1] + x[t])\nW = 1\nx = [1, 2, 3, 4]")
    with pytest.raises(NumericError) as info:
        forward(m, values={"W": 1e308, "x": [0.0, 0.0, 1.0, 1.5e308]})
    assert (info.value.variable, info.value.step) == ("h", 4)


def test_softmax_and_sigmoid_are_stable():
    """Huge pre-activations give finite probabilities, not overflow errors."""
    m = load_model("y[t] = softmax(x[t])\nz[t] = sigmoid(x[t])\nx = [[1000, 1000], [-1000, 0]]")
    tr = forward(m)
    assert tr.value("y", 1).tolist() == [0.5, 0.5]
    assert tr.value("z", 2).tolist() == [0.0, 0.5]


def test_python_values_override_the_file():
    """values= wins over the file for parameters, inputs and initial states."""
    m = load_model("h_t = relu(V h_{t-1} + W x_t)\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    tr = forward(m, values={"W": 1.0, "x": [1.0, 1.0], "h": 2.0})
    assert [float(v) for v in tr.values["h"]] == [2.0, 0.0, 1.0]


def test_python_values_for_unknown_names_are_refused():
    """A Python value for a name the equations never use is an error."""
    with pytest.raises(ValueSpecError):
        forward(load_model(VANILLA), values={"Q": 1.0})


def test_keep_nodes_false_still_gives_values():
    """Without intermediates the variables are still all there."""
    tr = forward(load_model(VANILLA), steps=3, keep_nodes=False)
    assert len(tr.values["h"]) == 4
    with pytest.raises(ValueError):
        tr.node("h", 0, 1)


def test_every_example_runs(example_path):
    """Every bundled example runs and gives finite values for every variable."""
    tr = forward(load(str(example_path)))
    for name, vals in tr.values.items():
        # None: no value at that step (a context is computed once, at the encoder's last step).
        assert all(np.isfinite(v).all() for v in vals[1:] if v is not None), name
        assert any(v is not None for v in vals[1:]), name


@pytest.mark.parametrize("batch", [None, 3])
def test_odd_trees_compute_what_they_say(batch):
    """Row vectors, concatenations with scalars, negation, constant and input-only equations."""
    text = ("a[t] = x[t] W + h[t-1] V\n"            # row-vector convention
            "h[t] = tanh(-a[t] + P [s[t], x[t]])\n"  # negation; a scalar inside a concatenation
            "s[t] = 2 * u[t] - 1\n"                 # a scalar per step, from an input only
            "k[t] = b\n"                            # a constant equation
            "dim x = 2, h = 3, k = 3\nu = [0.5, 1.5, -1]")
    m = load_model(text)
    tr = forward(m, batch=batch, seed=4)
    p = tr.params
    h = np.zeros(3)
    for t in range(1, 4):
        x = tr.value("x", t)
        x0 = x if batch is None else x[0]
        s = 2 * [0.5, 1.5, -1][t - 1] - 1
        a = x0 @ p["W"] + h @ p["V"]
        h = np.tanh(-a + p["P"] @ np.concatenate([[s], x0]))
        got = {n: tr.value(n, t) if batch is None else tr.value(n, t)[0] for n in ("a", "h", "s", "k")}
        np.testing.assert_allclose(got["a"], a, atol=1e-12)
        np.testing.assert_allclose(got["h"], h, atol=1e-12)
        assert float(got["s"]) == s
        np.testing.assert_allclose(got["k"], p["b"])
        if batch is not None:
            assert tr.value("k", t).shape == (batch, 3) and tr.value("s", t).shape == (batch,)


def test_input_read_one_step_back_starts_from_zero():
    """x[t-1] at t = 1 reads x[0], zero unless given."""
    tr = forward(load_model("h[t] = x[t-1]\nx = [1, 2, 3]"))
    assert [float(tr.value("h", t)) for t in (1, 2, 3)] == [0.0, 1.0, 2.0]
    tr = forward(load_model("h[t] = x[t-1]\nx = [1, 2, 3]\nx_0 = 9"))
    assert float(tr.value("h", 1)) == 9.0


def _naive(model, tr):
    """A plain recursive interpreter of the trees, step by step, with the trace's own inputs."""
    from rnnviz.language import expr as X
    from rnnviz.numeric.ops import sigmoid, softmax

    funcs = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda v: np.maximum(v, 0), "softmax": softmax,
             "exp": np.exp, "log": np.log, "identity": lambda v: v, "square": lambda v: v * v,
             "sumsq": lambda v: np.sum(np.asarray(v) ** 2), "sum": np.sum,
             "logsoftmax": lambda v: np.log(softmax(v))}
    hist = {n: dict(steps) for n, steps in tr.inputs.items()}
    hist.update({n: dict(steps) for n, steps in tr.initial.items()})

    def ev(e, t):
        if isinstance(e, X.Num):
            return e.value
        if isinstance(e, X.Param):
            return tr.params[e.name]
        if isinstance(e, X.Var):
            return hist[e.name][t - e.delay]
        if isinstance(e, X.Call):
            return funcs[tr.functions.get(e.func, e.func)](ev(e.arg, t))
        if isinstance(e, X.Concat):
            return np.concatenate([np.atleast_1d(ev(i, t)) for i in e.items])
        if isinstance(e, X.Neg):
            return -ev(e.operand, t)
        if isinstance(e, X.EMul) and isinstance(e.left, X.Call) and e.left.func == "onehot":
            # A cross-entropy's target: a class index picks its entry of the vector beside it.
            scores, y = np.atleast_1d(ev(e.right, t)), np.asarray(ev(e.left.arg, t))
            return (np.eye(scores.size)[int(y.ravel()[0])] if y.size == 1 else y) * scores
        a, b = ev(e.left, t), ev(e.right, t)
        if isinstance(e, X.Add):
            return a + b
        if isinstance(e, X.Sub):
            return a - b
        if isinstance(e, X.Prod) and np.ndim(a) == 2 and np.ndim(b) >= 1:
            return a @ b
        if isinstance(e, X.Prod) and np.ndim(a) == 1 and np.ndim(b) == 2:
            return a @ b
        return a * b

    # No schedule of its own to trust: compute any (variable, step) whose reads are all known,
    # until every one is (a backward chain fills in from T down, whatever the sweeps say).
    todo = [(eq, t) for eq in model.equations for t in range(1, tr.steps + 1)]
    while todo:
        ready = [(eq, t) for eq, t in todo
                 if all(t - v.delay in hist.get(v.name, {}) for v in X.walk(eq.expr) if isinstance(v, X.Var))]
        assert ready, "no equation can be computed: the model's order in time is broken"
        for eq, t in ready:
            hist.setdefault(eq.target, {})[t] = ev(eq.expr, t)
        todo = [item for item in todo if item not in ready]
    return hist


NAIVE_MODELS = [
    "h[t] = tanh(W h[t-1] + V h[t-2] + U x[t] + Q x[t+1] + R x[t-1])\ndim x = 2, h = 3",
    "h[t] = f(x[t] W + h[t-1] V)\nf = sigmoid\ndim x = 2, h = 4",
    "g[t] = sigmoid(A [h[t-1], x[t], s[t-1]])\ns[t] = g[t] s[t-1] + (1 - g[t]) * tanh(B x[t])\n"
    "h[t] = exp(-s[t] * s[t])\ndim x = 3, h = 2, s = 2",
    "y[t] = softmax(P x[t] + 0.5)\nz[t] = log(1 + y[t] * y[t])\ndim x = 3, y = 4",
    "h[t] = tanh(W h[t-1] + U x[t])\ng[t] = tanh(R g[t+1] + S [x[t], h[t]])\n"
    "q[t] = tanh(A q[t-1] + B g[t+1] + C g[t])\ndim x = 2, h = 3, g = 2, q = 2",
]


@pytest.mark.parametrize("text", NAIVE_MODELS + [None], ids=[f"model{i}" for i in range(len(NAIVE_MODELS))] + ["examples"])
def test_compiled_plan_matches_a_naive_interpreter(text, examples_dir):
    """The compiled, hoisted plan computes what a plain recursive walk of the trees computes."""
    models = [load_model(text)] if text else [load(str(p)) for p in sorted(examples_dir.glob("*.rnn"))]
    for m in models:
        tr = forward(m, seed=5)
        # An encoder-decoder is two runs, each of its own model (the contexts computed once: not here).
        runs = [(tr.encoder.model, tr.encoder), (tr.decoder.model, tr.decoder)] if m.phases else [(m, tr)]
        for sub, run in runs:
            want = _naive(sub, run)
            for name in (n for n in sub.variables if n not in sub.once):
                for t in range(1, run.steps + 1):
                    np.testing.assert_allclose(run.value(name, t), want[name][t], atol=1e-12, err_msg=f"{name}[{t}]")


def test_values_step_zero_only_where_something_is_read_back():
    """values[name][0] is the initial state, x_0 for an input read at t-1, else None."""
    tr = forward(load_model("h[t] = h[t-1] + x[t-1] + y[t]\nx = [1, 2]\ny = [1, 1]\nx_0 = 4, h_0 = 1"))
    assert float(tr.values["h"][0]) == 1.0 and float(tr.values["x"][0]) == 4.0
    assert tr.values["y"][0] is None


LSTM_SMALL = """
f[t] = sigmoid(W_f x[t] + U_f h[t-1] + b_f)
i[t] = sigmoid(W_i x[t] + U_i h[t-1] + b_i)
o[t] = sigmoid(W_o x[t] + U_o h[t-1] + b_o)
c~[t] = tanh(W_c x[t] + U_c h[t-1] + b_c)
c[t] = f[t] * c[t-1] + i[t] * c~[t]
h[t] = o[t] * tanh(c[t])
dim x = 3, h = 4
"""


@pytest.mark.parametrize("batch, steps", [(None, 4), (3, 300)])
def test_lean_trace_gives_every_node_and_gradient_of_the_full_one(batch, steps):
    """keep_nodes="backward" lets sums go, yet every node and every gradient is bit for bit the same.

    300 steps run the hoisted products in more than one block of steps.
    """
    from rnnviz.numeric.grad import gradients

    m = load_model(LSTM_SMALL)
    full = forward(m, batch=batch, steps=steps, seed=2, keep_nodes=True)
    lean = forward(m, batch=batch, steps=steps, seed=2)
    for eq in m.equations:
        for t in (1, 2, steps // 2, steps):
            for a, b in zip(full.nodes(eq.target, t), lean.nodes(eq.target, t)):
                assert np.array_equal(a, b), (eq.target, t)
    g_full, g_lean = gradients(m, full, "sum(h)"), gradients(m, lean, "sum(h)")
    for k in g_full.params:
        assert np.array_equal(g_full.params[k], g_lean.params[k]), k
    assert g_full.nodes.keys() == g_lean.nodes.keys()
    assert all(np.array_equal(g_full.nodes[k], g_lean.nodes[k]) for k in g_full.nodes)


def test_lean_trace_keeps_only_what_backward_reads():
    """Of an LSTM gate sigmoid(W x + U h + b), the step keeps the gate, not W x, U h or the sums."""
    m = load_model(LSTM_SMALL)
    tr = forward(m, batch=2, steps=3)
    plan, kept = tr.plan["f"], tr._nodes["f"][0]
    let_go = {type(plan[i].expr).__name__ for i, v in enumerate(kept) if v is None}
    assert let_go == {"Add", "Prod"}
    assert kept[0] is not None
    # h = o * tanh(c): tanh(c) is a factor of a product, so it is kept.
    h_plan, h_kept = tr.plan["h"], tr._nodes["h"][0]
    assert all(v is not None for p, v in zip(h_plan, h_kept))
