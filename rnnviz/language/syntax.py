"""The syntax tree: what a line of input says, before the model gives it meaning.

Nodes are frozen dataclasses. Each carries the :class:`~rnnviz.errors.Span` it
came from; spans are left out of equality so that the plain and the LaTeX
spelling of an equation give equal trees.

Example:
    >>> from rnnviz.language.parse import parse_text
    >>> stmt = parse_text("h[t] = tanh(W h[t-1])").statements[0]
    >>> stmt.lhs.canonical, stmt.lhs.time
    ('h', Time(offset=0, absolute=False, end=False))
"""

from __future__ import annotations

from .._dataclasses import dataclass, field

from ..errors import Span

__all__ = [
    "Time",
    "Name",
    "Node",
    "Num",
    "Ref",
    "Call",
    "Apply",
    "BinOp",
    "Neg",
    "Bracket",
    "Frac",
    "UnitSum",
    "Component",
    "SumTime",
    "Elided",
    "Assign",
    "Size",
    "ReluDeriv",
    "Program",
    "GREEK_LETTERS",
]

_SPAN = dict(default=None, compare=False, repr=False)

#: LaTeX name -> Unicode letter, for every Greek letter the language knows (and ``\\ell``).
GREEK_LETTERS: dict[str, str] = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ",
    "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "varpi": "ϖ", "rho": "ρ", "varrho": "ϱ", "sigma": "σ",
    "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "ell": "ℓ",  # not Greek: the script l that texts name a loss with (\ell = -\frac{1}{T} ...)
}


@dataclass(frozen=True)
class Time:
    """A time index: ``t + offset`` when relative, the step ``offset`` when absolute.

    ``end`` marks a step counted from the last one, ``T + offset`` (``g[T+1]``, ``h_T``,
    ``h^{(\\tau)}``); such a time is absolute too.
    """

    offset: int
    absolute: bool = False
    end: bool = False

    def __str__(self) -> str:
        if self.end:
            return "T" if self.offset == 0 else f"T{self.offset:+d}"
        if self.absolute:
            return str(self.offset)
        if self.offset == 0:
            return "t"
        return f"t{self.offset:+d}"


@dataclass(frozen=True)
class Name:
    """A symbol as written: base letter(s), accent, subscripts, superscripts.

    ``time`` is the time index when one was written unambiguously (``x[t-1]``,
    ``x_{t-1}``, ``x^{(t-1)}``, ``h[0]``, ``h^{(0)}``). A numeric subscript
    (``x_3``, ``W_1``) stays in ``subs``; the model decides whether it is a
    time (values) or part of the name (equations).
    """

    base: str
    accent: str | None = None
    subs: tuple[str, ...] = ()
    sups: tuple[str, ...] = ()
    time: Time | None = None
    bold: bool = False
    span: Span | None = field(**_SPAN)
    #: Italic letters written together with their time as a LaTeX script, ``Ux_t``, ``Wh^{(t-1)}``:
    #: LaTeX sets the script on the last letter only, so the name may be a product (see glued.py).
    #: Not set for ``\mathrm{Ux}_t``, ``\text{Ux}_t`` or ``Ux[t]``, which index the whole name.
    glued: bool = field(default=False, compare=False, repr=False)

    @property
    def canonical(self) -> str:
        """The plain spelling: subscripts joined by ``_``, other superscripts by ``^``."""
        out = self.base
        if self.accent:
            out += "_" + self.accent
        for s in self.subs:
            out += "_" + s
        for s in self.sups:
            out += "^" + s
        return out

    @property
    def numeric_sub(self) -> int | None:
        """The last subscript as an integer, if it is one (a possible time)."""
        if self.subs and self.subs[-1].lstrip("-").isdigit():
            return int(self.subs[-1])
        return None

    def without_last_sub(self) -> "Name":
        return Name(self.base, self.accent, self.subs[:-1], self.sups, None, self.bold, self.span)

    def with_time(self, time: Time | None) -> "Name":
        return Name(self.base, self.accent, self.subs, self.sups, time, self.bold, self.span, self.glued)

    def __str__(self) -> str:
        return self.canonical if self.time is None else f"{self.canonical}[{self.time}]"


class Node:
    """Base of expression nodes."""

    span: Span | None


@dataclass(frozen=True)
class Num(Node):
    value: float
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Ref(Node):
    """A name read in an expression, with or without a time index."""

    name: Name
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Call(Node):
    """``name(arg)``: a function call, or a product the model recognises as such."""

    func: Name
    arg: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Apply(Node):
    """``f(a, b; theta)``: an unnamed function of several arguments; ``params`` follow the ``;``."""

    func: Name
    args: tuple[Node, ...]
    params: tuple[Node, ...] = ()
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class BinOp(Node):
    """``op`` is ``add``, ``sub``, ``prod`` (matrix product or scaling) or ``emul``."""

    op: str
    left: Node
    right: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Neg(Node):
    operand: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Bracket(Node):
    """``[a, b]`` or ``[a; b]``: a concatenation, a value list, or (one item) a group."""

    items: tuple[Node, ...]
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Frac(Node):
    num: Node
    den: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class UnitSum(Node):
    """``\\sum_j body``: a sum over the unit index ``index`` (unit-index notation)."""

    index: str
    body: Node
    span: Span | None = field(**_SPAN)
    #: Written with bounds, ``\\sum_{i=1}^{n}``: over positions, as attention sums (not a unit index).
    bounded: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Elided(Node):
    """``\\dots`` in an argument list or a sum: what it leaves out is not written."""

    command: str
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class SumTime(Node):
    """``\\sum_t L^{(t)}`` (also ``\\sum_{t=1}^{T}``): a loss summed over every step."""

    body: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Component(Node):
    """``[W x]_j``: component ``index`` of a vector expression (unit-index notation)."""

    body: Node
    index: str
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Assign:
    """``lhs = rhs``: an equation or a value; the model tells which."""

    lhs: Name
    rhs: Node
    caption: str | None = None
    span: Span | None = field(**_SPAN)
    #: The earlier right sides of a chain ``y = a = b`` (``rhs`` is the last one).
    earlier: tuple[Node, ...] = field(default=(), compare=False, repr=False)
    #: ``L(\\hat{y}^{<t>}, y^{<t>}) = ...``: the arguments written on the left (a loss as a function
    #: of what it depends on); None when the left side is a plain name.
    args: tuple[Node, ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Size:
    """``dim x = 3`` or ``x[t] in R^3``: the size of a symbol."""

    name: Name
    dims: tuple[int, ...] | Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class ReluDeriv:
    """``relu'(0) = 1``: the derivative of ReLU used at exactly 0."""

    value: Node
    span: Span | None = field(**_SPAN)


@dataclass(frozen=True)
class Program:
    """A parsed input: its statements in file order, and the text they came from."""

    statements: tuple[Assign | Size | ReluDeriv, ...]
    file: str = field(default="<input>", compare=False)
    source: str = field(default="", compare=False, repr=False)
    #: What the reading did that a reader should hear of ("FILE:LINE:COL: message"): a chain
    #: read by its last side, letters written together read split, prose ignored.
    notes: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: Where a step was written t' (d2l.ai's decoder, ``s_{t^\prime}``) in a text that writes t too:
    #: the model checks that every t' is the decoder's and every t the encoder's.
    primed: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    unprimed: tuple[Span, ...] = field(default=(), compare=False, repr=False)
