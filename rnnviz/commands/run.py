"""``rnnviz run FILE``: the forward pass, as a per-step table, CSV or JSON.

Example:
    >>> import tempfile, os
    >>> from rnnviz.cli import main
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "relu.rnn")
    >>> _ = open(p, "w").write("h_t = ReLU(V h_{t-1} + W x_t)\\n"
    ...                        "V = -3, W = 3, h_0 = 0, x_1 = 2, x_2 = 3 and x_3 = 1\\n")
    >>> main(["run", p])
    t  x  h
    0     0
    1  2  6
    2  3  0
    3  1  3
    0
    >>> main(["run", p, "--json"])
    {"steps": 3, "values": {"x": [null, 2.0, 3.0, 1.0], "h": [0.0, 6.0, 0.0, 3.0]}, "drawn": []}
    0
"""

from __future__ import annotations

import argparse
import json

from ._common import (
    add_model_arguments,
    add_strict_argument,
    announce_drawn,
    count,
    digits,
    load_model_from_args,
    seed,
    steps,
)

HELP = "the forward pass: every variable at every step, as a table, CSV or JSON"
DESCRIPTION = """\
Run the equations for t = 1..T with numpy and print every input and every
computed variable at every step; step 0 shows the initial states. A backward
chain (g[t] = tanh(W g[t+1] + ...)) runs from T down to 1; the table shows its
starting value at step T+1.

Values come from the equation file, then --values files, then --set (later
wins). Parameters with a size but no value are drawn from a seeded generator
(uniform in +-1/sqrt(fan-in), as PyTorch does), inputs without values from a
standard normal; initial states without values are zero. T is the length of
the input sequence, or --steps.

  rnnviz run relu.rnn
  rnnviz run vanilla.rnn --steps 4 --seed 1 --csv
  rnnviz run lstm.rnn --set 'x=[[1,0,0],[0,1,0]]' --json

A total over time (L = \\sum_t L^{(t)}) is printed below the table. An
encoder-decoder prints the encoder's steps (T), the values computed once at
its last step (the context), then the decoder's own steps (T').

JSON: {"steps": T, "values": {NAME: [v0, v1, ..., vT]}}; the list index is the
step, index 0 holds the initial value (null where there is none), scalars are
numbers and vectors lists (with --batch, one more level for the batch); a total
over time adds "totals": {NAME: number}.
CSV: one row per step (and batch entry), one column per scalar or component;
vector components are numbered from 1 (h.1, h.2, ...).
An encoder-decoder's JSON is {"encoder": {"steps": T, "values": {...}},
"context": {NAME: value}, "decoder": {"steps": T', "values": {...}}}; its CSV
has a first column "phase" (encoder, context, decoder).
"""

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "add_forward_arguments", "trace_from_args", "run",
           "format_number"]


def add_forward_arguments(parser: argparse.ArgumentParser, *, batch: bool = True) -> None:
    """FILE, --values, --set, --steps, --seed (and --batch): what a forward pass needs."""
    add_model_arguments(parser)
    parser.add_argument("--steps", type=steps, default=None, metavar="T",
                        help="number of steps (default: the length of the input sequence, else 5)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for parameters and inputs that no value gives (default 0)")
    add_strict_argument(parser)
    if batch:
        parser.add_argument("--batch", type=count, default=None, metavar="B",
                            help="add a batch axis of B entries (values given in the file are shared; "
                                 "drawn inputs differ per entry)")


