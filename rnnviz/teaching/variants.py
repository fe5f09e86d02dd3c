"""Variants of an exercise: values a hand calculation can take, gates under neutral names.

A variant is equation text the language reads back (:attr:`Variant.source`) and the
model built from it. The file's own values make the first kind; :func:`draw_variants`
makes others, each from its own seeded stream: small integers where the file has
integers (or no values and only ReLU), one decimal where it has decimals, simple
fractions where it writes fractions; initial states as the file gives them (0 when it
does not). A draw is rejected and drawn again when it is degenerate (every ReLU dead
at every step, a derivative the sheet asks for that is 0, numbers beyond a hand
calculation) or repeats an earlier variant. With ``rename_gates``, the gates get the
names ``g_1, g_2, ...`` in a shuffled order, their equations listed by the new names
(so the order of the equations changes too) and the parameters named after a gate
(``W_f``, ``U^f``) renamed with it (``W_2``).

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = relu(V h[t-1] + W x[t])  V = -3  W = 3  h_0 = 0  x = [2, 3, 1]")
    >>> vs = draw_variants(m, 3, seed=1)
    >>> len({v.source for v in vs}), all("h_0 = 0" in v.source for v in vs)
    (3, True)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import RnnvizError, UsageError
from ..language import Model, load_model
from ..language import expr as E
from .arith import exact, value_line_number
from .phased import exact_pass
from .scalar import NotScalar, uses_fractions

__all__ = ["Variant", "file_variant", "draw_variants", "value_style", "source_text", "variant_source", "default_target", "default_wrt",
           "MAX_TRIES", "value_steps"]

#: Draws tried per variant before giving up (a model whose every draw is degenerate).
MAX_TRIES = 400

_POOLS = {
    "int": [Fraction(k) for k in range(-4, 5) if k],
    "decimal": [Fraction(k, 10) for k in range(-9, 10) if k],
    "fraction": sorted({Fraction(p, q) * s for p, q in ((1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (1, 1), (2, 1),
                                                          (3, 2)) for s in (1, -1)}),
}
_INPUT_POOLS = {
    "int": [Fraction(k) for k in range(-3, 4)],
    "decimal": [Fraction(k, 10) for k in range(-9, 10)],
    "fraction": [Fraction(k, 2) for k in range(-4, 5)],
}


@dataclass
class Variant:
    """One variant: its number (1, 2, ...), its equation text and the model read from it."""

    index: int
    source: str
    model: Model
    drawn: bool = False
    #: Old name -> new name of the renamed gates (and of their parameters).
    renamed: dict = field(default_factory=dict)


def value_style(model: Model) -> str:
    """``int``, ``decimal`` or ``fraction``: how the file writes its numbers.

    Example:
        >>> from rnnviz.language import load_model
        >>> value_style(load_model("h[t] = relu(V h[t-1])  V = -3")), value_style(load_model("h[t] = tanh(V h[t-1])"))
        ('int', 'decimal')
    """
    numbers = []
    for v in model.values:
        if v.kind == "value":
            flat = [v.value]
            while any(isinstance(x, list) for x in flat):
                flat = [y for x in flat for y in (x if isinstance(x, list) else [x])]
            numbers += [exact(float(x)) for x in flat]
    if numbers:
        if all(isinstance(x, Fraction) and x.denominator == 1 for x in numbers):
            return "int"
        return "fraction" if uses_fractions(model) else "decimal"
    funcs = {n.func for eq in model.equations for n in E.walk(eq.expr) if isinstance(n, E.Call)}
    return "int" if funcs <= {"relu", "identity"} else "decimal"


def _nested(shape: tuple[int, ...], pick) -> object:
    if not shape:
        return pick()
    return [_nested(shape[1:], pick) for _ in range(shape[0])]


def _text(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return value_line_number(value)  # type: ignore[arg-type]


def _plain(x: object) -> object:
    """A value line's float or lists of floats, as exact numbers."""
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return exact(float(x))  # type: ignore[arg-type]


