"""Unrolled formulas: a target written out in the inputs, initial states and parameters.

``unrolled_formula`` substitutes every equation into the target step by step
(intermediate variables of a cell included) until only inputs ``x_1, x_2,
...``, initial states ``h_0`` and parameters remain, as a teacher writes
``h_3 = f(W f(W f(W h_0 + U x_1) + U x_2) + U x_3)`` on the board. Plain text
and LaTeX come from one printer that dispatches on the node class.

The expansion of a derivative over time (``rnnviz formula --grad V``) lives in
:mod:`rnnviz.formulas.gradient`; it uses the printer defined here.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h[t] = f(W h[t-1] + U x[t])")
    >>> print(unrolled_formula(m, "h[3]"))
    h_3 = f(W f(W f(W h_0 + U x_1) + U x_2) + U x_3)
    >>> print(unrolled_formula(m, "h_2", latex=True))
    h_{2} = f\\left(W f\\left(W h_{0} + U x_{1}\\right) + U x_{2}\\right)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..language import Model
from ..language import expr as E
from ..language.syntax import GREEK_LETTERS, Name
from ..limits import MAX_FORMULA_CHARS
from ..numeric.target import Target, TargetError, parse_target

__all__ = ["At", "unroll", "unrolled_formula", "printed_size", "FormulaTooLarge", "Printer"]


@dataclass(frozen=True)
class At(E.Expr):
    """A variable at a fixed step (``x_2``, ``h_0``) or a symbolic one (``"j-1"``)."""

    name: str
    step: int | str
    span: object = field(default=None, compare=False, repr=False)


def unroll(model: Model, name: str, step: int, *, depth: int | None = None, steps: int | None = None) -> E.Expr:
    """The equation of ``name`` at ``step`` with every computed variable substituted.

    Leaves are inputs at their step, initial states (step <= 0; step T+1 of a
    backward chain, which needs ``steps``, T) and parameters. With ``depth``,
    variables more than ``depth`` steps away from ``step`` stay as names
    (``h_1``), which keeps long unrolls of gated cells readable.
    """
    computed = set(model.variables)
    memo: dict[tuple[str, int], E.Expr] = {}
    if model.backward and steps is None:
        steps = _steps_given(model)
        if steps is None:
            from ..errors import ModelError

            raise ModelError(f"{', '.join(model.backward)} runs backward from step T+1, so unrolling needs T "
                             "(the steps, or an input sequence among the values)")
    last = steps if model.backward and steps is not None else float("inf")

    def var_at(n: str, s: int) -> E.Expr:
        if n not in computed or s <= 0 or s > last or (depth is not None and abs(s - step) > depth):
            return At(n, s)
        if (n, s) not in memo:
            memo[(n, s)] = subst(model.equation(n).expr, s)
        return memo[(n, s)]

    def subst(e: E.Expr, s: int) -> E.Expr:
        if isinstance(e, E.Var):
            return var_at(e.name, s - e.delay)
        return _rebuild(e, lambda c: subst(c, s))

    return subst(model.equation(name).expr, step)


def at_steps(e: E.Expr, index: str) -> E.Expr:
    """An equation's tree with ``Var(h, k)`` read at the symbolic step ``index - k``."""
    if isinstance(e, E.Var):
        if index.lstrip("-").isdigit():
            return At(e.name, int(index) - e.delay)
        return At(e.name, index if e.delay == 0 else f"{index}{-e.delay:+d}")
    return _rebuild(e, lambda c: at_steps(c, index))


def _rebuild(e: E.Expr, f) -> E.Expr:
    if isinstance(e, (E.Add, E.Sub, E.Prod, E.EMul)):
        return type(e)(f(e.left), f(e.right))
    if isinstance(e, E.Call):
        return E.Call(e.func, f(e.arg), e.generic, abstract=e.abstract, params=e.params)
    if isinstance(e, E.Neg):
        return E.Neg(f(e.operand))
    if isinstance(e, E.Concat):
        return E.Concat(tuple(f(i) for i in e.items))
    return e


_PREC = {E.Add: 1, E.Sub: 1, E.Neg: 2, E.EMul: 3, E.Prod: 4}

_LATEX_FUNCS = {"square": "square", "sumsq": "sumsq", "tanh": r"\tanh", "sigmoid": r"\sigma", "relu": r"\mathrm{ReLU}",
                "softmax": r"\mathrm{softmax}", "exp": r"\exp", "log": r"\log",
                "identity": r"\mathrm{id}", "sum": r"\operatorname{sum}", "logsoftmax": r"\log\mathrm{softmax}",
                "onehot": r"\operatorname{onehot}"}
