#!/usr/bin/env bash
# Refresh the copy of KaTeX shipped in rnnviz/assets/ (used to typeset math offline).
# Takes the katex package from the npm registry with `npm pack`; keeps only the minified
# script, the stylesheet and the woff2 fonts, flattened next to each other so that the
# package data pattern `assets/*` ships them.
#   scripts/vendor-katex.sh [VERSION]      (default 0.19.1)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-0.19.1}"
dest="rnnviz/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "katex@$version" >/dev/null && tar xzf katex-*.tgz)
dist="$tmp/package/dist"
rm -f "$dest"/katex.min.js "$dest"/katex.min.css "$dest"/KaTeX_*.woff2
cp "$dist/katex.min.js" "$dest/katex.min.js"
cp "$dist"/fonts/*.woff2 "$dest/"
cp "$tmp/package/LICENSE" "$dest/KATEX-LICENSE.txt"
# Fonts sit beside the stylesheet, and only woff2 is kept: drop the woff/ttf fallbacks so a
# browser never asks for a file that is not there.
"${PYTHON:-python3}" - "$dist/katex.min.css" "$dest/katex.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
css = css.replace("url(fonts/", "url(")
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
echo "KaTeX $version vendored into $dest/"