def source_text(model: Model, values: dict, *, rename: dict | None = None, order: list[str] | None = None) -> str:
    """Equation text (one line per equation, ``h[t] = ...``) and value lines the language reads back.

    ``values`` holds ``params`` (name -> value), ``initial`` ((name, step) -> value),
    ``inputs`` (name -> list over the steps), ``sizes`` (name -> size) and
    ``relu0`` (None or a number).
    """
    rename = rename or {}
    order = order or [eq.target for eq in model.equations]

    def ren(e: E.Expr) -> E.Expr:
        if isinstance(e, E.Var):
            return E.Var(rename.get(e.name, e.name), e.delay)
        if isinstance(e, E.Param):
            return E.Param(rename.get(e.name, e.name))
        if isinstance(e, (E.Add, E.Sub, E.Prod, E.EMul)):
            return type(e)(ren(e.left), ren(e.right))
        if isinstance(e, E.Call):
            return E.Call(e.func, ren(e.arg), e.generic)
        if isinstance(e, E.Neg):
            return E.Neg(ren(e.operand))
        if isinstance(e, E.Concat):
            return E.Concat(tuple(ren(i) for i in e.items))
        return e

    exprs = [(rename.get(n, n), ren(model.equation(n).expr)) for n in order]
    once = {rename.get(n, n) for n in model.once}

    def line(n: str, e: E.Expr) -> str:
        text = E.to_text(e)
        for o in once:  # what is computed once is read without a step: c, s_0
            text = re.sub(rf"(?<![\w^]){re.escape(o)}\[t\]", o, text)
        if n in once:  # c = h[T]: its reads are relative to the last step
            return f"{n} = " + re.sub(r"\[t(?=[\]+-])", "[T", text)
        return f"{n}[t] = {text}"

    lines = [line(n, e) for n, e in exprs]
    lines += [f"{total} = \\sum_t {rename.get(per, per)}[t]" for total, per in model.totals]
    lines.append("")
    if values.get("sizes"):
        lines.append("dim " + ", ".join(f"{rename.get(n, n)} = {s}" for n, s in values["sizes"].items()))
    # Parameters in the order the equations (as printed) use them; scalars share a line.
    params = {rename.get(n, n): v for n, v in values.get("params", {}).items()}
    seen = [x.name for _, e in exprs for x in E.walk(e) if isinstance(x, E.Param)]
    ordered = [n for i, n in enumerate(seen) if n in params and n not in seen[:i]]
    ordered += [n for n in params if n not in ordered]
    scalars = [f"{n} = {_text(params[n])}" for n in ordered if not isinstance(params[n], list)]
    if scalars:
        lines.append(", ".join(scalars))
    lines += [f"{n} = {_text(params[n])}" for n in ordered if isinstance(params[n], list)]
    states = [f"{_at(rename.get(n, n), s)} = {_text(v)}" for (n, s), v in values.get("initial", {}).items()]
    if states:
        lines.append(", ".join(states))
    for n, v in values.get("inputs", {}).items():
        lines.append(f"{rename.get(n, n)} = {_text(v)}")
    stepped = [f"{_at(rename.get(n, n), s)} = {_text(v)}" for (n, s), v in values.get("stepped", {}).items()]
    if stepped:
        lines.append(", ".join(stepped))
    if values.get("relu0") is not None:
        lines.append(f"relu'(0) = {value_line_number(values['relu0'])}")
    # A generic activation the file gives a function (d2l.ai's \phi = \tanh) keeps it.
    bound = [(n, model.function_binding(n)) for n in model.functions]
    lines += [f"{rename.get(n, n)} = {fn}" for n, fn in bound if fn is not None]
    if model.phases is not None and model.phases.length is not None:  # the decoder's length, as given
        lines.append(f"T' = {model.phases.length}")
    return "\n".join(lines) + "\n"


def _at(name: str, step: int) -> str:
    """``h_0`` for a plain name, ``h_1[0]`` for one with a subscript already."""
    return f"{name}_{step}" if re.fullmatch(r"[A-Za-z]+", name) and step >= 0 else f"{name}[{step}]"


