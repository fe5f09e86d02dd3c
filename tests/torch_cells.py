"""PyTorch's recurrent layers as rnnviz equations, and their weights under the equations' names.

Shared by the forward and the gradient cross-checks, so that PyTorch's conventions (gate
order in the stacked weights, the GRU's reset gate acting on ``W_hn h + b_hn``) are written
down once.
"""

from __future__ import annotations

import re

import numpy as np

# PyTorch's equations, gate by gate (torch.nn docs); its stacked weights are split per gate.
_EQUATIONS = {
    "rnn": """
h[t] = {act}(W_ih x[t] + b_ih + W_hh h[t-1] + b_hh)
""",
    "lstm": """
i[t] = sigmoid(W_ii x[t] + b_ii + W_hi h[t-1] + b_hi)
f[t] = sigmoid(W_if x[t] + b_if + W_hf h[t-1] + b_hf)
g[t] = tanh(W_ig x[t] + b_ig + W_hg h[t-1] + b_hg)
o[t] = sigmoid(W_io x[t] + b_io + W_ho h[t-1] + b_ho)
c[t] = f[t] * c[t-1] + i[t] * g[t]
h[t] = o[t] * tanh(c[t])
""",
    # The reset gate acts on W_hn h + b_hn, not on h.
    "gru": """
r[t] = sigmoid(W_ir x[t] + b_ir + W_hr h[t-1] + b_hr)
z[t] = sigmoid(W_iz x[t] + b_iz + W_hz h[t-1] + b_hz)
n[t] = tanh(W_in x[t] + b_in + r[t] * (W_hn h[t-1] + b_hn))
h[t] = (1 - z[t]) * n[t] + z[t] * h[t-1]
""",
}

#: PyTorch stacks the gates in this order in weight_ih_l0 and friends.
GATES = {"rnn": "", "lstm": "ifgo", "gru": "rzn"}


def equations(kind: str, *, inputs: int, hidden: int, act: str = "tanh") -> str:
    """The equations of PyTorch's ``kind`` layer (rnn, lstm, gru) with its sizes."""
    return _EQUATIONS[kind].format(act=act) + f"dim x = {inputs}, h = {hidden}\n"


def per_gate(layer, kind: str, hidden: int, *, grad: bool = False) -> dict[str, np.ndarray]:
    """The layer's stacked weights (or their ``.grad``), one array per gate, under the
    equations' names: ``W_ih``/``b_hh`` for the plain RNN, ``W_ii``, ``b_hf``, ... for gates."""
    out = {}
    for kind_ in ("ih", "hh"):
        for what, prefix in (("weight", "W"), ("bias", "b")):
            tensor = getattr(layer, f"{what}_{kind_}_l0")
            full = (tensor.grad if grad else tensor.detach()).numpy()
            if not GATES[kind]:
                out[f"{prefix}_{kind_}"] = full
                continue
            for k, gate in enumerate(GATES[kind]):
                out[f"{prefix}_{kind_[0]}{gate}"] = full[k * hidden:(k + 1) * hidden]
    return out


def _tag(layer: int, backward: bool) -> str:
    return f"{'b' if backward else 'f'}{layer}"


