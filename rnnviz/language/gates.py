"""Gate roles and the cell state, found from the structure of the equations.

Courses ask "which of g1, g2, g3 is the forget, the input and the output gate?".
The answer does not depend on the names: a *gate* is a variable whose value is
a sigmoid and that multiplies something element-wise. What it multiplies, and
where the product goes, gives its role:

- ``forget``: it multiplies the previous value ``c[t-1]`` in the equation of
  ``c[t]``, which is a sum (the additive path, or "gradient highway");
- ``input`` (the update gate of some texts): it multiplies the other term of
  that sum, the candidate added to the cell state;
- ``update`` (GRU): the same gate appears as ``z`` and as ``1 - z`` in that
  sum, so it interpolates between the previous state and the candidate;
- ``reset`` (GRU): it multiplies a previous state inside another expression
  (the candidate), not on the additive path;
- ``output``: it multiplies what becomes a variable at the same step
  (``h[t] = o[t] * tanh(c[t])``);
- ``gate``: gates element-wise but fits none of the patterns above.

The *cell state* is the variable of that additive path with separate forget
and input gates (an LSTM); a GRU's interpolated state and a plain RNN have none.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model('''
    ... g1[t] = sigmoid(W1 x[t] + U1 h[t-1])
    ... g2[t] = sigmoid(W2 x[t] + U2 h[t-1])
    ... g3[t] = sigmoid(W3 x[t] + U3 h[t-1])
    ... k[t] = tanh(W4 x[t] + U4 h[t-1])
    ... c[t] = g2[t] * c[t-1] + g3[t] * k[t]
    ... h[t] = g1[t] * c[t]
    ... ''')
    >>> report = analyze(m)
    >>> report.roles
    {'g_1': 'output', 'g_2': 'forget', 'g_3': 'input'}
    >>> report.cell_state
    'c'
"""

from __future__ import annotations

from dataclasses import dataclass

from . import expr as E
from .model import Model

__all__ = [
    "GATE_ROLES",
    "Gate",
    "GateReport",
    "analyze",
    "gate_roles",
    "is_sigmoid_call",
    "is_elementwise",
    "factors",
    "additive_terms",
]

#: Every role a gate can get, with how a course names it.
GATE_ROLES: dict[str, str] = {
    "forget": "forget gate",
    "input": "input gate",
    "update": "update gate",
    "reset": "reset gate",
    "output": "output gate",
    "gate": "gate",
}

# When one gate is used several ways, the role with the smallest rank wins:
# its place on the additive path says more than a second use elsewhere.
_PRIORITY = {"update": 0, "forget": 1, "input": 2, "reset": 3, "output": 4, "gate": 5}


@dataclass(frozen=True)
class Gate:
    """One gate: its variable, its role, the equation it acts in and why."""

    name: str
    role: str
    target: str
    reason: str


@dataclass(frozen=True)
class GateReport:
    """What :func:`analyze` finds: the gates in equation order and the cell state(s)."""

    gates: tuple[Gate, ...]
    cell_states: tuple[str, ...]
    #: Variables whose equation is an interpolation ``(1 - z) a + z b`` (GRU states).
    interpolated: tuple[str, ...] = ()

    @property
    def roles(self) -> dict[str, str]:
        """Gate name -> role, in equation order."""
        return {g.name: g.role for g in self.gates}

    @property
    def cell_state(self) -> str | None:
        """The cell state (first one of a stacked LSTM), or ``None``."""
        return self.cell_states[0] if self.cell_states else None

    @property
    def highways(self) -> tuple[str, ...]:
        """Variables with a gated additive path from ``t-1`` to ``t``: cell states, GRU states."""
        return self.cell_states + tuple(v for v in self.interpolated if v not in self.cell_states)

    def to_json(self) -> dict:
        """``{"gates": {name: role}, "cell_state": name | None}`` (a list for several)."""
        cell: object = self.cell_state if len(self.cell_states) <= 1 else list(self.cell_states)
        return {"gates": self.roles, "cell_state": cell}

    def describe(self) -> str:
        """Plain-text answer to the exam question, one line per gate.

        Example:
            >>> from rnnviz.language import load_model
            >>> m = load_model("h[t] = tanh(W h[t-1] + U x[t])")
            >>> print(analyze(m).describe())
            no gates: no variable is a sigmoid that multiplies element-wise
            cell state: none
        """
        if not self.gates:
            lines = ["no gates: no variable is a sigmoid that multiplies element-wise"]
        else:
            width = max(len(g.name) for g in self.gates)
            lines = [f"{g.name:<{width}}  {GATE_ROLES[g.role]:<12}  {g.reason}" for g in self.gates]
        if self.cell_states:
            lines.append("cell state: " + ", ".join(
                f"{c} (the additive path from {c}[t-1] to {c}[t])" for c in self.cell_states))
        elif self.interpolated:
            lines.append("cell state: none; " + ", ".join(
                f"{v}[t] interpolates between {v}[t-1] and a candidate" for v in self.interpolated))
        else:
            lines.append("cell state: none")
        return "\n".join(lines)