def _given(model: Model) -> dict:
    """The values the model's own value lines give, exact, in the shape :func:`source_text` takes."""
    from ..numeric.values import given_values

    g = given_values(model)
    # A row vector's size (d2l.ai's X_t in R^{1x5}) is its length: the products' order keeps it a row.
    sizes = {v.name: int(v.value[-1]) for v in model.values
             if v.kind == "size" and (len(v.value) == 1 or (len(v.value) == 2 and v.value[0] == 1))}
    params = {n: _plain(g.params[n].tolist()) for n in model.parameters if n in g.params}
    initial = {(n, s): _plain(a.tolist()) for n, by in g.initial.items() for s, a in sorted(by.items())}
    inputs, stepped = {}, {}
    for n, by in g.inputs.items():
        steps = sorted(by)
        if steps == list(range(1, len(steps) + 1)):
            inputs[n] = [_plain(by[s].tolist()) for s in steps]
        else:  # a decoder's targets read one step back, from y_0: given step by step
            stepped.update({(n, s): _plain(by[s].tolist()) for s in steps})
    relu0 = next((exact(float(v.value)) for v in model.values if v.kind == "relu_deriv"), None)
    return {"sizes": sizes, "params": params, "initial": initial, "inputs": inputs, "stepped": stepped,
            "relu0": relu0}


def _uses_relu(model: Model) -> bool:
    return any(isinstance(n, E.Call) and n.func == "relu" for eq in model.equations for n in E.walk(eq.expr))


def _complete(model: Model, values: dict, rng: random.Random, style: str, *, redraw: bool, steps: int) -> dict:
    """``values`` with every parameter, initial state and input given (drawn where missing or ``redraw``)."""
    from ..numeric.shapes import infer_shapes

    shapes = infer_shapes(model)
    pool, ipool = _POOLS[style], _INPUT_POOLS[style]
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in values.items()}
    for n in model.parameters:
        if redraw or n not in out["params"]:
            out["params"][n] = _nested(shapes.of(n), lambda: rng.choice(pool))
    started = {chain for chain, _ in model.phases.starts} if model.phases is not None else set()
    for n in model.recurrent:
        if n in started:  # a decoder chain starts from what the context computes (s_0 = tanh(D c))
            continue
        for k in range(1, model.max_delay(n) + 1):
            if (n, 1 - k) not in out["initial"]:
                out["initial"][(n, 1 - k)] = _nested(shapes.of(n), lambda: Fraction(0))
    out.setdefault("stepped", {})
    stepped_names = {n for n, _ in out["stepped"]}
    if redraw:
        out["stepped"] = {k: _nested(shapes.of(k[0]), lambda: rng.choice(ipool)) for k in out["stepped"]}
    for n in model.inputs:
        if n in stepped_names:
            continue
        if redraw or n not in out["inputs"]:
            length = len(out["inputs"].get(n, [])) or steps
            out["inputs"][n] = [_nested(shapes.of(n), lambda: rng.choice(ipool)) for _ in range(length)]
    if _uses_relu(model) and out.get("relu0") is None:
        out["relu0"] = Fraction(0)
    return out


def default_target(model: Model, steps: int, decoder_steps: int | None = None) -> str:
    """What the sheet differentiates and unrolls: the last output variable at the last step
    (of an encoder-decoder: the decoder's output at its last step, T')."""
    outputs = [n for n in model.variables if model.role(n) == "output"]
    name = (outputs or model.variables)[-1]
    if decoder_steps is not None and model.phases is not None and model.phases.phase_of(name) == "decoder":
        steps = decoder_steps
    return f"{name}[{steps}]"


def default_wrt(model: Model) -> str | None:
    """The weight on the recurrent path (``V`` of ``V h[t-1]``), else the first parameter."""
    for eq in model.equations:
        for n in E.walk(eq.expr):
            if isinstance(n, E.Prod):
                sides = (n.left, n.right)
                if any(isinstance(s, E.Var) and s.delay >= 1 for s in sides):
                    for s in sides:
                        if isinstance(s, E.Param):
                            return s.name
    return model.parameters[0] if model.parameters else None