_LATEX_ACCENTS = {"tilde": r"\tilde", "hat": r"\hat", "bar": r"\bar", "vec": r"\vec",
                  "fwd": r"\overrightarrow", "bwd": r"\overleftarrow",
                  "check": r"\check", "breve": r"\breve"}
_PLAIN_ACCENTS = {"tilde": "~", "hat": "^", "bar": "-"}


class Printer:
    """Plain-text or LaTeX spelling of expressions, names at steps, and functions.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model(r"\\tilde{c}_t = \\tanh(W_{hh} h_{t-1})")
        >>> p = Printer(m, latex=True)
        >>> p.name("c_tilde", "j-1"), p.name("W_hh"), Printer(m).name("c_tilde", 2)
        ('\\\\tilde{c}_{j-1}', 'W_{hh}', 'c~_2')
    """

    def __init__(self, model: Model, *, latex: bool = False) -> None:
        self.model = model
        self.latex = latex

    # -- names -----------------------------------------------------------------
    def _display(self, canonical: str) -> Name:
        sym = self.model.symbols.get(canonical)
        if sym is not None:
            return sym.display
        head, *sups = canonical.split("^")
        base, *subs = head.split("_")
        return Name(base, None, tuple(subs), tuple(sups))

    def name(self, canonical: str, step: int | str | None = None) -> str:
        """``h`` at ``step``: ``h_3``/``h_{3}``, ``h_1^(3)``/``h_{1}^{(3)}``, ``c~_j``."""
        d = self._display(canonical)
        step_s = None if step is None else str(step)
        if self.latex:
            base = "\\" + d.base if d.base in GREEK_LETTERS else d.base
            if d.accent in _LATEX_ACCENTS:
                base = f"{_LATEX_ACCENTS[d.accent]}{{{base}}}"
            out = base
            subs = ",".join(d.subs)
            sups = list(d.sups)
            if step_s is not None:
                if subs or sups:
                    sups.append(f"({step_s})")
                else:
                    subs = step_s
            if subs:
                out += f"_{{{subs}}}"
            if sups:
                out += "^{" + ",".join(sups) + "}"
            return out
        base = d.base + _PLAIN_ACCENTS.get(d.accent or "", f"_{d.accent}" if d.accent else "")
        out = base + "".join("_" + s for s in d.subs) + "".join("^" + s for s in d.sups)
        if step_s is None:
            return out
        if d.subs or d.sups:
            return f"{out}^({step_s})"
        return f"{out}_{step_s}" if len(step_s) == 1 or step_s.isdigit() else f"{out}_{{{step_s}}}"

    def func(self, call: E.Call) -> str:
        """A function's name as the equations meant it: ``tanh``, ``\\sigma``, ``f``."""
        if call.generic:
            return self.name(call.func)
        return _LATEX_FUNCS[call.func] if self.latex else call.func

    def paren(self, inner: str) -> str:
        return f"\\left({inner}\\right)" if self.latex else f"({inner})"

    # -- expressions -----------------------------------------------------------
    def expr(self, e: E.Expr, parent: int = 0) -> str:
        """Print an expression tree (with :class:`At` leaves) at precedence ``parent``."""
        method = getattr(self, "_print_" + type(e).__name__)
        return method(e, parent)

    def _print_Num(self, e: E.Num, parent: int) -> str:
        v = float(e.value)
        s = str(int(v)) if v.is_integer() else repr(v)
        return f"({s})" if v < 0 and parent > 1 else s

    def _print_Var(self, e: E.Var, parent: int) -> str:
        return self.name(e.name, "t" if e.delay == 0 else f"t{-e.delay:+d}")

    def _print_At(self, e: At, parent: int) -> str:
        return self.name(e.name, e.step)

    def _print_Param(self, e: E.Param, parent: int) -> str:
        return self.name(e.name)

    def _print_Call(self, e: E.Call, parent: int) -> str:
        if e.func == "identity" and not e.generic:
            return self.expr(e.arg, parent)
        if e.func == "square" and not e.generic:
            return self.paren(self.expr(e.arg)) + "^2"
        if e.func == "sumsq" and not e.generic:
            inner = self.expr(e.arg)
            return rf"\left\|{inner}\right\|^2" if self.latex else f"||{inner}||^2"
        if e.abstract:
            return self.func(e) + self.paren(E.call_arguments(e, self.expr))
        return self.func(e) + self.paren(self.expr(e.arg))

    def _print_Concat(self, e: E.Concat, parent: int) -> str:
        inner = ", ".join(self.expr(i) for i in e.items)
        return f"\\left[{inner}\\right]" if self.latex else f"[{inner}]"

    def _binary(self, e: E.Expr, parent: int) -> str:
        prec = _PREC[type(e)]
        if isinstance(e, E.Neg):
            s = "-" + self.expr(e.operand, prec + 1)
        else:
            ops = {E.Add: " + ", E.Sub: " - ", E.Prod: " ", E.EMul: " \\odot " if self.latex else " * "}
            lp, rp = (prec + 1, prec) if isinstance(e, E.Prod) else (prec, prec + 1)
            right = self.expr(e.right, rp)
            op = ops[type(e)]
            if self.latex and isinstance(e, E.Prod) and right.startswith("\\"):
                op = " \\, "  # `V \mathrm{ReLU}(...)` would set as one word VReLU
            s = self.expr(e.left, lp) + op + right
        if prec < parent:
            return f"\\left({s}\\right)" if self.latex else f"({s})"
        return s

    _print_Add = _print_Sub = _print_Prod = _print_EMul = _print_Neg = _binary


