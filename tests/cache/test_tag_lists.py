from __future__ import annotations

import errno
import fcntl
import hashlib
import multiprocessing
import os
import resource
import signal
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from imgedge.cache import tag_lists
from imgedge.cache.tag_lists import TagListBusy, TagLists

TAG = hashlib.sha256(b"asset:a").hexdigest()


def key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def drained(lists: TagLists, tag_hash: str = TAG) -> list[str]:
    taken: list[str] = []
    lists.drain(tag_hash, taken.extend)
    return taken


def test_added_keys_are_drained_once_and_the_list_goes(tmp_path: Path) -> None:
    lists = TagLists(tmp_path / "lists")
    lists.add(TAG, key("k1"))
    lists.add(TAG, key("k2"))
    assert list(lists.tag_hashes()) == [TAG]
    assert drained(lists) == [key("k1"), key("k2")]
    assert not lists.path(TAG).exists()
    assert drained(lists) == []
    assert list(lists.tag_hashes()) == []


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    lists = TagLists(tmp_path / "lists")
    lists.add(TAG, key("k1"))
    with open(lists.path(TAG), "ab") as fh:
        fh.write(key("k2")[:30].encode())
    lists.add(TAG, key("k3"))
    assert drained(lists) == [key("k1"), key("k3")]  # k2's object was never written after it


def test_compaction_keeps_each_wanted_key_once_and_drops_an_empty_list(tmp_path: Path) -> None:
    lists = TagLists(tmp_path / "lists")
    for name in ("k1", "gone", "k1", "k2"):
        lists.add(TAG, key(name))
    lists.compact(TAG, lambda k: k != key("gone"))
    assert lists.path(TAG).read_text().split() == [key("k1"), key("k2")]
    assert [p.name for p in lists.path(TAG).parent.iterdir()] == [TAG]  # no temporary file left
    lists.compact(TAG, lambda k: False)
    assert not lists.path(TAG).exists()


def test_a_list_purged_between_a_writers_open_and_its_lock_is_not_written_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The writer opened the list, then another process drained and unlinked it before the writer's lock:
    # a line appended to that file would never be read again.
    lists = TagLists(tmp_path / "lists")
    lists.add(TAG, key("old"))
    real_flock = fcntl.flock
    opened: list[int] = []  # the inode the writer opened

    def purge_first(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_SH and not opened:
            opened.append(os.fstat(fd).st_ino)
            assert drained(lists) == [key("old")]
        real_flock(fd, operation)

    monkeypatch.setattr(tag_lists.fcntl, "flock", purge_first)
    lists.add(TAG, key("new"))
    assert opened
    assert drained(lists) == [key("new")]


def _writer(root: str, name: str, count: int) -> None:
    lists = TagLists(Path(root) / "lists")
    with open(Path(root) / name, "w") as listed:
        for i in range(count):
            try:
                lists.add(TAG, key(f"{name}-{i}"))
                lists.add(TAG, key(f"{name}-{i}"))  # a duplicate for the purger's compactions to drop
            except TagListBusy:
                continue  # the caller writes no object then: nothing goes unlisted
            listed.write(key(f"{name}-{i}") + "\n")


def _purger(root: str, out: str, writers_done: Event) -> None:
    lists = TagLists(Path(root) / "lists")
    with open(out, "w") as fh:
        while not writers_done.is_set():
            lists.drain(TAG, lambda keys: fh.write("".join(k + "\n" for k in keys)))
            lists.compact(TAG, lambda k: True)  # replaces the list under the writers


def test_writers_and_a_purger_in_other_processes_lose_no_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    done = ctx.Event()
    purger = ctx.Process(target=_purger, args=(str(tmp_path), str(tmp_path / "purged"), done))
    purger.start()
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), name, 400)) for name in ("w1", "w2")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    done.set()
    purger.join(60)
    assert [p.exitcode for p in (*writers, purger)] == [0, 0, 0]
    purged = (tmp_path / "purged").read_text().split()
    remaining = drained(TagLists(tmp_path / "lists"))
    listed = {k for name in ("w1", "w2") for k in (tmp_path / name).read_text().split()}
    assert len(listed) > 700  # a writer gives up only when the list changed under each of its attempts
    assert listed <= set(purged) | set(remaining)
    assert len(purged) > 0  # the purger really ran while the writers did


def _append_past_a_size_limit(root: str, limit: int, result: multiprocessing.Queue[str]) -> None:
    # The kernel cuts a write that crosses RLIMIT_FSIZE short, as a disk that fills mid-write does.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        TagLists(Path(root)).add(TAG, key("k2"))
    except OSError as exc:
        result.put(errno.errorcode.get(exc.errno or 0, "?"))
    else:
        result.put("written")


def test_a_short_append_fails_the_write_and_the_next_append_still_reads(tmp_path: Path) -> None:
    lists = TagLists(tmp_path / "lists")
    lists.add(TAG, key("k1"))
    ctx = multiprocessing.get_context("fork")
    result: multiprocessing.Queue[str] = ctx.Queue()
    child = ctx.Process(target=_append_past_a_size_limit, args=(str(lists.root), 100, result))
    child.start()
    child.join(30)
    assert result.get(timeout=5) == "ENOSPC"
    assert lists.path(TAG).stat().st_size == 100  # 35 bytes of k2's line made it
    lists.add(TAG, key("k3"))
    assert drained(lists) == [key("k1"), key("k3")]