def _degenerate(model: Model, *, grad: tuple[str, str] | None, loss: list[str] | None = None) -> str | None:
    """Why a drawn variant is no good for a hand calculation, or None."""
    from ..numeric.forward_pass import forward

    trace = forward(model)
    if loss is not None and model.totals:
        import numpy as np

        from ..numeric.grad import gradients
        from .counting import loss_weights

        total, per = model.totals[0]
        g = gradients(model, trace, f"sum({per})").named()
        for w in loss or loss_weights(model):
            if w in g and not np.any(np.abs(np.asarray(g[w])) > 1e-9):
                return f"d{total}/d{w} is 0"
    try:
        run = exact_pass(model, trace=trace, seeds=[grad[1]] if grad else ())
    except NotScalar:
        run = None
    if run is not None:
        for (name, t), d in run.vals.items():
            v = d.v
            if abs(float(v)) > 1000 or (isinstance(v, Fraction) and v.denominator > 1000):
                return f"{name}_{t} = {v} is beyond a hand calculation"
        relu_args = run.relu_args()
        if relu_args and all(a <= 0 for a in relu_args):
            return "every ReLU is dead at every step"
        if grad is not None:
            tgt, wrt = grad
            name, step = _target(model, tgt)
            if run.deriv(name, step, wrt) == 0:
                return f"d{tgt}/d{wrt} is 0"
    else:
        import numpy as np

        for name in model.variables:
            for t in value_steps(model, trace, name):
                if not np.all(np.isfinite(trace.value(name, t))) or np.abs(trace.value(name, t)).max() > 1000:
                    return f"{name}_{t} is beyond a hand calculation"
        if grad is not None:
            from ..numeric.grad import gradients

            g = gradients(model, trace, grad[0]).named()
            if grad[1] in g and not np.any(np.asarray(g[grad[1]])):
                return f"d{grad[0]}/d{grad[1]} is 0"
    return None


def value_steps(model: Model, trace, name: str) -> range:
    """The steps at which ``name`` is computed: 1..T, the decoder's 1..T', or T alone (``c = h_T``)."""
    if name in model.once:
        return range(trace.steps, trace.steps + 1)
    if model.phases is not None and model.phases.phase_of(name) == "decoder":
        return range(1, trace.decoder_steps + 1)
    return range(1, trace.steps + 1)


def _target(model: Model, text: str) -> tuple[str, int]:
    from ..numeric.target import parse_target

    tgt = parse_target(text, model)
    return tgt.name, tgt.step or 1


def file_variant(model: Model, *, seed: int = 0, steps: int = 3, numbers: bool = True) -> Variant:
    """The file's own values, with a hand-sized value drawn for each one it does not give.

    A model whose sizes are not known (a GRU of concatenations without ``dim`` lines)
    keeps only its own values: drawing and naming the gates need no numbers. Without
    ``numbers`` (a sheet that draws, counts or names, and computes nothing) none is drawn.
    """
    rng = random.Random(f"{seed}:file")
    try:
        values = _given(model)
        if numbers:
            values = _complete(model, values, rng, value_style(model), redraw=False, steps=steps)
    except RnnvizError:
        values = _given(model)
    source = source_text(model, values)
    return Variant(1, source, load_model(source, model.file))


def _gate_renaming(model: Model, rng: random.Random) -> tuple[dict, list[str]]:
    """Gates -> ``g_1, g_2, ...`` in a shuffled order; their parameters follow; the new equation order."""
    from ..language.gates import analyze

    gates = [g.name for g in analyze(model).gates]
    if not gates:
        return {}, [eq.target for eq in model.equations]
    numbers = list(range(1, len(gates) + 1))
    rng.shuffle(numbers)
    rename = {g: f"g_{k}" for g, k in zip(gates, numbers)}
    taken = set(model.symbols)
    for p in model.parameters:
        m = re.fullmatch(r"([A-Za-z]+)[_^](\w+)", p)
        if m and m.group(2) in rename:
            new = f"{m.group(1)}_{rename[m.group(2)].split('_')[1]}"
            if new not in taken:
                rename[p] = new
    # The gate equations in the order of their new names, where the gates stood.
    slots = [i for i, eq in enumerate(model.equations) if eq.target in gates]
    order = [eq.target for eq in model.equations]
    for slot, g in zip(slots, sorted(gates, key=lambda g: int(rename[g].split("_")[1]))):
        order[slot] = g
    return rename, order


