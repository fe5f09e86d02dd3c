#!/usr/bin/env bash
# Install what rnnviz needs on a Debian/Ubuntu machine, skipping what is already there.
#
#   scripts/install-deps.sh          Graphviz (the `dot` program) + the package itself
#   scripts/install-deps.sh --test   also Chromium, ChromeDriver, fonts, the test extras,
#                                    selenium and the CPU build of torch 2.13.0
#
# Runs apt-get only when something is missing (so a second run is fast) and uses sudo
# only when not root. Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
want_test=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
    esac
done

# --- system packages ----------------------------------------------------------------
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ "$want_test" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    # Diagrams and screenshots name DejaVu/Liberation explicitly; without them text
    # falls back to whatever font exists and measurements drift.
    if ! fc-list 2>/dev/null | grep -qi 'DejaVu Sans'; then
        missing+=(fontconfig fonts-dejavu-core fonts-liberation2)
    fi
fi

if [ "${#missing[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "==> installing system packages: ${missing[*]}"
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "install-deps.sh: missing ${missing[*]} and no apt-get here." >&2
        echo "  macOS: brew install graphviz (and chromium + chromedriver for the browser tests)" >&2
        echo "  Fedora: sudo dnf install graphviz chromium chromedriver" >&2
        exit 1
    fi
else
    echo "==> system packages already present"
fi

# --- LaTeX and PDF tools for the exercise sheets (--test only) ------------------------
# `rnnviz exercise --format tex` writes sheets for pdflatex, and the tests compile them and
# count the pages of `rnnviz draw --frames` with pdfinfo. Skipped when already present.
if [ "$want_test" = 1 ]; then
    sheet_missing=()
    command -v pdflatex >/dev/null 2>&1 || sheet_missing+=(texlive-latex-base texlive-latex-extra)
    command -v pdfinfo >/dev/null 2>&1 || sheet_missing+=(poppler-utils)
    if [ "${#sheet_missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "==> installing LaTeX and PDF tools: ${sheet_missing[*]}"
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${sheet_missing[@]}"
    elif [ "${#sheet_missing[@]}" -gt 0 ]; then
        echo "install-deps.sh: missing ${sheet_missing[*]} (the LaTeX sheet tests will be skipped)" >&2
    fi
fi

# --- Python ---------------------------------------------------------------------------
# A Debian/Ubuntu system Python refuses `pip install` (PEP 668): install into a project
# virtual environment then, which scripts/py (used by the Makefile) picks up.
apt_install() {
    local SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
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
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    echo "==> installing pip"
    apt_install python3-pip
fi

# --- Python packages ----------------------------------------------------------------
if [ "$want_test" = 1 ]; then
    # Exactly 2.13.0: a plain 'torch' would pull a multi-GB CUDA build.
    if ! "$PYTHON" -c 'import torch, sys; sys.exit(not torch.__version__.startswith("2.13.0"))' 2>/dev/null; then
        echo "==> installing torch==2.13.0"
        "$PYTHON" -m pip install -q torch==2.13.0
    fi
    echo "==> installing rnnviz with its test extras"
    "$PYTHON" -m pip install -q -e '.[test]'
else
    echo "==> installing rnnviz"
    "$PYTHON" -m pip install -q -e '.[docs]'
fi
echo "==> done"
