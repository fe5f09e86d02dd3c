"""Value lines -> arrays: parameters, initial states, input sequences and sizes.

The parser and the model already read every value line (``Model.values``, in
the order given: the equation file, then ``--values`` files, then ``--set``).
This module turns them into numpy arrays, keeping each value's span so that a
later shape check can point at the line that gave it. Later lines win: a whole
sequence ``x = [...]`` replaces every earlier step of ``x``, a single step
``x_2 = 5`` replaces that step only.

The first axis of an input sequence is time: ``x = [0.7, 0.5, 0.7]`` is three
scalar steps x[1..3], ``x = [[1, 2], [3, 4]]`` two steps of a 2-vector.

Example:
    >>> from rnnviz import load_model
    >>> m = load_model("h_t = relu(V h_{t-1} + W x_t)\\nV = -3, W = 3, h_0 = 0, x = [2, 3, 1]")
    >>> g = given_values(m)
    >>> float(g.params["V"]), sorted(g.inputs["x"]), float(g.initial["h"][0])
    (-3.0, [1, 2, 3], 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ShapeError, Span, ValueSpecError

if TYPE_CHECKING:  # numpy is imported lazily, see to_array
    import numpy as np

    from ..language import Model

__all__ = ["Given", "given_values", "to_array", "describe_shape"]


@dataclass
class Given:
    """Everything the value lines say, as arrays, with where each came from.

    Attributes:
        sizes: ``dim`` lines, name -> shape (a variable's or input's size per step
            is a 1-tuple; a parameter's may have two entries).
        params: parameter name -> array (shape ``()`` for a scalar).
        initial: computed variable -> {step -> array}: step <= 0 for a forward chain, a step
            after the last (``g^{(4)}`` when T = 3) for a backward one.
        final: backward chain -> {k -> array} for ``g[T+k]`` (written from the end).
        inputs: input name -> {step -> array of one step}.
        functions: generic activation -> canonical function name.
        spans: (name, "size" | "value") -> span of the line that last set it.
    """

    sizes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    params: dict[str, "np.ndarray"] = field(default_factory=dict)
    initial: dict[str, dict[int, "np.ndarray"]] = field(default_factory=dict)
    inputs: dict[str, dict[int, "np.ndarray"]] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    final: dict[str, dict[int, "np.ndarray"]] = field(default_factory=dict)
    spans: dict[tuple[str, str], Span | None] = field(default_factory=dict)

    def span(self, name: str, what: str = "value") -> Span | None:
        """Where the value (or size) of ``name`` was last given."""
        return self.spans.get((name, what))


def describe_shape(shape: tuple[int, ...]) -> str:
    """Shape in words, as error messages use it.

    Example:
        >>> describe_shape(()), describe_shape((3,)), describe_shape((5, 4))
        ('a scalar', '3 entries', '5x4')
    """
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return "x".join(str(d) for d in shape)


def _check_rectangular(value: object, model: "Model", span: Span | None, name: str) -> None:
    """Raise a ShapeError naming the row lengths when nested lists are ragged."""
    if not isinstance(value, list):
        return
    kinds = {isinstance(v, list) for v in value}
    if len(kinds) > 1:
        raise model.error(ShapeError, f"the value of '{name}' mixes numbers and lists; "
                          "every row of a matrix is a list of the same length", span)
    if kinds == {True}:
        lengths = [len(v) for v in value]
        if len(set(lengths)) > 1:
            raise model.error(ShapeError, f"the rows of '{name}' have different lengths "
                              f"({', '.join(map(str, lengths))}); a matrix needs rows of one length", span)
        for v in value:
            _check_rectangular(v, model, span, name)


def to_array(value: object, model: "Model", span: Span | None = None, name: str = "value") -> "np.ndarray":
    """A float64 array from a number or nested lists; ragged rows are a ShapeError.

    Example:
        >>> from rnnviz import load_model
        >>> to_array([[1, 2], [3, 4]], load_model("h[t] = W h[t-1]")).shape
        (2, 2)
    """
    import numpy as np

    _check_rectangular(value, model, span, name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise model.error(ValueSpecError, f"the value of '{name}' is not a number or a list of numbers", span)
    if not np.isfinite(arr).all():
        raise model.error(ValueSpecError, f"the value of '{name}' is too large to be a number", span,
                          hint="numbers must stay below about 1.8e308")
    if arr.ndim > 3:
        raise model.error(ShapeError, f"the value of '{name}' has {arr.ndim} levels of brackets; "
                          "rnnviz takes numbers, vectors, matrices and sequences of vectors", span)
    return arr


def given_values(model: "Model") -> Given:
    """Read every value line of ``model`` into a :class:`Given`, later lines winning.

    Raises:
        ShapeError: ragged rows, or a size given to a variable as a matrix.
        ValueSpecError: a value that is not a number, or a value for a step a
            computed variable computes itself (``h_3 = 1``).
    """
    g = Given()
    for v in model.values:
        sym = model.symbols.get(v.name)
        if v.kind == "function":
            g.functions[v.name] = str(v.value)
            continue
        if v.kind == "relu_deriv" or sym is None:
            continue
        if v.kind == "size":
            dims = tuple(int(d) for d in v.value)  # type: ignore[union-attr]
            if not dims and sym.kind in ("input", "variable"):
                dims = (1,)  # x_t in R: one number at each step
            if sym.kind in ("input", "variable") and len(dims) == 2 and 1 in dims:
                dims = (dims[0] * dims[1],)  # x_t in R^{3 x 1} (a column) or R^{1 x 3} (a row): 3 entries
            if sym.kind in ("input", "variable") and len(dims) != 1:
                raise model.error(ShapeError, f"'{v.name}' holds a vector at each step; give its size as one "
                                  f"number (dim {v.name} = {dims[0]})", v.span)
            g.sizes[v.name] = dims
            g.spans[(v.name, "size")] = v.span
            continue
        arr = to_array(v.value, model, v.span, v.name)
        g.spans[(v.name, "value")] = v.span
        if sym.kind == "parameter":
            if arr.ndim > 2:
                raise model.error(ShapeError, f"the parameter '{v.name}' is given {arr.ndim} levels of brackets; "
                                  "a parameter is a number, a vector or a matrix", v.span)
            g.params[v.name] = arr
        elif sym.kind == "variable":
            backward = v.name in model.backward
            if v.time is None or (v.time > 0 and not v.from_end and not backward) or (
                    v.from_end and (v.time < 1 or not backward)) or (backward and not v.from_end and v.time <= 0):
                if backward:
                    raise model.error(ValueSpecError, f"'{v.name}' runs backward, computed by its equation at "
                                      f"steps T, T-1, ..., 1; only its value after the last step (as "
                                      f"{v.name}[T+1]) can be given", v.span)
                raise model.error(ValueSpecError, f"'{v.name}' is computed by its equation at steps 1, 2, ...; "
                                  f"only initial values (step 0 or earlier, as {v.name}_0) can be given", v.span)
            if arr.ndim > 1:
                raise model.error(ShapeError, f"the initial value of '{v.name}' must be a number or a vector", v.span)
            if v.from_end:
                g.final.setdefault(v.name, {})[v.time] = arr
            else:
                g.initial.setdefault(v.name, {})[v.time] = arr
        else:  # an input
            if v.time is not None:
                if arr.ndim > 1:
                    raise model.error(ShapeError, f"one step of '{v.name}' must be a number or a vector", v.span)
                g.inputs.setdefault(v.name, {})[v.time] = arr
            else:
                # A sequence: the first axis is time; a bare number is one step.
                steps = [arr] if arr.ndim == 0 else list(arr)
                if arr.ndim > 2:
                    raise model.error(ShapeError, f"a sequence of '{v.name}' is a list of numbers or of vectors",
                                      v.span)
                g.inputs[v.name] = {i + 1: s for i, s in enumerate(steps)}
    return g
