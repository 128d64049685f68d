"""Persistent tier on a local directory that several worker processes may share.

Layout under root:
  objects/<kk>/<keyhash>          one self-checking entry per file, written to tmp/ and renamed into place
  tag-lists/<tt>/<taghash>        the key hashes of the objects that carry a tag, so any process can purge
                                  (cache/tag_lists.py)
  tmp/                            files being written
An object's mtime is its last access time (bumped on reads), which eviction orders by. Versions before the
tag lists kept an empty marker file per tagged object, tags/<tt>/<taghash>/<keyhash>; purges still read them
and sweeps remove them as their objects go.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from imgedge.atomic import remove_stale_temporaries
from imgedge.cache.entry import CorruptEntry, Entry, decode_entry, encode_entry
from imgedge.cache.tag_lists import TagListBusy, TagLists, is_key_hash
from imgedge.cache.tier import Scope, zero_stats

logger = logging.getLogger(__name__)

# Temporary files older than this were left by a process that died mid-write.
_STALE_TMP_S = 3600.0


@dataclass(frozen=True, slots=True)
class _Scan:
    total_bytes: int
    entries: int
    evicted: int


class DiskTier:
    scope: Scope = "host"
    promotable = True

    def __init__(
        self, root: Path, max_bytes: int, *, name: str = "disk", touch_interval_s: float = 60.0
    ) -> None:
        self.name = name
        self.root = root
        self._objects = root / "objects"
        self._tmp = root / "tmp"
        self._tag_lists = TagLists(root / "tag-lists")
        self._legacy_tags = root / "tags"
        self._max_bytes = max_bytes
        self._low_water = max_bytes * 9 // 10
        # Other processes write too and only a scan sees their bytes, so rescan after this much of our own.
        self._rescan_after = max(1, max_bytes // 10)
        self._touch_interval_s = touch_interval_s
        self._counts = zero_stats()
        self._counts["corrupt"] = 0
        self._stored_bytes: int | None = None
        self._entries = 0
        self._written_since_scan = 0
        self._scan_lock = threading.Lock()

    async def get(self, key: str) -> Entry | None:
        path = self._object_path(_hash(key))
        if not _may_exist(path):
            # One stat on the event loop (~4 us here) instead of a hop to a worker thread (~0.3 ms of CPU)
            # for the lookup every miss makes; the purge log's poll does the same.
            self._counts["misses"] += 1
            return None
        try:
            entry, corrupt = await anyio.to_thread.run_sync(self._read, path)
        except OSError as exc:
            logger.warning("disk cache read failed under %s: %s", self.root, exc)
            self._counts["errors"] += 1
            entry, corrupt = None, False
        if corrupt:
            self._counts["corrupt"] += 1
        self._counts["hits" if entry is not None else "misses"] += 1
        return entry

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None:
        try:
            written = await anyio.to_thread.run_sync(self._write, _hash(key), entry, tuple(tags))
        except OSError as exc:
            # Disk full or no permission: the caller keeps serving from memory and origin.
            logger.warning("disk cache write failed under %s: %s", self.root, exc)
            self._counts["errors"] += 1
            return
        self._written_since_scan += written
        if self._stored_bytes is not None:
            self._stored_bytes += written
            self._entries += 1
        if (
            self._stored_bytes is None
            or self._stored_bytes > self._max_bytes
            or self._written_since_scan >= self._rescan_after
        ):
            await self.enforce_limit()

    async def purge(self, tag: str) -> int:
        try:
            removed, freed = await anyio.to_thread.run_sync(self._purge, tag)
        except OSError as exc:
            logger.warning("disk cache purge failed under %s: %s", self.root, exc)
            self._counts["errors"] += 1
            return 0
        if self._stored_bytes is not None:
            self._stored_bytes = max(0, self._stored_bytes - freed)
            self._entries = max(0, self._entries - removed)
        return removed

    async def enforce_limit(self) -> None:
        try:
            scan = await anyio.to_thread.run_sync(self._scan_and_evict)
        except OSError as exc:
            logger.warning("disk cache eviction failed under %s: %s", self.root, exc)
            self._counts["errors"] += 1
            return
        if scan is not None:
            self._stored_bytes, self._entries = scan.total_bytes, scan.entries
            self._written_since_scan = 0
            self._counts["evictions"] += scan.evicted

    def stats(self) -> dict[str, int]:
        return {**self._counts, "stored_bytes": self._stored_bytes or 0, "entries": self._entries}

    def _object_path(self, key_hash: str) -> Path:
        return self._objects / key_hash[:2] / key_hash

    def _legacy_tag_dir(self, tag_hash: str) -> Path:
        return self._legacy_tags / tag_hash[:2] / tag_hash

    def _read(self, path: Path) -> tuple[Entry | None, bool]:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
                mtime = os.fstat(fh.fileno()).st_mtime
        except FileNotFoundError:
            return None, False
        try:
            entry = decode_entry(data)
        except CorruptEntry as exc:
            logger.warning("dropping corrupt disk cache file %s: %s", path, exc)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None, True
        if time.time() - mtime >= self._touch_interval_s:
            # Rate-limited so hot entries do not cost a metadata write per hit.
            with contextlib.suppress(OSError):
                os.utime(path)
        return entry, False

    def _write(self, key_hash: str, entry: Entry, tags: tuple[str, ...]) -> int:
        data = encode_entry(entry)
        # The tag lists go first: a crash in between leaves a listed key without an object (harmless),
        # never an object that a purge by tag cannot find.
        for tag in tags:
            self._tag_lists.add(_hash(tag), key_hash)
        target = self._object_path(key_hash)
        fd, tmp_name = _mkstemp(self._tmp, key_hash[:8] + ".")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            # No fsync: reads verify the checksum, so a file torn by a power cut is dropped, not served.
            try:
                os.replace(tmp_name, target)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return len(data)

    def _purge(self, tag: str) -> tuple[int, int]:
        tag_hash = _hash(tag)
        removed = freed = 0

        def remove(key_hashes: list[str]) -> None:
            nonlocal removed, freed
            for key_hash in set(key_hashes):
                path = self._object_path(key_hash)
                try:
                    size = path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
                removed += 1
                freed += size

        self._tag_lists.drain(tag_hash, remove)
        legacy = self._legacy_tag_dir(tag_hash)
        with contextlib.suppress(FileNotFoundError):
            markers = os.listdir(legacy)
            remove([name for name in markers if is_key_hash(name)])
            for name in markers:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(legacy / name)
            with contextlib.suppress(OSError):
                legacy.rmdir()
        return removed, freed

    def _scan_and_evict(self) -> _Scan | None:
        if not self._scan_lock.acquire(blocking=False):
            return None
        try:
            files = list(_files_under(self._objects))
            total = sum(size for _, size, _ in files)
            entries = len(files)
            evicted = 0
            if total > self._max_bytes:
                files.sort()
                for _, size, path in files:
                    if total <= self._low_water:
                        break
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    total -= size
                    entries -= 1
                    evicted += 1
                self._compact_tag_lists()
            self._drop_stale_tmp()
            return _Scan(total, entries, evicted)
        finally:
            self._scan_lock.release()

    def _compact_tag_lists(self) -> None:
        def on_disk(key_hash: str) -> bool:
            return self._object_path(key_hash).exists()

        for tag_hash in self._tag_lists.tag_hashes():
            # A list that other processes keep replacing is being compacted or purged by them already; the
            # eviction's own result must not be lost over it.
            with contextlib.suppress(TagListBusy):
                self._tag_lists.compact(tag_hash, on_disk)
        for _, _, marker in _files_under(self._legacy_tags, depth=3):
            name = os.path.basename(marker)
            if is_key_hash(name) and not on_disk(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(marker)
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(marker))

    def _drop_stale_tmp(self) -> None:
        remove_stale_temporaries(self._tmp, depth=1, older_than_s=_STALE_TMP_S, prefix="")
        # Compactions write their temporary files beside the lists (imgedge.atomic.write_atomic).
        remove_stale_temporaries(self._tag_lists.root, depth=2, older_than_s=_STALE_TMP_S)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _may_exist(path: Path) -> bool:
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # the read says what is wrong
    return True


def _mkstemp(directory: Path, prefix: str) -> tuple[int, str]:
    # The directory is made when missing, not checked before every write.
    try:
        return tempfile.mkstemp(dir=directory, prefix=prefix)
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=directory, prefix=prefix)


def _files_under(root: Path, depth: int = 2) -> list[tuple[float, int, str]]:
    """(mtime, size, path) of the regular files exactly `depth` levels below root; missing dirs are empty."""
    found: list[tuple[float, int, str]] = []
    try:
        children = list(os.scandir(root))
    except FileNotFoundError:
        return found
    for child in children:
        try:
            if depth > 1:
                if child.is_dir(follow_symlinks=False):
                    found.extend(_files_under(Path(child.path), depth - 1))
            elif child.is_file(follow_symlinks=False):
                st = child.stat(follow_symlinks=False)
                found.append((st.st_mtime, st.st_size, child.path))
        except FileNotFoundError:
            continue
    return found
