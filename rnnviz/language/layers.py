"""Deep RNNs by layer index: ``h_t^{(l)} = \\phi(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)} + b^{(l)})``.

Goodfellow et al. (§10.5) and d2l.ai write a stack of recurrent layers once, for a layer ``l``,
with ``h_t^{(0)} = x_t`` below the first and ``h_t^{(L)}`` the top. This module expands such a
program, before the model is built, into one equation per layer: ``l`` becomes 1, ..., L (``L = 3``
among the values; 2 when none is given, with a note), every name with a layer superscript gets the
layer as a subscript (``h^{(2)}`` is ``h_2``, ``W_{xh}^{(2)}`` is ``W_xh2``: parameters per
layer), ``h^{(0)}`` is replaced by what ``h_t^{(0)} = x_t`` says, and size and value lines written
for layer ``l`` hold for every layer. A concrete layer beside a time, ``H_t^{(1)}``, is the layer
subscript too.

The parser marks a layer superscript by its parentheses: the name's superscript is ``(l)``,
``(l-1)``, ``(L)`` or, beside a time, ``(1)``.

Example:
    >>> from rnnviz.language import load_model
    >>> m = load_model("h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)} + U^{(l)} h_{t-1}^{(l)})\\n"
    ...                "h_t^{(0)} = x_t\\ny_t = V h_t^{(L)}\\nL = 3")
    >>> m.variables, m.parameters
    (['h_1', 'h_2', 'h_3', 'y'], ['W_1', 'U_1', 'W_2', 'U_2', 'W_3', 'U_3', 'V'])
    >>> m.notes
    []
"""

from __future__ import annotations

import re
from .._dataclasses import replace

from ..errors import ModelError, RnnvizError, Span
from . import syntax as S
from .model_syntax import constant, is_constant

__all__ = ["expand_layers", "DEFAULT_LAYERS", "layer_of"]

#: Layers of a stack written by layer index when no ``L = ...`` says how many.
DEFAULT_LAYERS = 2

_SYMBOLIC = re.compile(r"^\((l)([+-]\d+)?\)$|^\((L)\)$")
_CONCRETE = re.compile(r"^\((\d+)\)$")


def layer_of(name: S.Name) -> str | None:
    """The layer superscript of ``name`` (``(l-1)``, ``(L)``, ``(2)``), else None."""
    for s in name.sups:
        if _SYMBOLIC.match(s) or _CONCRETE.match(s):
            return s
    return None


def _symbolic(name: S.Name) -> bool:
    layer = layer_of(name)
    return layer is not None and _SYMBOLIC.match(layer) is not None


def _names(node: S.Node):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, S.Ref):
            yield n.name
        elif isinstance(n, S.Call):
            yield n.func
            stack.append(n.arg)
        elif isinstance(n, S.BinOp):
            stack.extend([n.right, n.left])
        elif isinstance(n, S.Neg):
            stack.append(n.operand)
        elif isinstance(n, S.Bracket):
            stack.extend(reversed(n.items))
        elif isinstance(n, S.Frac):
            stack.extend([n.den, n.num])


def _map(node: S.Node, ref, func=None) -> S.Node:
    """``node`` with every Ref replaced by ``ref(Ref)`` (a node), and every function's name by
    ``func(Name)`` when given (else kept)."""
    if isinstance(node, S.Ref):
        return ref(node)
    if isinstance(node, S.Call):
        return replace(node, func=func(node.func) if func else node.func, arg=_map(node.arg, ref, func))
    if isinstance(node, S.Apply):
        return replace(node, func=func(node.func) if func else node.func,
                       args=tuple(_map(a, ref, func) for a in node.args),
                       params=tuple(_map(p, ref, func) for p in node.params))
    if isinstance(node, S.BinOp):
        return replace(node, left=_map(node.left, ref, func), right=_map(node.right, ref, func))
    if isinstance(node, S.Neg):
        return replace(node, operand=_map(node.operand, ref, func))
    if isinstance(node, S.Bracket):
        return replace(node, items=tuple(_map(i, ref, func) for i in node.items))
    return node


