"""Which disk-tier objects carry a tag: one append-only file of key hashes per tag.

Layout under root: <tt>/<taghash>, each line one key hash. A write appends a line under a shared lock,
so writers in several processes never wait for each other; a purge or a compaction takes the file under
an exclusive lock and unlinks or replaces it. A writer that opened the file just before that finds it
unlinked once it holds its lock (no links left) and appends to the new one instead, so no line lands in a
file that nobody will read again.

One file per tag rather than one empty marker file per (tag, object): a miss then creates one inode (its
object), not two, and on a file system without a journal, where ext4 skips inodes freed in the last
minutes, each creation cost up to ~2 ms of CPU on the benchmark's host (benchmarks/results/profile.md, the
sixteenth round).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from imgedge.atomic import write_atomic

KEY_HASH_LENGTH = 64
_HEX = frozenset(b"0123456789abcdef")
# A list replaced under a writer is opened again; this many in a row and the write fails (the caller's
# object is then not written either, so nothing goes unlisted).
_ATTEMPTS = 5


class TagListBusy(OSError):
    """A tag's list was replaced under each attempt to write to it or to lock it."""


class TagLists:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, tag_hash: str) -> Path:
        return self.root / tag_hash[:2] / tag_hash

    def add(self, tag_hash: str, key_hash: str) -> None:
        path = self.path(tag_hash)
        line = (key_hash + "\n").encode()
        for _ in range(_ATTEMPTS):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except FileNotFoundError:
                os.makedirs(path.parent, exist_ok=True)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                if os.fstat(fd).st_nlink == 0:
                    continue  # purged or compacted between our open and our lock
                # One short O_APPEND write: whole, after every other line. A short one (a full disk) fails the
                # put, so its object is not written unlisted.
                if os.write(fd, line) != len(line):
                    raise OSError(errno.ENOSPC, f"short write to tag list {path}")
                return
            finally:
                os.close(fd)
        raise TagListBusy(f"tag list {path} kept changing under a write")

    def drain(self, tag_hash: str, remove: Callable[[list[str]], None]) -> None:
        """Hand every key hash listed for the tag to remove(), then drop the list: a crash in between leaves
        the list, never an object that a purge by tag cannot find."""
        with self._locked(tag_hash) as (fd, path):
            if fd is not None:
                remove(_key_hashes(_read_all(fd)))
                os.unlink(path)

    def compact(self, tag_hash: str, keep: Callable[[str], bool]) -> None:
        """Rewrite the tag's list with only the key hashes keep() accepts (each once); remove it if none."""
        with self._locked(tag_hash) as (fd, path):
            if fd is None:
                return
            listed = _key_hashes(_read_all(fd))
            kept = [key for key in dict.fromkeys(listed) if keep(key)]
            if not kept:
                os.unlink(path)
            elif len(kept) < len(listed):
                # Synced before the rename: a power cut must not leave an empty list and unlisted objects.
                write_atomic(path, "".join(key + "\n" for key in kept).encode())

    def tag_hashes(self) -> Iterator[str]:
        try:
            prefixes = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        for prefix in prefixes:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                for child in os.scandir(prefix.path):
                    if is_key_hash(child.name):
                        yield child.name

    @contextlib.contextmanager
    def _locked(self, tag_hash: str) -> Iterator[tuple[int | None, Path]]:
        # The list the path names when we hold it: one unlinked while we waited is opened again.
        path = self.path(tag_hash)
        for _ in range(_ATTEMPTS):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink == 0:
                    continue
                yield fd, path
                return
            finally:
                os.close(fd)
        else:
            raise TagListBusy(f"tag list {path} kept changing under a purge")
        yield None, path


def is_key_hash(name: str) -> bool:
    return len(name) == KEY_HASH_LENGTH and set(name.encode()) <= _HEX


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _key_hashes(data: bytes) -> list[str]:
    # A line cut short by a power cut mid-write is joined by the next append: its key is lost (its object,
    # written after it without an fsync, most likely too) and the last 64 characters are the appended key.
    keys = []
    for line in data.split(b"\n"):
        tail = line[-KEY_HASH_LENGTH:]
        if len(tail) == KEY_HASH_LENGTH and set(tail) <= _HEX:
            keys.append(tail.decode())
    return keys
