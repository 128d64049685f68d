"""Which variants are requested most, independent of the asset: the canonical options and the format served.

The generator asks for the top of this list (`GET /admin/popular`) when a new asset is approved and warms
those variants instead of a fixed srcset list (docs/architecture.md, "Predictive warm-up").

Only requests that passed every check are counted, keyed by the canonical spec without its expiry (so one
signed URL per visitor still counts as one variant) and the negotiated format. Memory is bounded by the
number of distinct variants kept: when it is full, the less requested half is forgotten, so a long tail of
one-off variants (or a client walking random options) churns the tail, never the head. Counts halve every
half-life, so the list follows what is requested now. Warm-up requests (marked
`Sec-Purpose: prefetch`) are not counted: they would feed the list back to itself.

Each worker process counts its own requests and publishes them every few seconds to a file on this host
(`run/popular/<pid>.json` in the data directory), so the answer covers every worker, whichever answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from imgedge.url.spec import TransformSpec

MAX_OPTIONS_LENGTH = 256  # longer canonical strings are not remembered (no real srcset needs them)
STALE_AFTER_S = 300.0  # a worker's published counts older than this belong to a process that is gone
_FILE_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class PopularVariant:
    options: str  # canonical options without expiry, e.g. "w:640" or "w:400/h:400/fit:cover/f:webp"
    format: str  # the format served: avif, webp, jpeg, … or "legacy" (JPEG, or PNG with alpha)
    count: int


@dataclass(frozen=True, slots=True)
class Ranking:
    variants: list[PopularVariant]
    requests: int  # every counted request (after decay), not only those of the variants listed
    processes: int


class VariantPopularity:
    def __init__(
        self, capacity: int, *, half_life_s: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.half_life_s = half_life_s
        self._clock = clock
        # A one-element list per variant, so a repeat costs one hash of the key rather than two.
        self._counts: dict[tuple[TransformSpec, str], list[int]] = {}
        self._decayed_at = clock()
        self.changed = False

    def record(self, spec: TransformSpec, output_format: str) -> None:
        if not self.capacity:
            return
        if spec.expires:
            spec = replace(spec, expires=0)
        key = (spec, output_format)
        cell = self._counts.get(key)
        if cell is not None:
            cell[0] += 1
        else:
            if len(self._counts) >= self.capacity:
                self._forget_lower_half()
            self._counts[key] = [1]
        self.changed = True
        if self._clock() - self._decayed_at >= self.half_life_s:
            self._halve()

    def counts(self) -> dict[tuple[str, str], int]:
        """Canonical options and format → count, without the over-long ones."""
        merged: dict[tuple[str, str], int] = {}
        for (spec, fmt), (count,) in self._counts.items():
            options = spec.canonical(with_expiry=False)
            if len(options) <= MAX_OPTIONS_LENGTH:
                merged[(options, fmt)] = merged.get((options, fmt), 0) + count
        return merged

    def _forget_lower_half(self) -> None:
        # A sort per capacity/2 new variants: amortised O(log capacity) per request, even when every
        # request names a new variant.
        ranked = sorted(self._counts.items(), key=lambda item: item[1][0], reverse=True)
        self._counts = dict(ranked[: self.capacity // 2])

    def _halve(self) -> None:
        self._counts = {key: [count // 2] for key, (count,) in self._counts.items() if count > 1}
        self._decayed_at = self._clock()


class SharedPopularity:
    """This process's counts plus the ones the other workers on this host published."""

    def __init__(self, popularity: VariantPopularity, directory: Path | None) -> None:
        self.popularity = popularity
        self.directory = directory
        self._own = directory / f"{os.getpid()}{_FILE_SUFFIX}" if directory is not None else None

    def snapshot(self) -> list[list[object]] | None:
        """This process's counts as rows to publish, None when nothing changed (on the event loop: the
        counts are only ever touched there)."""
        if self._own is None or not self.popularity.changed:
            return None
        self.popularity.changed = False
        return [[options, fmt, count] for (options, fmt), count in self.popularity.counts().items()]

    def write(self, rows: list[list[object]]) -> None:
        """Publish a snapshot atomically; blocking, so from a thread."""
        if self._own is None or self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".popular.")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(rows, fh, separators=(",", ":"))
            os.replace(tmp, self._own)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def withdraw(self) -> None:
        if self._own is not None:
            with contextlib.suppress(OSError):
                self._own.unlink()

    def others(self) -> list[dict[tuple[str, str], int]]:
        """What the other live workers on this host published; blocking, so from a thread."""
        return self._others()

    def top(self, limit: int, others: list[dict[tuple[str, str], int]]) -> Ranking:
        """The `limit` most requested variants on this host, with the counts of every process merged."""
        merged = self.popularity.counts()
        for counts in others:
            for key, count in counts.items():
                merged[key] = merged.get(key, 0) + count
        ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return Ranking(
            [PopularVariant(options, fmt, count) for (options, fmt), count in ranked],
            requests=sum(merged.values()),
            processes=1 + len(others),
        )

    def _others(self) -> list[dict[tuple[str, str], int]]:
        if self.directory is None or not self.directory.is_dir():
            return []
        found = []
        now = time.time()
        for path in self.directory.iterdir():
            if path == self._own or path.suffix != _FILE_SUFFIX or not path.stem.isdigit():
                continue
            if not _alive(int(path.stem)):
                with contextlib.suppress(OSError):
                    path.unlink()  # a worker that died without withdrawing its counts
                continue
            with contextlib.suppress(OSError, ValueError, TypeError):
                if now - path.stat().st_mtime > STALE_AFTER_S:
                    continue
                found.append(_parse(json.loads(path.read_text())))
        return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or a name that is not a pid: leave it to the age check
    return True


def _parse(rows: object) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    if not isinstance(rows, list):
        raise ValueError("not a list")
    for row in rows:
        options, fmt, count = row
        valid = isinstance(options, str) and isinstance(fmt, str) and isinstance(count, int) and count > 0
        if valid and len(options) <= MAX_OPTIONS_LENGTH:
            counts[(options, fmt)] = count
    return counts