def trace_from_args(args: argparse.Namespace):
    """Load the model with its values and run the forward pass the options ask for."""
    from ..numeric.forward_pass import forward

    model = load_model_from_args(args)
    trace = forward(model, steps=args.steps, seed=args.seed, batch=getattr(args, "batch", None))
    announce_drawn(model, trace, args)
    return trace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --steps, --seed, --batch, --precision, --csv, --json, --values, --set."""
    add_forward_arguments(parser)
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV (one column per scalar or component)")
    out.add_argument("--json", action="store_true",
                     help='print {"steps": T, "values": {NAME: [v0, ..., vT]}, "drawn": [NAME, ...]} '
                          '("drawn": what no value gave, drawn at random)')
    parser.add_argument("--precision", type=digits, default=None, metavar="N",
                        help="digits after the point (default: 4 in the table, all in CSV and JSON)")


def format_number(v: float, precision: int | None) -> str:
    """A number rounded to ``precision`` digits after the point, without trailing zeros.

    Example:
        >>> format_number(6.0, 4), format_number(0.543612, 4), format_number(-0.00001, 3)
        ('6', '0.5436', '0')
    """
    if precision is None:
        return repr(float(v))
    text = f"{float(v):.{precision}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: Vectors longer than this are shortened in the table (CSV and JSON keep everything).
TABLE_ENTRIES = 8


def _cell(value, precision: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        items = [_cell(v, precision) for v in value]
        if len(items) > TABLE_ENTRIES:
            items = items[:3] + [f"... ({len(value)} entries) ..."] + items[-2:]
        return "[" + ", ".join(items) + "]"
    return format_number(value, precision)


def _plain(trace, precision: int | None, names=None) -> dict[str, list]:
    """name -> [v0, ..., vT] as Python numbers and lists (rounded if asked); all names, or ``names``."""
    out = {}
    for name, series in trace.values.items():
        if names is not None and name not in names:
            continue
        row = []
        for v in series:
            if v is None:
                row.append(None)
                continue
            x = v.tolist()
            row.append(_round(x, precision) if precision is not None else x)
        out[name] = row
    return out


def _round(x, precision: int):
    return [_round(v, precision) for v in x] if isinstance(x, list) else round(x, precision) + 0.0


def table(trace, precision: int = 4, names=None) -> str:
    """The per-step table: a row per step, a column per input or variable (all, or ``names``).

    An encoder-decoder has a table per phase, with its contexts between them (:func:`phased_table`).
    """
    if getattr(trace, "decoder", None) is not None:
        return phased_table(trace, precision)
    values = _plain(trace, None, names)
    names = list(values)
    rows = [["t"] + names]
    for t in range(trace.steps + 1):
        rows.append([str(t)] + [_cell(values[n][t], precision) for n in names])
    # A backward chain starts after the last step: its row T+1 (inputs read ahead show there too).
    last = trace.steps + max((trace.model.max_lead(n) for n in trace.model.backward), default=0)
    for t in range(trace.steps + 1, last + 1):
        rows.append([str(t)] + [_cell(trace.value(n, t).tolist(), precision) if trace.has(n, t) else ""
                                for n in names])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.ljust(w) if c.startswith("[") or r is rows[0] else c.rjust(w) for c, w in zip(r, widths)]
        lines.append("  ".join(cells).rstrip())
    for name, per_step in trace.model.totals:  # L = \sum_t L^{(t)}, or their mean
        what = "the mean" if name in trace.model.means else "the sum"
        lines.append(f"{name} = {format_number(float(total(trace, per_step, name)), precision)}  "
                     f"({what} of {per_step} over t = 1..{trace.steps})")
    return "\n".join(lines)


def total(trace, per_step: str, name: str | None = None):
    """The sum over every step (and entry, and batch entry) of ``per_step``: a total loss; divided
    by the number of steps when the total ``name`` is a mean (``L = \\frac{1}{T} \\sum_t L_t``)."""
    import numpy as np

    out = np.sum([np.sum(trace.value(per_step, t)) for t in range(1, trace.steps + 1)])
    return out / trace.steps if name in trace.model.means else out


def _flat(x) -> list:
    return [y for v in x for y in _flat(v)] if isinstance(x, list) else [x]


def _csv_columns(trace, values: dict) -> list[str]:
    header = []
    for name in values:
        shape = trace.shapes.of(name)
        header += [name] if not shape else [f"{name}.{i + 1}" for i in range(shape[0])]
    return header


def _csv_rows(trace, values: dict, precision: int | None, steps) -> list[list[str]]:
    """One row per step of ``steps`` (and batch entry): the step, the batch entry, the values."""
    batched = trace.batch is not None
    rows = []
    for t in steps:
        for b in range(trace.batch or 1):
            row = [str(t)] + ([str(b)] if batched else [])
            for name, series in values.items():
                width = max(1, (trace.shapes.of(name) or (1,))[0])
                v = series[t]
                if v is None:
                    row += [""] * width
                    continue
                v = v[b] if batched else v
                row += [format_number(x, precision) for x in _flat(v)]
            rows.append(row)
    return rows


def csv_text(trace, precision: int | None = None) -> str:
    """CSV with a row per step (and batch entry) and a column per scalar or vector component.

    An encoder-decoder's CSV has a first column ``phase``: the encoder's rows, one ``context``
    row at step T, then the decoder's rows (its own steps 0..T'), each filling its own columns.
    """
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    batch = ["batch"] if trace.batch is not None else []
    if getattr(trace, "decoder", None) is None:
        values = _plain(trace, None)
        w.writerow(["t"] + batch + _csv_columns(trace, values))
        w.writerows(_csv_rows(trace, values, precision, range(trace.steps + 1)))
        return buf.getvalue()
    parts = _phase_names(trace)
    blocks = [(phase, sub, _plain(sub, None, names)) for phase, sub, names in parts]
    columns = [_csv_columns(sub, values) for _, sub, values in blocks]
    w.writerow(["phase", "t"] + batch + [c for cols in columns for c in cols])
    for i, (phase, sub, values) in enumerate(blocks):
        steps = [sub.steps] if phase == "context" else range(sub.steps + 1)
        before = sum(len(c) for c in columns[:i])
        after = sum(len(c) for c in columns[i + 1:])
        for row in _csv_rows(sub, values, precision, steps):
            lead = 1 + len(batch)
            w.writerow([phase] + row[:lead] + [""] * before + row[lead:] + [""] * after)
    return buf.getvalue()


def _phase_names(trace) -> list[tuple[str, object, list[str]]]:
    """An encoder-decoder's (phase, its trace, the names it shows): encoder, context, decoder."""
    enc, dec = trace.encoder, trace.decoder
    once = set(enc.model.once)
    return [("encoder", enc, [n for n in enc.names if n not in once]),
            ("context", enc, [n for n in enc.names if n in once]),
            ("decoder", dec, [n for n in dec.names if n not in trace.model.phases.contexts])]


