"""Atomic writes: every file or directory NCA Studio writes appears whole or not at all.

Writers fill a temporary sibling (same directory, so the final rename is atomic; a leading dot,
so listings skip it) and rename it into place. An error, Ctrl-C or kill leaves the old version.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_beside(target: Path, directory: bool = False) -> Path:
    """A new, empty temporary file (or directory) next to `target`, with the usual permissions.
    The suffix keeps the target's extension, so tools (ffmpeg) recognise the type."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700; bundles and frames are served and shared
    else:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".part{target.suffix}")
        os.close(fd)
        tmp = Path(name)
        tmp.chmod(0o666 & ~_umask())
    return tmp


def commit(tmp: Path, target: Path) -> None:
    """Move `tmp` onto `target`. A directory target is swapped: the old one is moved aside first,
    put back if the move fails, and removed after."""
    if not tmp.is_dir():
        os.replace(tmp, target)
        return
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


@contextmanager
def replacing(target: Path, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path to fill; on success it becomes `target`, on any error it is removed."""
    tmp = temp_beside(target, directory)
    try:
        yield tmp
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def write_atomic(target: Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to `target` all at once."""
    with replacing(target) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def _umask() -> int:
    # Read, not os.umask(0)+restore: that briefly changes it for every thread of the process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022
