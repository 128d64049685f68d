from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

# What a crash between the write and the rename leaves beside the target; sweepers match it.
TEMP_PREFIX = ".tmp-"


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and rename, so readers never see a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(
    root: Path, *, depth: int, older_than_s: float = 3600.0, prefix: str = TEMP_PREFIX
) -> int:
    """Removes the temporary files a crash left between a write and its rename, `depth` directory levels
    below root (1: in root itself), once older than older_than_s: a write still in progress, in this process
    or another, is seconds old. Temporary files are those named with `prefix` ("" for a directory that holds
    nothing else). Returns how many it removed."""
    cutoff = time.time() - older_than_s
    removed = 0
    for directory in _directories(str(root), depth - 1):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for child in os.scandir(directory):
                if not child.name.startswith(prefix):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if child.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(child.path)
                        removed += 1
    return removed


def _directories(root: str, depth: int) -> list[str]:
    if depth <= 0:
        return [root]
    try:
        children = [entry.path for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [found for child in children for found in _directories(child, depth - 1)]
