"""Each operation's forward and backward, side by side (micrograd's shape).

An :class:`Op` has ``forward(*inputs, ctx) -> out`` and
``backward(inputs, out, grad_out, ctx) -> tuple of grads`` (one per input, in
the input's own shape). ``ctx`` is a small dict of static attributes fixed when
the model is compiled (``relu_prime0``, concatenation ``sizes``, ``batch``).

Array conventions (the forward pass and backprop share them): without a batch
a step's value is ``()`` (scalar) or ``(n,)``; with a batch of B every per-step
array has a leading axis, and a per-step scalar is stored as ``(B, 1)`` so that
it broadcasts against vectors. Parameters never have a batch axis: ``()``,
``(n,)`` or ``(m, n)``. Products of a matrix and a vector are written so that
the same code serves both cases: ``W x`` is ``x @ W.T`` (``matvec``) and
``x W`` is ``x @ W`` (``vecmat``).

Example:
    >>> import numpy as np
    >>> W, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])
    >>> op = OPS["matvec"]
    >>> out = op.forward(W, x, ctx={})
    >>> out
    array([3., 7.])
    >>> dW, dx = op.backward((W, x), out, np.array([1.0, 0.0]), {})
    >>> dW.tolist(), dx.tolist()
    ([[1.0, 1.0], [0.0, 0.0]], [1.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Op", "OPS", "unbroadcast", "sigmoid", "softmax", "FUNCTION_OPS"]

Ctx = dict


@dataclass(frozen=True)
class Op:
    """One operation: ``forward(*inputs, ctx=...)`` and ``backward(inputs, out, grad_out, ctx)``."""

    name: str
    forward: Callable[..., np.ndarray]
    backward: Callable[[tuple, np.ndarray, np.ndarray, Ctx], tuple]
    #: The same forward without ``ctx`` (a numpy ufunc), for the step loop's sake.
    fast: Callable[..., np.ndarray] | None = None
    #: What ``backward`` reads the values of: ``"inputs"``, ``"out"``, both, or neither
    #: (then only their shapes). The forward pass keeps only those values by default.
    needs: tuple[str, ...] = ("inputs", "out")


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of numpy broadcasting.

    Example:
        >>> unbroadcast(np.ones((4, 3)), (3,)).tolist(), float(unbroadcast(np.ones(3), ()))
        ([4.0, 4.0, 4.0], 3.0)
    """
    grad = np.asarray(grad)
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _shape(a) -> tuple[int, ...]:
    return np.shape(a)


# -- arithmetic ---------------------------------------------------------------

def _add_b(inputs, out, g, ctx):
    a, b = inputs
    return unbroadcast(g, _shape(a)), unbroadcast(g, _shape(b))


def _sub_b(inputs, out, g, ctx):
    a, b = inputs
    return unbroadcast(g, _shape(a)), unbroadcast(-g, _shape(b))


def _neg_b(inputs, out, g, ctx):
    return (-g,)


def _mul_b(inputs, out, g, ctx):
    a, b = inputs
    return unbroadcast(g * b, _shape(a)), unbroadcast(g * a, _shape(b))


# -- products of matrices and vectors -----------------------------------------