def unrolled_formula(model: Model, target: str | Target, *, latex: bool = False,
                     depth: int | None = None, steps: int | None = None) -> str:
    """``target = ...`` written out in inputs, initial states and parameters.

    A ``sum(h)`` target needs the number of steps and is not unrolled here;
    use ``h[T]``. A component ``h[3][0]`` unrolls the whole vector ``h_3``.
    A model with a backward chain needs T, ``steps`` (where the chain starts, at T+1).

    Raises:
        TargetError: an unknown variable, a step < 1 or beyond T, or a sum over every step.
    """
    from ..numeric.target import _error

    tgt = parse_target(target, model) if isinstance(target, str) else target
    if model.phases is not None:
        return _phased_formula(model, tgt, str(target), latex=latex, depth=depth, steps=steps)
    if tgt.step is None and tgt.name in model.once:  # o = V h_T + c: its one value, at step T
        last = steps if steps is not None else _steps_given(model)
        if last is None:
            raise _error(f"{tgt.name} is computed once, at the last step T, so the formula needs T: give the "
                         "input sequence (x = [...]) or the number of steps", str(target))
        tgt = Target(tgt.name, last, tgt.component, False)
    if tgt.step is None:
        raise _error(f"'{tgt}' adds every step; unroll one step, as in {tgt.name}[3]", str(target))
    if model.backward and steps is None:
        steps = _steps_given(model)
        if steps is None:
            raise _error(f"{', '.join(model.backward)} runs backward from step T+1, so the formula needs T: "
                         "give the input sequence (x = [...]) or the number of steps", str(target))
    if steps is not None and tgt.step > steps:
        raise _error(f"'{tgt}': the run has {steps} steps", str(target))
    hint = "--depth K (depth=K) substitutes only the last K+1 steps and keeps earlier states as names"
    p = Printer(model, latex=latex)
    try:
        tree = unroll(model, tgt.name, tgt.step, depth=depth, steps=steps if model.backward else None)
        size = printed_size(tree)
        if size > MAX_FORMULA_CHARS:
            raise _too_large(f"{tgt} written out would be about {size:,} characters, more than the "
                         f"{MAX_FORMULA_CHARS:,} rnnviz writes", str(target), hint=hint)
        body = p.expr(tree)
    except RecursionError:  # one level of Python's stack per step and operation
        raise _too_large(f"{tgt} nests too many steps to write out in full", str(target), hint=hint) from None
    return f"{p.name(tgt.name, tgt.step)} = {body}"


def _named(e: E.Expr, names: set[str]) -> E.Expr:
    """``e`` with the variables ``names`` (an encoder-decoder's contexts) as plain names, at no step."""
    if isinstance(e, (At, E.Var)) and e.name in names:
        return E.Param(e.name)
    return _rebuild(e, lambda c: _named(c, names))


