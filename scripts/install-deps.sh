#!/usr/bin/env bash
# Install what rnnviz needs on a Debian/Ubuntu machine, skipping what is already there.
#
#   scripts/install-deps.sh          Graphviz (the `dot` program) + the package itself
#   scripts/install-deps.sh --test   also Chromium, ChromeDriver, fonts, poppler-utils, the
#                                    test extras and the CPU build of torch 2.13.0
#
# Runs apt-get only when something is missing and pip only when pyproject.toml changed
# since the last install (so a second run takes a second), waits for another apt to
# finish, and uses sudo only when not root. PYTHON chooses the interpreter (python3).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
want_test=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
    esac
done

# --- system packages ----------------------------------------------------------------
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ "$want_test" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    # PDF checks of the slides (pdfinfo, pdffonts, pdfimages, pdftotext).
    command -v pdfinfo >/dev/null 2>&1 || missing+=(poppler-utils)
    # Diagrams and screenshots name DejaVu/Liberation explicitly; without them text
    # falls back to whatever font exists and measurements drift. (No `grep -q` on a
    # pipe: it exits at the first match, fc-list dies of SIGPIPE and pipefail fails.)
    fonts=$(fc-list : family 2>/dev/null || true)
    case "$fonts" in
        *"DejaVu Sans"*) ;;
        *) missing+=(fontconfig fonts-dejavu-core fonts-liberation2) ;;
    esac
fi

# Another apt or dpkg (unattended upgrades, a second terminal) holds the lock: wait for
# it up to five minutes instead of failing at once.
APT_WAIT=(-o DPkg::Lock::Timeout=300)
apt_install() {
    local SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get "${APT_WAIT[@]}" update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -q --no-install-recommends "$@"
}

if [ "${#missing[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "==> installing system packages: ${missing[*]}"
        apt_install "${missing[@]}"
    else
        echo "install-deps.sh: missing ${missing[*]} and no apt-get here." >&2
        echo "  macOS: brew install graphviz poppler (and chromium + chromedriver for the browser tests)" >&2
        echo "  Fedora: sudo dnf install graphviz poppler-utils chromium chromedriver" >&2
        exit 1
    fi
else
    echo "==> system packages already present"
fi

# --- LaTeX and PDF tools for the exercise sheets (--test only) ------------------------
# `rnnviz exercise --format tex` writes sheets for pdflatex, and the tests compile them and
# count the pages of `rnnviz draw --frames` with pdfinfo (poppler-utils, installed above).
# Skipped when already present.
if [ "$want_test" = 1 ]; then
    sheet_missing=()
    # lmodern (the sheets' fonts) is only a recommendation of texlive-latex-base, which
    # --no-install-recommends leaves out: asked for by name, and looked up with kpsewhich.
    if ! command -v pdflatex >/dev/null 2>&1; then
        sheet_missing+=(texlive-latex-base texlive-latex-extra lmodern)
    elif ! kpsewhich lmodern.sty >/dev/null 2>&1; then
        sheet_missing+=(lmodern)
    fi
    if [ "${#sheet_missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing LaTeX and PDF tools: ${sheet_missing[*]}"
        apt_install "${sheet_missing[@]}"
    elif [ "${#sheet_missing[@]}" -gt 0 ]; then
        echo "install-deps.sh: missing ${sheet_missing[*]} (the LaTeX sheet tests will be skipped)" >&2
    fi
fi

# --- Python ---------------------------------------------------------------------------
# A Debian/Ubuntu system Python refuses `pip install` (PEP 668): install into a project
# virtual environment then, which scripts/py (used by the Makefile) picks up.
if [ -z "${VIRTUAL_ENV:-}" ] && [ ! -x .venv/bin/python ] && "$PYTHON" - <<'PY'
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)
PY
then
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
        echo "==> installing python3-venv"
        apt_install python3-venv
    fi
    echo "==> $PYTHON is managed by the system; making a virtual environment in .venv/"
    "$PYTHON" -m venv .venv
fi
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
fi
# (Asking for pip's module, not running `pip --version`, which takes seconds.)
if ! "$PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pip") is None)' 2>/dev/null; then
    echo "==> installing pip"
    apt_install python3-pip
fi

# --- Python packages ----------------------------------------------------------------
if [ "$want_test" = 1 ]; then
    # Exactly 2.13.0: a plain 'torch' would pull a multi-GB CUDA build. (The metadata
    # answers in milliseconds; importing torch takes seconds.)
    if ! "$PYTHON" -c 'import importlib.metadata as m, sys; sys.exit(not m.version("torch").startswith("2.13.0"))' 2>/dev/null; then
        echo "==> installing torch==2.13.0"
        "$PYTHON" -m pip install -q torch==2.13.0
    fi
    extras=test
else
    extras=docs
fi
# `pip install -e` takes seconds even when nothing changed, so it runs only when the
# stamp is missing or stale: the stamp holds a hash of pyproject.toml, the extras and
# the interpreter, and it counts only while that interpreter's rnnviz is still the
# editable install of this folder, at the version pyproject.toml gives.
stamp_dir=build
[ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python ] && stamp_dir=.venv
stamp="$stamp_dir/.rnnviz-install-$extras"
case "$PYTHON" in
    */*) py_path=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON") ;;
    *) py_path=$(command -v "$PYTHON") ;;
esac
want=$( { cat pyproject.toml; echo "$extras"; echo "$py_path"; } | "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
installed_here() {
    local root="$PWD"
    (cd / && env -u PYTHONPATH "$py_path" - "$root" <<'PY'
import importlib.metadata as m, importlib.util, json, os, re, sys
from urllib.parse import unquote, urlparse
root = os.path.realpath(sys.argv[1])
spec = importlib.util.find_spec("rnnviz")
if spec is None or os.path.realpath(spec.origin) != os.path.join(root, "rnnviz", "__init__.py"):
    sys.exit(1)
text = open(os.path.join(root, "pyproject.toml"), encoding="utf-8").read()
version = re.search(r'(?m)^version\s*=\s*"([^"]+)"', text).group(1)
dist = m.distribution("rnnviz")  # PackageNotFoundError: not installed, exit 1
url = json.loads(dist.read_text("direct_url.json") or "{}")
sys.exit(0 if dist.version == version and url.get("dir_info", {}).get("editable")
         and os.path.realpath(unquote(urlparse(url.get("url", "")).path)) == root else 1)
PY
    ) 2>/dev/null
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && installed_here; then
    echo "==> rnnviz[$extras] already installed (pyproject.toml unchanged)"
else
    echo "==> installing rnnviz with its $extras extras"
    "$PYTHON" -m pip install -q -e ".[$extras]"
    mkdir -p "$stamp_dir"
    echo "$want" > "$stamp"
fi
echo "==> done"