def _outer_sum(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum over the batch of g[:, None] * x[None, :] (just the outer product without a batch)."""
    if g.ndim == 1:
        return np.multiply.outer(g, x)
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


def _matvec_f(W, x, *, ctx):
    if x.ndim > 2:  # a stacked sequence: one big product, not one per step
        return (x.reshape(-1, x.shape[-1]) @ W.T).reshape(x.shape[:-1] + (W.shape[0],))
    return x @ W.T


def _matvec_b(inputs, out, g, ctx):
    W, x = inputs
    return _outer_sum(g, x), g @ W


def _vecmat_f(x, W, *, ctx):
    if x.ndim > 2:
        return (x.reshape(-1, x.shape[-1]) @ W).reshape(x.shape[:-1] + (W.shape[1],))
    return x @ W


def _vecmat_b(inputs, out, g, ctx):
    x, W = inputs
    return g @ W.T, _outer_sum(x, g)


def _matmul_b(inputs, out, g, ctx):
    A, B = inputs
    return g @ B.T, A.T @ g


# -- concatenation --------------------------------------------------------------

def _concat_f(*items, ctx):
    # ctx: "sizes" (entries of each item), "batched" (whether each item has the batch
    # axis) and "lead" (the batch shape, () without one). Scalars become 1-vectors and
    # parameters are broadcast over the batch.
    lead = ctx["lead"]
    parts = [np.broadcast_to(np.reshape(a, (lead if bat else ()) + (n,)), lead + (n,))
             for a, n, bat in zip(items, ctx["sizes"], ctx["batched"])]
    return np.concatenate(parts, axis=-1)


def _concat_b(inputs, out, g, ctx):
    grads = []
    start = 0
    for a, n, bat in zip(inputs, ctx["sizes"], ctx["batched"]):
        piece = g[..., start:start + n]
        start += n
        piece = unbroadcast(piece, (ctx["lead"] if bat else ()) + (n,))
        grads.append(piece.reshape(_shape(a)))
    return tuple(grads)


# -- functions ----------------------------------------------------------------------

def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for large |x|.

    Example:
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so that exp never overflows.

    Example:
        >>> softmax(np.array([1000.0, 1000.0])).tolist()
        [0.5, 0.5]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _relu_f(x, *, ctx):
    return np.maximum(x, 0.0)


def _relu_b(inputs, out, g, ctx):
    (x,) = inputs
    slope = np.where(x > 0, 1.0, np.where(x == 0, ctx.get("relu_prime0", 0.0), 0.0))
    return (g * slope,)


def _softmax_b(inputs, out, g, ctx):
    if np.ndim(out) == 0:
        return (np.zeros_like(g),)
    return (out * (g - (g * out).sum(axis=-1, keepdims=True)),)


def _unary(name: str, f, df_from_x_out, needs: tuple[str, ...]) -> Op:
    """An element-wise function; ``df_from_x_out(x, out)`` is its derivative, reading ``needs``."""
    return Op(name, lambda x, *, ctx: f(x), lambda inputs, out, g, ctx: (g * df_from_x_out(inputs[0], out),), f,
              needs)


OPS: dict[str, Op] = {
    "add": Op("add", lambda a, b, *, ctx: a + b, _add_b, np.add, ()),
    "sub": Op("sub", lambda a, b, *, ctx: a - b, _sub_b, np.subtract, ()),
    "neg": Op("neg", lambda a, *, ctx: -a, _neg_b, np.negative, ()),
    "mul": Op("mul", lambda a, b, *, ctx: a * b, _mul_b, np.multiply, ("inputs",)),
    "matvec": Op("matvec", _matvec_f, _matvec_b, lambda W, x: x @ W.T, ("inputs",)),
    "vecmat": Op("vecmat", _vecmat_f, _vecmat_b, np.matmul, ("inputs",)),
    "matmul": Op("matmul", lambda a, b, *, ctx: a @ b, _matmul_b, np.matmul, ("inputs",)),
    "concat": Op("concat", _concat_f, _concat_b, None, ()),
    "tanh": _unary("tanh", np.tanh, lambda x, y: 1.0 - y * y, ("out",)),
    "sigmoid": _unary("sigmoid", sigmoid, lambda x, y: y * (1.0 - y), ("out",)),
    "relu": Op("relu", _relu_f, _relu_b, lambda x: np.maximum(x, 0.0), ("inputs",)),
    "softmax": Op("softmax", lambda x, *, ctx: softmax(x), _softmax_b, softmax, ("out",)),
    "exp": _unary("exp", np.exp, lambda x, y: y, ("out",)),
    "log": _unary("log", np.log, lambda x, y: 1.0 / x, ("inputs",)),
    "identity": Op("identity", lambda x, *, ctx: x, lambda inputs, out, g, ctx: (g,), lambda x: x, ()),
}

#: The language's functions (rnnviz.language.expr.FUNCTIONS) -> their op.


def _sumsq_f(x, *, ctx):
    """The squared norm of each step's vector: ``(B, n) -> (B, 1)``, ``(n,) -> ()``."""
    x = np.asarray(x)
    return np.sum(x * x, axis=-1, keepdims=x.ndim >= 2) if x.ndim else x * x


def _sumsq_b(inputs, out, g, ctx):
    x = np.asarray(inputs[0])
    return (2.0 * x * np.asarray(g),)


def _sum_f(x, *, ctx):
    """The sum of each step's vector: ``(B, n) -> (B, 1)``, ``(n,) -> ()``; a number stays itself."""
    x = np.asarray(x)
    return np.sum(x, axis=-1, keepdims=x.ndim >= 2) if x.ndim else x


def _sum_b(inputs, out, g, ctx):
    return (np.broadcast_to(np.asarray(g), np.shape(inputs[0])).copy(),)


def _logsoftmax_f(x, *, ctx):
    """``log softmax(x)`` over the last axis, as ``x - logsumexp(x)``: finite where softmax underflows."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return np.zeros_like(x)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _logsoftmax_b(inputs, out, g, ctx):
    if np.ndim(out) == 0:
        return (np.zeros_like(g),)
    return (g - np.exp(out) * g.sum(axis=-1, keepdims=True),)


def _onehot_f(x, *, ctx):
    """The target of a cross-entropy as a vector over the classes.

    With ``ctx["index"]`` the target is a class index, 0 .. ``ctx["classes"]`` - 1 (as
    ``nn.CrossEntropyLoss`` takes it): a number, or ``(..., 1)`` with a batch or along
    time, becomes its one-hot row. Otherwise it already is a vector over the classes (a
    one-hot vector or probabilities) and passes through. The forward pass checks the
    indices before it runs (:func:`rnnviz.numeric.forward_pass.forward`).
    """
    if not ctx["index"]:
        return x
    x = np.asarray(x)
    idx = (x if x.ndim == 0 else x[..., 0]).astype(np.int64)
    return np.eye(ctx["classes"])[idx]


def _onehot_b(inputs, out, g, ctx):
    if ctx["index"]:
        return (np.zeros(np.shape(inputs[0])),)  # a class index has no derivative
    return (g,)


OPS["square"] = _unary("square", np.square, lambda x, out: 2.0 * x, ("inputs",))
OPS["sumsq"] = Op("sumsq", _sumsq_f, _sumsq_b, None, ("inputs",))
OPS["sum"] = Op("sum", _sum_f, _sum_b, None, ())
OPS["logsoftmax"] = Op("logsoftmax", _logsoftmax_f, _logsoftmax_b, None, ("out",))
OPS["onehot"] = Op("onehot", _onehot_f, _onehot_b, None, ())

FUNCTION_OPS = {name: OPS[name] for name in ("tanh", "sigmoid", "relu", "softmax", "exp", "log", "identity",
                                             "square", "sumsq", "sum", "logsoftmax", "onehot")}