def _phased_formula(model: Model, tgt: Target, text: str, *, latex: bool, depth: int | None,
                    steps: int | None) -> str:
    """An encoder-decoder's target: a decoder step written out in its inputs, the contexts and the
    starts, then each start and context written out in the encoder (its T steps).

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h_t = tanh(W h_{t-1} + U x_t)\\nc = h_T\\ns_0 = tanh(D c)\\n"
        ...                "s_t = tanh(A s_{t-1} + C c)\\nx = [1, 2]")
        >>> print(unrolled_formula(m, "s[2]"))
        s_2 = tanh(A tanh(A s_0 + C c) + C c)
        s_0 = tanh(D c)
        c = h_2 = tanh(W tanh(W h_0 + U x_1) + U x_2)
    """
    from ..numeric.target import _error

    phases = model.phases
    encoder, decoder = phases.bind(model)
    if phases.phase_of(tgt.name) == "encoder":
        return unrolled_formula(encoder, tgt, latex=latex, depth=depth, steps=steps)
    if tgt.step is None:
        raise _error(f"'{tgt}' adds every step; unroll one step, as in {tgt.name}[3]", text)
    contexts = set(phases.contexts)
    p = Printer(decoder, latex=latex)
    tree = _named(unroll(decoder, tgt.name, tgt.step, depth=depth), contexts)
    if printed_size(tree) > MAX_FORMULA_CHARS:
        raise _too_large(f"{tgt} written out would be more than the {MAX_FORMULA_CHARS:,} characters rnnviz "
                         "writes", text, hint="--depth K (depth=K) substitutes only the last K+1 steps")
    lines = [f"{p.name(tgt.name, tgt.step)} = {p.expr(tree)}"]
    pe = Printer(encoder, latex=latex)
    T = steps if steps is not None else _steps_given(encoder)
    for chain, start in phases.starts:
        lines.append(f"{p.name(chain, 0)} = {pe.expr(_named(encoder.equation(start).expr, contexts))}")
    for c in phases.contexts:
        expr = encoder.equation(c).expr
        step = T if T is not None else "T"
        last = f"{pe.name(expr.name, step)} = " if isinstance(expr, E.Var) and expr.delay == 0 else ""
        body = pe.expr(unroll(encoder, c, T, depth=depth) if T is not None else at_steps(expr, "T"))
        if last == f"{body} = ":  # c = h_T, with no input sequence to write h_T out in
            last = ""
        lines.append(f"{pe.name(c)} = {last}{body}")
    return (",\\quad " if latex else "\n").join(lines)


def _steps_given(model: Model) -> int | None:
    """T as the values of the file fix it (the length of the input sequences), else None."""
    from ..numeric.forward_pass import forward
    from ..numeric.values import given_values

    if not given_values(model).inputs:
        return None
    return forward(model, keep_nodes=False).steps


class FormulaTooLarge(TargetError):
    """A target whose formula, written out in full, is beyond what rnnviz writes."""


def _too_large(message: str, text: str, *, hint: str) -> FormulaTooLarge:
    from ..numeric.target import _error

    err = _error(message, text, hint=hint)
    return FormulaTooLarge(err.message, err.span, source=err.source, hint=err.hint)


def printed_size(e: E.Expr) -> int:
    """About how many characters ``e`` prints to, counting shared subterms every time they appear.

    The unrolled tree shares ``h_{t-1}`` between the gates of a cell, so it is small while its
    printout grows exponentially with the steps; this counts without printing, once per node.

    Example:
        >>> from rnnviz.language import load_model
        >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
        >>> printed_size(unroll(m, "h", 2)) >= len("tanh(W tanh(W h_0 + U x_1) + U x_2)")
        True
    """
    sizes: dict[int, int] = {}
    todo: list[tuple[E.Expr, bool]] = [(e, False)]
    while todo:
        node, ready = todo.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if not ready and kids:
            todo.append((node, True))
            todo.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        own = _OWN_SIZE.get(type(node), 2) + len(getattr(node, "name", "") or getattr(node, "func", "") or "")
        sizes[id(node)] = own + sum(sizes[id(k)] for k in kids)
    return sizes[id(e)]


#: Characters a node adds besides its name: ``_3`` of a step, `` + ``, ``()`` of a call.
_OWN_SIZE = {At: 2, E.Param: 0, E.Num: 3, E.Add: 3, E.Sub: 3, E.EMul: 3, E.Prod: 1, E.Call: 2, E.Neg: 1}


def _children(e: E.Expr) -> tuple[E.Expr, ...]:
    if isinstance(e, (E.Add, E.Sub, E.Prod, E.EMul)):
        return (e.left, e.right)
    if isinstance(e, E.Call):
        return (e.arg,)
    if isinstance(e, E.Neg):
        return (e.operand,)
    if isinstance(e, E.Concat):
        return tuple(e.items)
    return ()
