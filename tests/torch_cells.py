"""PyTorch's recurrent layers as rnnviz equations, and their weights under the equations' names.

Shared by the forward and the gradient cross-checks, so that PyTorch's conventions (gate
order in the stacked weights, the GRU's reset gate acting on ``W_hn h + b_hn``) are written
down once.
"""

from __future__ import annotations

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