# -- structure helpers ----------------------------------------------------


def is_sigmoid_call(node: E.Expr, model: Model | None = None) -> bool:
    """A call whose value is a sigmoid: ``sigmoid(...)``, a generic activation bound
    to sigmoid (``f = sigmoid``), or the ``\\sigma_g`` of the gate equations.

    Example:
        >>> is_sigmoid_call(E.Call("sigmoid", E.Var("x"))), is_sigmoid_call(E.Call("tanh", E.Var("x")))
        (True, False)
    """
    if not isinstance(node, E.Call):
        return False
    if not node.generic:
        return node.func == "sigmoid"
    bound = model.function_binding(node.func) if model is not None else None
    if bound is not None:
        return bound == "sigmoid"
    # Unbound: Wikipedia's LSTM writes sigma_g for the gates (sigma_c, sigma_h are tanh).
    return node.func in ("sigma_g", "sigma")


def _is_matrix_side(e: E.Expr) -> bool:
    return isinstance(e, (E.Param, E.Num))


def is_elementwise(e: E.Expr) -> bool:
    """An element-wise product: ``*``/``\\odot``, or a juxtaposition of two
    vectors (``f_t s_{t-1}``); a product with a parameter is a matrix product.

    Example:
        >>> is_elementwise(E.Prod(E.Var("f"), E.Var("s", 1))), is_elementwise(E.Prod(E.Param("W"), E.Var("h")))
        (True, False)
    """
    if isinstance(e, E.EMul):
        return True
    return isinstance(e, E.Prod) and not (_is_matrix_side(e.left) or _is_matrix_side(e.right))


def factors(e: E.Expr) -> list[E.Expr]:
    """The factors of a chain of element-wise products (``a * b * c`` -> a, b, c)."""
    if is_elementwise(e):
        return factors(e.left) + factors(e.right)  # type: ignore[attr-defined]
    return [e]


def additive_terms(e: E.Expr) -> list[E.Expr]:
    """The terms of a sum or difference (signs dropped), ``-a`` as ``a``."""
    if isinstance(e, (E.Add, E.Sub)) and not _is_one_minus(e):
        return additive_terms(e.left) + additive_terms(e.right)
    if isinstance(e, E.Neg):
        return additive_terms(e.operand)
    return [e]


def _is_one_minus(e: E.Expr) -> bool:
    return isinstance(e, E.Sub) and isinstance(e.left, E.Num) and e.left.value == 1.0


def _gate_factor(f: E.Expr, gates: set[str], complements: dict[str, str] | None = None
                 ) -> tuple[str, bool] | None:
    """``(name, complemented)`` when a factor is a gate ``g[t]`` or ``1 - g[t]``
    (written inline, or as a variable ``u[t] = 1 - g[t]`` listed in ``complements``)."""
    if isinstance(f, E.Var) and f.delay == 0 and f.name in gates:
        return f.name, False
    if isinstance(f, E.Var) and f.delay == 0 and complements and f.name in complements:
        return complements[f.name], True
    if _is_one_minus(f) and isinstance(f.right, E.Var) and f.right.delay == 0 and f.right.name in gates:
        return f.right.name, True
    return None


def _is_difference_to(e: E.Expr, v: str) -> bool:
    """``a - v[t-1]`` (or ``v[t-1] - a``): the step from the previous value, as in the
    interpolation ``h[t-1] + z * (n[t] - h[t-1])``."""
    if not isinstance(e, E.Sub):
        return False
    sides = [bool(_delayed_reads(side, {v})) for side in (e.left, e.right)]
    return sides.count(True) == 1


def _products(e: E.Expr, parent_elementwise: bool = False):
    """Maximal element-wise products inside ``e`` (outermost first)."""
    ew = is_elementwise(e)
    if ew and not parent_elementwise:
        yield e
    for child in E.children(e):
        yield from _products(child, ew)


def _reads_linearly(e: E.Expr, names: set[str], *, matmul: bool) -> bool:
    """Whether ``e`` passes a previous value of ``names`` on without a nonlinearity:
    through sums and element-wise products (and matrix products when ``matmul``),
    never through an activation. ``o * tanh(W h[t-1])`` does not carry ``h[t-1]``
    the way ``f * c[t-1]`` does."""
    if isinstance(e, E.Var):
        return e.delay >= 1 and e.name in names
    if isinstance(e, E.Call):
        return False
    if isinstance(e, E.Prod) and not is_elementwise(e) and not matmul:
        return False
    return any(_reads_linearly(c, names, matmul=matmul) for c in E.children(e))