def phased_table(trace, precision: int = 4) -> str:
    """An encoder-decoder's run: the encoder's steps, the contexts (once, at T), the decoder's steps."""
    (_, enc, enc_names), (_, _, once), (_, dec, dec_names) = _phase_names(trace)
    T = enc.steps
    lines = [f"encoder, t = 1..T (T = {T})", table(enc, precision, enc_names), "",
             f"computed once, at the encoder's last step (t = T = {T})"]
    width = max(len(n) for n in once)
    for n in once:
        lines.append(f"{n.ljust(width)}  {_cell(enc.value(n, T).tolist(), precision)}")
    lines += ["", f"decoder, t = 1..T' (T' = {dec.steps})", table(dec, precision, dec_names)]
    return "\n".join(lines)


def json_text(trace, precision: int | None = None) -> str:
    """{"steps": T, "values": {NAME: [v0, ..., vT]}, "drawn": [NAME, ...]} (and "batch": B when batched).

    "drawn" names the parameters and inputs that no value gave, drawn from the seeded generator.
    """
    if getattr(trace, "decoder", None) is not None:
        return _phased_json(trace, precision)
    doc: dict = {"steps": trace.steps}
    if trace.batch is not None:
        doc["batch"] = trace.batch
    doc["values"] = _plain(trace, precision)
    doc["drawn"] = list(trace.drawn)
    if trace.model.totals:  # L = \sum_t L^{(t)}: {"totals": {"L": 0.17}}
        doc["totals"] = {name: _round(float(total(trace, per_step, name)), precision) if precision is not None
                         else float(total(trace, per_step, name)) for name, per_step in trace.model.totals}
    return json.dumps(doc)


def _totals(trace, precision: int | None) -> dict:
    return {name: _round(float(total(trace, per_step)), precision) if precision is not None
            else float(total(trace, per_step)) for name, per_step in trace.model.totals}


def _phased_json(trace, precision: int | None) -> str:
    """{"encoder": {"steps": T, "values": ...}, "context": {NAME: value}, "decoder": {"steps": T', ...}}."""
    (_, enc, enc_names), (_, _, once), (_, dec, dec_names) = _phase_names(trace)
    doc: dict = {}
    if trace.batch is not None:
        doc["batch"] = trace.batch
    doc["encoder"] = {"steps": enc.steps, "values": _plain(enc, precision, enc_names)}
    doc["context"] = {n: _plain(enc, precision, [n])[n][enc.steps] for n in once}
    doc["decoder"] = {"steps": dec.steps, "values": _plain(dec, precision, dec_names)}
    doc["drawn"] = list(trace.drawn)
    totals = {**_totals(enc, precision), **_totals(dec, precision)}
    if totals:
        doc["totals"] = totals
    return json.dumps(doc)


def run(args: argparse.Namespace) -> int:
    """Print the forward pass as a table, CSV or JSON."""
    trace = trace_from_args(args)
    if args.json:
        print(json_text(trace, args.precision))
    elif args.csv:
        print(csv_text(trace, args.precision), end="")
    else:
        print(table(trace, 4 if args.precision is None else args.precision))
    return 0
