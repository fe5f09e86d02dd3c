"""scripts/install-deps.sh (behind ``make demo`` and ``make test``) installs only what is missing.

The script runs in a copy of the project against stand-ins: ``apt-get`` and ``pip`` only
write down how they were called, ``dot``, ``chromium`` and the rest exist or not as a
test needs, and the Python given as ``PYTHON`` imports rnnviz from the copy.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOOLS = ("dot", "chromium", "chromedriver", "pdfinfo", "pdflatex", "kpsewhich")
#: What the script itself runs; the PATH of a run holds only these and the stand-ins.
UTILITIES = ("bash", "sh", "cat", "dirname", "basename", "mkdir", "rm", "sed", "yes", "head", "id", "env")


def _script(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's set-up (script, pyproject, package top) and a bin/ of stand-ins."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "install-deps.sh", root / "scripts")
    shutil.copy2(ROOT / "pyproject.toml", root)
    (root / "rnnviz").mkdir()
    (root / "rnnviz" / "__init__.py").write_text('"""stand-in."""\n', encoding="utf-8")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name in UTILITIES:
        (bin_ / name).symlink_to(shutil.which(name))
    log = tmp_path / "calls.log"
    for name in ("apt-get", "sudo"):
        _script(bin_ / name, f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    for name in TOOLS:
        _script(bin_ / name, "#!/bin/sh\nexit 0\n")
    # fc-list writes far more than a pipe holds after the font asked for: a reader that
    # stops at the first match (grep -q) kills it with SIGPIPE.
    _script(bin_ / "fc-list", "#!/bin/sh\necho 'DejaVu Sans'\nyes 'Some Other Font' | head -n 200000\n")
    # The Python that pip "installs into": `-m pip ...` is written down (and, once an
    # editable install ran, rnnviz with the copy's version is importable from the copy);
    # everything else runs the real interpreter.
    site = tmp_path / "site"
    _script(bin_ / "python-under-test", f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "pip $*" >> "{log}"
    case "$*" in *" -e "*)
        version=$(sed -n 's/^version = "\\(.*\\)"/\\1/p' "{root}/pyproject.toml")
        rm -rf "{site}" && mkdir -p "{site}/rnnviz-$version.dist-info"
        printf 'Metadata-Version: 2.1\\nName: rnnviz\\nVersion: %s\\n' "$version" > "{site}/rnnviz-$version.dist-info/METADATA"
        printf '{{"url": "file://{root}", "dir_info": {{"editable": true}}}}' > "{site}/rnnviz-$version.dist-info/direct_url.json"
        ;;
    esac
    exit 0
fi
PYTHONPATH="{site}:{root}" exec "{sys.executable}" "$@"
""")
    return root


def _setup(project: Path, *args: str, missing: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """Run the script; return its output and the calls of apt-get, sudo and pip since the last run."""
    bin_ = project.parent / "bin"
    for name in missing:
        (bin_ / name).unlink(missing_ok=True)
    log = project.parent / "calls.log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=str(bin_), PYTHON=str(bin_ / "python-under-test"))
    done = subprocess.run([str(bin_ / "bash"), str(project / "scripts" / "install-deps.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done.stdout, [c for c in calls if not c.startswith("pip -m pip install -q torch")]


@pytest.mark.parametrize("args", [(), ("--test",)])
def test_a_second_run_calls_neither_apt_nor_pip(project, args):
    """With every program present apt-get is never called; pip runs once, then the stamp holds."""
    out, calls = _setup(project, *args)
    extras = "test" if args else "docs"
    assert calls == [f"pip -m pip install -q -e .[{extras}]"], out
    out, calls = _setup(project, *args)
    assert calls == [], out
    assert f"rnnviz[{extras}] already installed" in out


def test_a_changed_pyproject_installs_again(project):
    """A new dependency in pyproject.toml (or a new version) re-runs the editable install."""
    _setup(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'dependencies = [\n', 'dependencies = [\n    "rich>=13",\n', 1), encoding="utf-8")
    _, calls = _setup(project)
    assert calls == ["pip -m pip install -q -e .[docs]"]


def test_the_stamp_counts_only_while_rnnviz_is_installed_from_here(project):
    """A stamp left behind after rnnviz was uninstalled (or installed from elsewhere) is not trusted."""
    _setup(project)
    shutil.rmtree(project.parent / "site")
    _, calls = _setup(project)
    assert calls == ["pip -m pip install -q -e .[docs]"]


@pytest.mark.parametrize("tool, package", [("pdfinfo", "poppler-utils"), ("chromium", "chromium"),
                                           ("dot", "graphviz"), ("pdflatex", "texlive-latex-base texlive-latex-extra lmodern"),
                                           ("kpsewhich", "lmodern")])
def test_a_missing_program_is_installed_waiting_for_the_dpkg_lock(project, tool, package):
    """A missing program is installed with apt-get, which waits for a busy dpkg lock."""
    _, calls = _setup(project, "--test", missing=(tool,))
    apt = [c for c in calls if c.startswith("apt-get")]
    assert len(apt) == 2, calls
    assert all("-o DPkg::Lock::Timeout=300" in c for c in apt)
    assert apt[0].endswith(" update -q") and apt[1].endswith(f"--no-install-recommends {package}")


def test_the_demo_set_up_does_not_ask_for_test_programs(project):
    """Without --test only Graphviz counts: no Chromium or poppler-utils for `make demo`."""
    _, calls = _setup(project, missing=("chromium", "chromedriver", "pdfinfo", "pdflatex"))
    assert not [c for c in calls if c.startswith("apt-get")]
