"""Append-only purge log that worker processes sharing one disk directory read before each lookup.

The first line of a log file names its generation; each further line is JSON [purged_at, tag]. Readers
remember the generation and how far they have read; a stat per lookup is all it costs when nothing
changed. When the log grows past its limit a writer swaps in a new generation; a reader that notices
cannot know what it missed, so it is told to drop everything it keeps locally. (Generations rather than
inode numbers, because the file system hands a freed inode number straight to the next new file.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_MAX_LOG_BYTES = 1 << 20


@dataclass(slots=True)
class LogNews:
    purges: list[tuple[str, float]] = field(default_factory=list)
    # True when purges may have been missed: the reader must treat all local state as suspect.
    lost_track: bool = False


class PurgeLog:
    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_LOG_BYTES) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._generation: str | None = None
        self._offset = 0
        self._seen: tuple[int, int, int] | None = None

    def skip_history(self) -> None:
        """Start reading at the end: a process that is just starting holds nothing older to purge."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        self._generation = _generation(data[:256])
        self._offset = data.rfind(b"\n") + 1

    def read_new(self) -> LogNews:
        news = LogNews()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return news
        except OSError as exc:
            logger.warning("cannot stat purge log %s: %s", self.path, exc)
            return news
        seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        if seen == self._seen:
            return news
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(256)
                generation = _generation(head)
                if generation != self._generation or st.st_size < self._offset:
                    news.lost_track = self._generation is not None
                    self._generation = generation
                    self._offset = head.find(b"\n") + 1
                fh.seek(self._offset)
                chunk = fh.read()
        except OSError as exc:
            logger.warning("cannot read purge log %s: %s", self.path, exc)
            return news
        self._seen = seen
        # A writer may be mid-line; only whole lines are consumed.
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            parsed = _parse(line)
            if parsed is None:
                news.lost_track = True
            else:
                news.purges.append(parsed)
        return news

    def append(self, tag: str, purged_at: float) -> None:
        line = json.dumps([purged_at, tag]).encode() + b"\n"
        try:
            if self.path.stat().st_size + len(line) > self._max_bytes:
                self._start_generation(replace=True)
        except FileNotFoundError:
            self._start_generation(replace=False)
        # A rotation by another process can slip in between open and write; then the line went to the
        # replaced file, and it is written again to the current one.
        for _ in range(3):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                # One write() of one short line with O_APPEND: lines from several processes never interleave.
                os.write(fd, line)
                written_inode = os.fstat(fd).st_ino
            finally:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_ino == written_inode:
                    return

    def _start_generation(self, *, replace: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".purge-log-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(json.dumps({"generation": uuid.uuid4().hex}).encode() + b"\n")
            os.chmod(tmp, 0o644)
            if replace:
                os.replace(tmp, self.path)
            else:
                # link() refuses to overwrite: of two processes creating the log at once, the first wins.
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _generation(data: bytes) -> str:
    header = data[: data.find(b"\n") + 1]
    try:
        value = json.loads(header)["generation"]
    except (ValueError, KeyError, TypeError):
        return ""
    return str(value)


def _parse(line: bytes) -> tuple[str, float] | None:
    try:
        purged_at, tag = json.loads(line)
    except (ValueError, TypeError):
        return None
    if not isinstance(tag, str) or not isinstance(purged_at, int | float):
        return None
    return tag, float(purged_at)
