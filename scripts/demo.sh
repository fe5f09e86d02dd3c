#!/usr/bin/env bash
# Draw every bundled example (examples/*.rnn), folded and unrolled (and the cell of
# gated networks), as SVG and PNG,
# into $OUT (default: out/), and print where the files are.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="scripts/py"
OUT="${OUT:-out}"
mkdir -p "$OUT"
for file in examples/*.rnn; do
    # `-o DIR/` writes <stem>.folded.<ext> and <stem>.unrolled.<ext> into DIR.
    "$PY" -m rnnviz draw "$file" --view both -o "$OUT/" >/dev/null
    "$PY" -m rnnviz draw "$file" --view both --format png -o "$OUT/" >/dev/null
    # Gated cells (LSTM, GRU) also get the cell diagram by operation (an encoder-decoder's: its
    # encoder cell, the context and its decoder cell).
    if ! "$PY" -m rnnviz gates "$file" --json | grep -q '"gates": {}'; then
        "$PY" -m rnnviz draw "$file" --view cell -o "$OUT/" >/dev/null
        "$PY" -m rnnviz draw "$file" --view cell --format png -o "$OUT/" >/dev/null
    fi
done
echo
echo "Drew $(ls examples/*.rnn | wc -l) examples into $(cd "$OUT" && pwd)/:"
ls -1 "$OUT" | sed 's/^/  /'
echo "Open the .svg files in a browser, or put the .png files on a slide."