def stack_equations(kind: str, *, inputs: int, hidden: int, layers: int = 1, bidirectional: bool = False,
                    act: str = "tanh") -> str:
    """PyTorch's ``num_layers`` / ``bidirectional`` stack of ``kind`` as rnnviz equations.

    Layer l (1-based) and direction get their own names: ``h_f1`` (forward), ``h_b1``
    (backward, reading ``h_b1[t+1]``), gates ``i_f1``, weights ``W_ii_f1``; a layer above
    the first reads the layer below at the same step (both directions, concatenated).
    """
    import re

    out = []
    for layer in range(1, layers + 1):
        for backward in ((False, True) if bidirectional else (False,)):
            tag = _tag(layer, backward)
            if layer == 1:
                below = "x[t]"
            elif bidirectional:
                below = f"[h_{{{_tag(layer - 1, False)}}}[t], h_{{{_tag(layer - 1, True)}}}[t]]"
            else:
                below = f"h_{{{_tag(layer - 1, False)}}}[t]"
            text = _EQUATIONS[kind].format(act=act)
            text = text.replace("x[t]", "X")
            # Braced subscripts, as LaTeX would need them: h_{f1}, W_{ih,f1}.
            text = re.sub(r"\b([a-z])\[t(-1)?\]", lambda m: f"{m.group(1)}_{{{tag}}}[t{'+1' if backward else '-1'}]"
                          if m.group(2) else f"{m.group(1)}_{{{tag}}}[t]", text)
            text = re.sub(r"\b([Wb])_([a-z]{2})\b", rf"\1_{{\2,{tag}}}", text)
            out.append(text.replace("X", below))
    sizes = ", ".join(f"h_{{{_tag(layer, b)}}} = {hidden}" for layer in range(1, layers + 1)
                      for b in ((False, True) if bidirectional else (False,)))
    return "".join(out) + f"dim x = {inputs}, {sizes}\n"


def stack_weights(net, kind: str, hidden: int, *, grad: bool = False) -> dict[str, np.ndarray]:
    """Every layer's and direction's weights (or ``.grad``) under the names of :func:`stack_equations`."""
    out = {}
    for k in range(net.num_layers):
        for backward in ((False, True) if net.bidirectional else (False,)):
            suffix = f"_l{k}" + ("_reverse" if backward else "")
            tag = _tag(k + 1, backward)
            for kind_ in ("ih", "hh"):
                for what, prefix in (("weight", "W"), ("bias", "b")):
                    tensor = getattr(net, f"{what}_{kind_}{suffix}")
                    full = (tensor.grad if grad else tensor.detach()).numpy()
                    if not GATES[kind]:
                        out[f"{prefix}_{kind_}_{tag}"] = full
                        continue
                    for j, gate in enumerate(GATES[kind]):
                        out[f"{prefix}_{kind_[0]}{gate}_{tag}"] = full[j * hidden:(j + 1) * hidden]
    return out


def stack_states(net, kind: str) -> list[tuple[str, str, int]]:
    """(variable, PyTorch state, index in h_0 / h_n) of every layer and direction, in PyTorch's order."""
    out = []
    for k in range(net.num_layers):
        for j, backward in enumerate((False, True) if net.bidirectional else (False,)):
            tag = _tag(k + 1, backward)
            index = k * (2 if net.bidirectional else 1) + j
            out.append((f"h_{tag}", "h", index))
            if kind == "lstm":
                out.append((f"c_{tag}", "c", index))
    return out


def layer_index_equations(kind: str, *, inputs: int, hidden: int, layers: int, act: str = "tanh") -> str:
    """PyTorch's ``num_layers`` stack written once, for layer l, as Goodfellow et al. and d2l.ai do:
    ``h_t^{(l)}`` reads ``h_t^{(l-1)}`` with ``h_t^{(0)} = x_t``; ``L`` layers; ``W_{ii}^{(l)}`` per layer."""
    import re

    text = _EQUATIONS[kind].format(act=act).replace("x[t]", "h_t^{(l-1)}")
    text = re.sub(r"\b([a-z])\[t-1\]", r"\1_{t-1}^{(l)}", text)
    text = re.sub(r"\b([a-z])\[t\]", r"\1_t^{(l)}", text)
    text = re.sub(r"\b([Wb])_([a-z]{2})\b", r"\1_{\2}^{(l)}", text)
    return text + f"h_t^{{(0)}} = x_t\nL = {layers}\nx_t \\in \\mathbb{{R}}^{inputs}, h_t^{{(l)}} \\in \\mathbb{{R}}^{hidden}\n"


def layer_index_weights(net, kind: str, hidden: int, *, grad: bool = False) -> dict[str, np.ndarray]:
    """The weights of every layer under the names the layer-index equations expand to (``W_ii_2``)."""
    return {re.sub(r"_f(\d+)$", r"\1", name): v for name, v in stack_weights(net, kind, hidden, grad=grad).items()}
