"""Writing output files safely: never half-written, never truncated on failure.

A regular file (or a new one) is written through a temporary file in the same folder and
renamed over the target, so a reader sees the old content or the new, never a part. A
target that exists and is not a regular file (a device such as ``/dev/null``, a named pipe)
is written straight into: renaming over it would replace the device by a file. A
termination signal (SIGTERM, as ``timeout``, a container stop or a cancelled CI job send)
during a write removes the temporary file before the process ends.

Example:
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "a.txt")
    >>> write_atomic(p, "hello")
    >>> open(p).read()
    'hello'
    >>> oct(os.stat(p).st_mode & 0o777) == oct(0o666 & ~_umask())
    True
    >>> write_all_atomic([(os.path.join(d, "b.txt"), "b"), (os.path.join(d, "c.txt"), "c")])
    >>> sorted(os.listdir(d))
    ['a.txt', 'b.txt', 'c.txt']
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["write_atomic", "write_all_atomic", "write_output", "refuse_input_as_output"]


class _Terminated(BaseException):
    """Raised inside a write when SIGTERM arrives, so the clean-up runs before the process ends."""


@contextlib.contextmanager
def _cleanup_on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`_Terminated`; afterwards it is delivered again.

    Only the main thread can set signal handlers; elsewhere the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError):  # not settable here (an embedding interpreter)
        yield
        return
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, old)
        signal.raise_signal(signal.SIGTERM)  # the old handler (by default: the process ends)
        raise InterruptedError("terminated while writing; the output was left as it was") from None
    finally:
        signal.signal(signal.SIGTERM, old)


def _raise_terminated(signum, frame):  # pragma: no cover - called by the interpreter
    raise _Terminated()


def _kind(path: Path) -> str:
    """'missing', 'regular', 'directory' or 'special' (device, pipe, socket; links followed)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    return "special"


#: Temporary files being written (by any thread), removed if their write fails or is stopped.
_pending: set[str] = set()


def _pending_of(items: list[tuple[Path, bytes]]) -> set[str]:
    """The pending temporary files that belong to the targets of ``items``."""
    prefixes = {str((p.parent if str(p.parent) else Path(".")) / f".{p.name}.") for p, _ in items}
    return {t for t in _pending if any(t.startswith(pre) for pre in prefixes)}


def _raw(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _write_temporary(path: Path, raw: bytes) -> str:
    """Write ``raw`` to a new temporary file beside ``path`` with the mode ``path`` will have."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    _pending.add(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        # mkstemp makes the file private (0600); give it the mode a plain open() would,
        # or keep the mode of the file it replaces.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
    except BaseException:
        _unlink(tmp)
        _pending.discard(tmp)
        raise
    return tmp


def _write_into(path: Path, raw: bytes) -> None:
    """Write into an existing device or pipe as it is (no rename, no truncation of a device)."""
    with open(path, "wb") as fh:
        fh.write(raw)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    If anything fails, ``path`` is left as it was (absent or with its old content). A target
    that is a device or a named pipe is written straight into.
    """
    write_all_atomic([(path, data)])


def write_all_atomic(items: Iterable[tuple[str | os.PathLike, str | bytes]]) -> None:
    """Write several files all or nothing: if one cannot be written, none is changed.

    Every regular target is first written to a temporary file; only when all are complete are
    they renamed over their targets. A rename that fails puts back the files already replaced.
    Devices and pipes are written last, after every rename succeeded.
    """
    items = [(Path(p), _raw(d)) for p, d in items]
    with _cleanup_on_sigterm():
        temps: list[tuple[Path, str]] = []
        special: list[tuple[Path, bytes]] = []
        try:
            for path, raw in items:
                kind = _kind(path)
                if kind == "directory":
                    raise IsADirectoryError(21, "Is a directory", str(path))
                if kind == "special":
                    special.append((path, raw))
                else:
                    temps.append((path, _write_temporary(path, raw)))
            _replace_all(temps)
            _pending.difference_update(tmp for _, tmp in temps)
            temps = []
            for path, raw in special:
                _write_into(path, raw)
        except BaseException:
            # every temporary file of this write, including one whose creation was interrupted
            # before it was listed
            for tmp in [t for _, t in temps] + sorted(_pending_of(items)):
                _unlink(tmp)
                _pending.discard(tmp)
            raise


def _replace_all(temps: list[tuple[Path, str]]) -> None:
    """Rename each temporary file over its target; on a failure, undo the renames done."""
    if len(temps) == 1:
        os.replace(temps[0][1], temps[0][0])
        return
    done: list[tuple[Path, str | None]] = []  # renamed targets, with a link to their old content
    try:
        for path, tmp in temps:
            backup = _keep_old(path)
            try:
                os.replace(tmp, path)
            except BaseException:
                if backup is not None:
                    _unlink(backup)
                raise
            done.append((path, backup))
    except BaseException:
        for path, backup in reversed(done):
            if backup is not None:
                os.replace(backup, path)
            else:
                _unlink(str(path))
        raise
    for _, backup in done:
        if backup is not None:
            _unlink(backup)


def _keep_old(path: Path) -> str | None:
    """A hidden hard link to the file at ``path``, to put it back; None when there is none."""
    if _kind(path) != "regular":
        return None
    folder = path.parent if str(path.parent) else Path(".")
    for i in range(100):
        backup = str(folder / f".{path.name}.{os.getpid()}.{i}.old")
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:
            continue
    raise FileExistsError(17, "cannot keep the old file", str(path))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_input_as_output(target: str | os.PathLike, inputs: Iterable[str]) -> None:
    """Raise a :class:`~rnnviz.errors.UsageError` when ``target`` is one of the input files.

    ``-o net.rnn`` would otherwise replace the equations by a diagram.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "net.rnn"); _ = open(p, "w").write("h[t] = x[t]")
        >>> refuse_input_as_output(p, [p])
        Traceback (most recent call last):
        ...
        rnnviz.errors.UsageError: -o names the input file '...net.rnn'; ...
    """
    from .errors import UsageError

    if str(target) == "-":
        return
    for name in inputs:
        if not name or name == "-":
            continue
        try:
            same = os.path.samefile(target, name)
        except OSError:  # one of them does not exist
            same = False
        if same:
            raise UsageError(f"-o names the input file '{name}'; writing there would replace it",
                             hint="give another file name, or a folder (-o DIR/)")


def write_output(path: str, data: str | bytes) -> None:
    """Write to a file atomically, or to standard output when ``path`` is ``-``."""
    if path == "-":
        if isinstance(data, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
            sys.stdout.flush()
        return
    write_atomic(path, data)
