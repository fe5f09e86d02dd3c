"""rnnviz installed the way the README tells another project to: for tests/test_packaging.py and the docs test.

:func:`install_as_the_readme_says` copies the checkout, makes a fresh virtual environment
(no system site-packages, no PYTHONPATH) and runs, in the copy, every line of the README's
``sh`` block that installs rnnviz elsewhere (``pip wheel``, ``pip install``, ``pipx install``)
with that environment first on the PATH, pipx's folders under the temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"^(`{3,})(\w*)[^\n]*\n(.*?)^\1[ \t]*$", re.S | re.M)

#: Build output anywhere in the tree, and the folders the set-up, the site and the demo write at the top.
_ANYWHERE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "*.pyc", ".hypothesis", ".pytest_cache")
_AT_THE_TOP = {".venv", "venv", "site", "out", "dist", "build", ".cache", "test-artifacts"}


def blocks(page: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced block of a Markdown page (a longer fence may hold shorter ones)."""
    return [(m.group(2), m.group(3)) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


def install_lines() -> list[tuple[str, str]]:
    """(command, comment) of the README's block that installs rnnviz into another project."""
    block = next(body for lang, body in blocks(ROOT / "README.md") if lang == "sh" and "pipx install" in body)
    out = []
    for line in block.splitlines():
        cmd, _, comment = line.partition(" #")
        if cmd.strip():
            out.append((cmd.strip(), comment.strip()))
    return out


def project_version() -> str:
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8")).group(1)


def clean_env(path: str | None = None, **extra: str) -> dict[str, str]:
    """The environment without anything that would let Python find the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV")}
    env.update(NO_MKDOCS_2_WARNING="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    if path is not None:
        env["PATH"] = path
    return env


def run(cmd: list, cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd``; fail with its output when it exits non-zero."""
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env())
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def copy_source(dest: Path) -> Path:
    """A copy of the checkout's sources at ``dest`` (builds write beside the sources)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = set(_ANYWHERE(folder, names))
        return skip | (_AT_THE_TOP & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


@dataclass
class Installed:
    """Where the README's install commands put things."""

    source: Path  #: the copy of the project they ran in
    venv: Path  #: the other project's environment (pip wheel, pip install)
    pipx_bin: Path  #: where pipx put its ``rnnviz``
    ran: list[str] = field(default_factory=list)  #: the commands, in order, each exited 0


def install_as_the_readme_says(tmp: Path) -> Installed:
    source = copy_source(tmp / "rnnviz")
    venv = tmp / "project-env"
    run([sys.executable, "-m", "venv", venv], cwd=tmp)
    # pipx itself, in an environment of its own; only its command goes on the PATH.
    tools, shims = tmp / "tools-env", tmp / "tools-bin"
    run([sys.executable, "-m", "venv", tools], cwd=tmp)
    run([tools / "bin" / "python", "-m", "pip", "install", "-q", "pipx"], cwd=tmp)
    shims.mkdir()
    (shims / "pipx").symlink_to(tools / "bin" / "pipx")
    installed = Installed(source, venv, tmp / "pipx-bin")
    env = clean_env(path=os.pathsep.join([str(venv / "bin"), str(shims), os.environ.get("PATH", "")]),
                    VIRTUAL_ENV=str(venv), PIPX_HOME=str(tmp / "pipx-home"), PIPX_BIN_DIR=str(installed.pipx_bin),
                    PIPX_MAN_DIR=str(tmp / "pipx-man"))
    for cmd, _ in install_lines():
        run(["bash", "-c", cmd], cwd=source, env=env, timeout=600)
        installed.ran.append(cmd)
    return installed