def _delayed_reads(e: E.Expr, names: set[str]) -> list[E.Var]:
    return [n for n in E.walk(e) if isinstance(n, E.Var) and n.delay >= 1 and n.name in names]


# -- the analysis ---------------------------------------------------------


def _sigmoid_variables(model: Model) -> list[str]:
    return [eq.target for eq in model.equations if is_sigmoid_call(eq.expr, model)]


def analyze(model: Model) -> GateReport:
    """Find the gates of ``model``, their roles and the cell state.

    Example:
        >>> from rnnviz.language import load_model
        >>> gru = load_model('''
        ... z[t] = sigmoid(Wz x[t] + Uz h[t-1])
        ... r[t] = sigmoid(Wr x[t] + Ur h[t-1])
        ... n[t] = tanh(W x[t] + U (r[t] * h[t-1]))
        ... h[t] = (1 - z[t]) * h[t-1] + z[t] * n[t]
        ... ''')
        >>> analyze(gru).to_json()
        {'gates': {'z': 'update', 'r': 'reset'}, 'cell_state': None}
    """
    candidates = set(_sigmoid_variables(model))
    # u[t] = 1 - z[t] written as its own line is the complement of the gate z.
    complements = {eq.target: eq.expr.right.name for eq in model.equations
                   if _is_one_minus(eq.expr) and isinstance(eq.expr.right, E.Var)
                   and eq.expr.right.delay == 0 and eq.expr.right.name in candidates}
    computed = set(model.variables)
    found: dict[str, list[tuple[str, str, str]]] = {}
    highway: dict[str, str] = {}  # variable -> "cell" or "interpolated"
    output_reads: set[str] = set()  # variables that an output-gated product reads at t

    for eq in model.equations:
        v = eq.target
        top = additive_terms(eq.expr)
        top_ids = {id(t) for t in top}
        self_path = any(_reads_linearly(t, {v}, matmul=False) for t in top)
        # Gates that appear both plain and as 1 - g among the terms: an interpolation.
        plain, complemented = set(), set()
        for t in top:
            for f in factors(t):
                gf = _gate_factor(f, candidates, complements)
                if gf:
                    (complemented if gf[1] else plain).add(gf[0])
        interpolating = plain & complemented
        for prod in _products(eq.expr):
            fs = factors(prod)
            for i, f in enumerate(fs):
                gf = _gate_factor(f, candidates, complements)
                if gf is None:
                    continue
                g = gf[0]
                others = [o for j, o in enumerate(fs) if j != i]
                shown = " * ".join(E.to_text(o) for o in others) or "1"
                on_path = id(prod) in top_ids and self_path
                if on_path and (g in interpolating or any(_is_difference_to(o, v) for o in others)):
                    how = (f"{g} and 1 - {g} in the equation of {v}" if g in interpolating
                           else f"{v}[t-1] + {g} * ({shown})")
                    role, why = "update", f"interpolates {v}[t] between {v}[t-1] and the candidate ({how})"
                    highway.setdefault(v, "interpolated")
                elif on_path and any(_reads_linearly(o, {v}, matmul=False) for o in others):
                    role, why = "forget", f"multiplies {shown} on the additive path to {v}[t]"
                    highway[v] = "cell"
                elif on_path:
                    role, why = "input", f"multiplies the candidate {shown} added to {v}[t]"
                    highway[v] = "cell"
                elif any(_reads_linearly(o, computed, matmul=True) for o in others):
                    role, why = "reset", f"multiplies {shown}, a previous state, inside {v}[t]"
                elif id(prod) in top_ids or prod is eq.expr:
                    role, why = "output", f"multiplies {shown}, which becomes {v}[t]"
                    for o in others:
                        output_reads.update(n.name for n in E.walk(o) if isinstance(n, E.Var) and n.delay == 0)
                else:
                    role, why = "gate", f"multiplies {shown} element-wise in {v}[t]"
                found.setdefault(g, []).append((role, v, why))

    gates = []
    for name in model.variables:  # equation order
        if name in found:
            role, target, why = min(found[name], key=lambda r: _PRIORITY[r[0]])
            gates.append(Gate(name, role, target, why))
    # A coupled-gate LSTM interpolates its cell state, then gates it to the output:
    # the interpolated variable is still a cell state when an output gate reads it.
    cells = tuple(v for v in model.variables
                  if highway.get(v) == "cell" or (highway.get(v) == "interpolated" and v in output_reads))
    interpolated = tuple(v for v in model.variables if highway.get(v) == "interpolated" and v not in cells)
    return GateReport(tuple(gates), cells, interpolated)


def gate_roles(model: Model) -> dict[str, str]:
    """Gate name -> role (``forget``, ``input``, ``output``, ``update``, ``reset``, ``gate``).

    Example:
        >>> from rnnviz.language import load_model
        >>> gate_roles(load_model("h[t] = tanh(W h[t-1] + U x[t])"))
        {}
    """
    return analyze(model).roles