class _Expander:
    def __init__(self, program: S.Program) -> None:
        self.program = program
        self.notes: list[str] = []
        self.inputs_noted: set[str] = set()

    def err(self, message: str, span: Span | None, **kw) -> RnnvizError:
        return ModelError(message, span, **kw).with_source(self.program.source)

    def number(self, name: S.Name, l: int | None, L: int) -> int:
        """The concrete layer a name's superscript stands for in layer ``l`` of ``L``."""
        layer = layer_of(name)
        assert layer is not None
        m = _CONCRETE.match(layer)
        if m:
            return int(m.group(1))
        m = _SYMBOLIC.match(layer)
        if m.group(3):  # (L)
            return L
        if l is None:
            raise self.err(f"'{name.base}^{{{layer}}}' reads layer l, but l is only defined in an equation written "
                           "for every layer (its left side carries ^{(l)})", name.span,
                           hint=f"read the top layer as {name.base}^{{(L)}}, or a concrete one as "
                                f"{name.base}^{{(1)}}")
        return l + int(m.group(2) or 0)

    def concrete(self, name: S.Name, n: int, *, value_line: bool = False) -> S.Name:
        """``name`` at layer n: the layer superscript becomes a subscript (``h^{(2)}`` -> ``h_2``)."""
        sups = tuple(s for s in name.sups if s != layer_of(name))
        subs = name.subs
        # The layer joins the last subscript (W_{xh}^{(2)} is W_xh2), so the name reads back as written.
        if value_line and subs and subs[-1].lstrip("-").isdigit():
            rest, last = subs[:-1], subs[-1:]  # h_0^{(l)}: the initial value of h_l
        else:
            rest, last = subs, ()
        subs = (rest[:-1] + (rest[-1] + str(n),) if rest and rest[-1].isalpha() else rest + (str(n),)) + last
        return S.Name(name.base, name.accent, subs, sups, name.time, name.bold, name.span)

    def expand(self) -> S.Program:
        stmts = list(self.program.statements)
        named = [n for s in stmts for n in self._names_of(s) if layer_of(n) is not None]
        if not named:
            return self.program
        per_layer = [s for s in stmts if isinstance(s, S.Assign) and s.lhs.time is not None
                     and not s.lhs.time.absolute and _symbolic(s.lhs) and layer_of(s.lhs) == "(l)"]
        # L = 3 among the values: the number of layers (only where layers are written by index).
        L, L_stmt = None, None
        for s in stmts:
            if isinstance(s, S.Assign) and s.lhs.canonical == "L" and s.lhs.time is None and is_constant(s.rhs):
                v = constant(s.rhs)
                if not isinstance(v, float) or not v.is_integer() or v < 1:
                    raise self.err("L, the number of layers, is a whole number of at least 1 (L = 3)",
                                   s.rhs.span or s.span)
                L, L_stmt = int(v), s
        if any(_symbolic(n) for n in named) and not per_layer:
            first = next(n for n in named if _symbolic(n))
            raise self.err(f"'{first.base}^{{{layer_of(first)}}}' is a layer index, but no equation is written for "
                           "every layer", first.span,
                           hint="write one for layer l, as in h_t^{(l)} = tanh(W^{(l)} h_t^{(l-1)} + "
                                "U^{(l)} h_{t-1}^{(l)} + b^{(l)}), with h_t^{(0)} = x_t")
        if per_layer and L is None:
            L = DEFAULT_LAYERS
            self.notes.append(f"L (the number of layers) was not given; {DEFAULT_LAYERS} layers")
        if L is None:  # concrete layers only (H_t^{(1)}, H_t^{(2)}): as many as written
            L = max(int(m.group(1)) for n in named if (m := _CONCRETE.match(layer_of(n) or "")))
        # h_t^{(0)} = x_t: what layer 0 is.
        below: dict[str, S.Assign] = {}
        for s in stmts:
            if isinstance(s, S.Assign) and s.lhs.time is not None and not s.lhs.time.absolute \
                    and layer_of(s.lhs) == "(0)":
                if not isinstance(s.rhs, S.Ref) or s.rhs.name.time is None:
                    raise self.err(f"layer 0 is the input of the first layer: write {s.lhs.base}_t^{{(0)}} = "
                                   "x_t, a name at a time", s.rhs.span or s.span)
                below[s.lhs.with_time(None).canonical] = s
        out: list = []
        for s in stmts:
            if s is L_stmt or (isinstance(s, S.Assign) and any(s is b for b in below.values())):
                continue
            if s in per_layer:
                # Layer by layer, at the place of the first equation written for layer l.
                if s is per_layer[0]:
                    out.extend(self.assign(p, l, L, below) for l in range(1, L + 1) for p in per_layer)
            elif isinstance(s, S.Assign) and s.lhs.time is not None and not s.lhs.time.absolute:
                out.append(self.assign(s, None, L, below))
            elif isinstance(s, (S.Assign, S.Size)) and layer_of(self._lhs(s)) is not None:
                out.extend(self.value_line(s, L, below))
            else:
                out.append(s)
        return S.Program(tuple(out), self.program.file, self.program.source, self.program.notes)

    @staticmethod
    def _lhs(s) -> S.Name:
        return s.lhs if isinstance(s, S.Assign) else s.name

    def _names_of(self, s):
        if isinstance(s, S.Assign):
            yield s.lhs
            yield from _names(s.rhs)
        elif isinstance(s, S.Size):
            yield s.name

    def assign(self, s: S.Assign, l: int | None, L: int, below: dict[str, S.Assign]) -> S.Assign:
        def ref(r: S.Ref) -> S.Node:
            name = r.name
            if layer_of(name) is None:
                return r
            n = self.number(name, l, L)
            if n == 0:
                key = name.with_time(None)
                key = S.Name(key.base, key.accent, key.subs, tuple(x for x in key.sups if x != layer_of(name)))
                rule = below.get(S.Name(key.base, key.accent, key.subs, key.sups + ("(0)",)).canonical)
                if rule is None and below:
                    # Layer 0 is given for another name (H_t^{(0)} = X_t beside h_t^{(l-1)}): a slip, not
                    # an input of its own.
                    given = next(iter(below.values())).lhs
                    raise self.err(f"'{name.base}^{{(0)}}', the layer below the first, is not defined (only "
                                   f"{given.base}_t^{{(0)}} is)", name.span,
                                   hint=f"add {name.base}_t^{{(0)}} = x_t (the input of the first layer)")
                if rule is None:
                    # d2l.ai writes the stack without H_t^{(0)} = X_t beside it (it says so in its prose):
                    # layer 0, defined nowhere, is the input of the stack, named as written.
                    input_name = S.Name(name.base, name.accent, name.subs, key.sups + ("(0)",), name.time,
                                        name.bold, name.span)
                    if input_name.canonical not in self.inputs_noted:
                        self.inputs_noted.add(input_name.canonical)
                        self.notes.append(f"{name.span}: {name.base}_t^{{(0)}}, the layer below the first, is "
                                          f"defined nowhere: it is read as the input of the stack; write "
                                          f"{name.base}_t^{{(0)}} = x_t to name the input")
                    return S.Ref(input_name, r.span)
                target = rule.rhs.name
                if name.time is None:
                    return S.Ref(target.with_time(None), r.span)
                shift = name.time.offset - rule.lhs.time.offset
                return S.Ref(target.with_time(S.Time(target.time.offset + shift)), r.span)
            if n > L:
                raise self.err(f"'{name}' reads layer {n}, above the top layer L = {L}", name.span)
            if n < 0:
                raise self.err(f"'{name}' reads layer {n}; layers are 0 (the input), 1, ..., L", name.span)
            return S.Ref(self.concrete(name, n), r.span)

        def func(name: S.Name) -> S.Name:
            # `\phi_l`: the activation of layer l (d2l.ai), one per layer.
            if l is not None and name.subs and name.subs[-1] == "l" and name.time is None:
                return S.Name(name.base, name.accent, name.subs[:-1] + (str(l),), name.sups, None, name.bold,
                              name.span)
            return name

        lhs = s.lhs
        if layer_of(lhs) is not None:
            n = self.number(lhs, l, L)
            if n < 1 or n > L:
                raise self.err(f"'{lhs}' computes layer {n}; the layers are 1, ..., L = {L}", lhs.span)
            lhs = self.concrete(lhs, n)
        return S.Assign(lhs, _map(s.rhs, ref, func), s.caption, s.span)

    def value_line(self, s, L: int, below: dict[str, S.Assign]) -> list:
        name = self._lhs(s)
        layer = layer_of(name)
        layers = range(1, L + 1) if layer == "(l)" else [self.number(name, None, L)]
        out = []
        for n in layers:
            if n == 0:
                bare = S.Name(name.base, name.accent, name.subs, tuple(x for x in name.sups if x != layer))
                if S.Name(bare.base, bare.accent, bare.subs, bare.sups + ("(0)",)).canonical not in below:
                    out.append(s)  # layer 0 defined nowhere is the input H^{(0)} itself
                continue  # else the size of h^{(0)} is the size of x, given as such
            new = self.concrete(name, n, value_line=True)
            out.append(replace(s, lhs=new) if isinstance(s, S.Assign) else replace(s, name=new))
        return out


def expand_layers(program: S.Program) -> tuple[S.Program, list[str]]:
    """The program with every layer written out, and the notes to show (a default L)."""
    x = _Expander(program)
    return x.expand(), x.notes
