"""The event loop's beat that `imgedge serve` watches its proxy workers by."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anyio
import pytest

from imgedge.web import heartbeat


def _read_all(fd: int) -> list[int]:
    beats = os.read(fd, heartbeat.RECORD.size * 1024)
    return [pid for (pid,) in heartbeat.RECORD.iter_unpack(beats)]


def test_the_loop_writes_its_pid_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.05)
    read_end, write_end = os.pipe()
    try:

        async def main() -> None:
            with anyio.move_on_after(0.5):
                await heartbeat.beat(write_end)

        anyio.run(main)
        beats = _read_all(read_end)
        assert 5 <= len(beats) <= 12 and set(beats) == {os.getpid()}
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_full_pipe_skips_beats_and_a_closed_one_ends_the_beating(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.01)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:  # a supervisor that has not read for a long while
            try:
                os.write(write_end, b"\0" * 4096)
            except BlockingIOError:
                break

        async def main() -> bool:
            with anyio.move_on_after(0.2) as scope:
                await heartbeat.beat(write_end)
            return scope.cancelled_caught

        assert anyio.run(main)  # still beating when cancelled: the full pipe raised nothing
        os.close(read_end)  # the supervisor is gone
        read_end = -1
        with caplog.at_level(logging.WARNING, logger="imgedge.web"):
            anyio.run(heartbeat.beat, write_end)  # returns instead of raising
        assert "no longer beating" in caplog.text
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def test_a_descriptor_that_is_not_a_pipe_gets_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open(tmp_path / "not-a-pipe", "wb") as file, caplog.at_level(logging.WARNING, logger="imgedge.web"):
        anyio.run(heartbeat.beat, file.fileno())
        anyio.run(heartbeat.beat, 987)  # nothing open there
    assert (tmp_path / "not-a-pipe").stat().st_size == 0
    assert caplog.text.count("not an inherited pipe") == 2