def _draw_sizes(model: Model, base: dict, rng: random.Random) -> dict:
    """New sizes for the names the file sizes (else the inputs and recurrent variables)."""
    if base["sizes"]:
        return {n: rng.randint(2, 6) if n in model.inputs else rng.randint(2, 8) for n in base["sizes"]}
    # No sizes in the file: one size per input, and one hidden size shared by the variables
    # (the gates of an LSTM multiply its states element-wise, so they all have one size).
    hidden = rng.randint(2, 8)
    return {**{n: rng.randint(2, 6) for n in model.inputs}, **{n: hidden for n in model.variables}}


def draw_variants(model: Model, count: int, *, seed: int = 0, rename_gates: bool = False,
                  grad: tuple[str, str] | None = None, steps: int = 3, sizes: bool = False,
                  numbers: bool = True, loss: list[str] | None = None) -> list[Variant]:
    """``count`` distinct, non-degenerate variants with drawn values (and gate names).

    ``grad`` is ``(target, wrt)`` of a derivative the sheet asks for; a variant where
    it is 0 is drawn again. With ``sizes``, the sizes are drawn too (2 to 6 for an
    input, 2 to 8 for a variable), so that counting the parameters differs by variant;
    without ``numbers`` only the sizes are (a counting sheet lists no weights). ``loss``
    lists the weights a loss task differentiates the summed loss by (``[]``: every weight);
    a variant where one of those derivatives is 0 is drawn again.

    Raises:
        UsageError: no non-degenerate variant after :data:`MAX_TRIES` draws.
    """
    style = value_style(model)
    base = _given(model)
    out: list[Variant] = []
    seen: set[str] = set()
    for index in range(1, count + 1):
        rng = random.Random(f"{seed}:{index}")
        why = "no draw"
        for _ in range(MAX_TRIES):
            rename, order = _gate_renaming(model, rng) if rename_gates else ({}, None)
            sized, start = model, base
            if sizes:
                start = {**base, "sizes": _draw_sizes(model, base, rng), "initial": {}}
                try:
                    sized = load_model(source_text(model, {"sizes": start["sizes"]}), model.file)
                    from ..numeric.shapes import infer_shapes

                    infer_shapes(sized)
                except RnnvizError as err:
                    why = f"sizes that do not fit ({err.message})"
                    continue
            if numbers:
                values = _complete(sized, start, rng, style, redraw=True, steps=steps)
            else:
                values = {"sizes": start["sizes"]} if sizes else _given(model)
            source = source_text(model, values, rename=rename, order=order)
            key = source_text(model, values)
            if key in seen:
                why = "a repeat of an earlier variant"
                continue
            vmodel = load_model(source, model.file)
            if not numbers:  # nothing computed: no number can be degenerate
                seen.add(key)
                out.append(Variant(index, source, vmodel, True, rename))
                break
            g = None
            if grad:
                from ..numeric.forward_pass import forward

                tr = forward(vmodel)
                tgt = grad[0] or default_target(vmodel, tr.steps, getattr(tr, "decoder_steps", None))
                g = (_renamed_target(tgt, rename) if grad[0] else tgt, rename.get(grad[1], grad[1]))
            why = _degenerate(vmodel, grad=g, loss=None if loss is None else
                              [rename.get(w, w) for w in loss]) or ""
            if why:
                continue
            seen.add(key)
            out.append(Variant(index, source, vmodel, True, rename))
            break
        else:
            raise UsageError(f"could not draw variant {index} of {count}: every draw was degenerate ({why})",
                             hint="give the values in the file, or ask for fewer variants")
    return out


def _renamed_target(text: str, rename: dict) -> str:
    m = re.match(r"^\s*([A-Za-z][\w^~]*)(.*)$", text)
    if m and m.group(1) in rename:
        return rename[m.group(1)] + m.group(2)
    return text


def variant_source(model: Model, *, values: bool = True) -> str:
    """The text of a variant's model: its equations and the values it gives (or only its sizes)."""
    given = _given(model)
    return source_text(model, given if values else {"sizes": given["sizes"]})
