"""The table of connections per worker that `imgedge serve`'s proxy workers take turns by."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from imgedge.web import connection_table
from imgedge.web.connection_table import ConnectionTable, create_table


@pytest.fixture
def table() -> Iterator[int]:
    fd = create_table(3)
    yield fd
    os.close(fd)


def test_a_worker_is_crowded_only_by_a_live_worker_holding_fewer(table: int) -> None:
    first, second, third = (ConnectionTable(table, index) for index in range(3))
    assert not any(view.crowded() for view in (first, second, third))  # all at zero: anyone may take one
    first.opened()
    assert first.crowded() and not second.crowded()
    second.opened()
    third.opened()
    assert not first.crowded()  # ties take turns as they come
    first.opened()
    third.leave()  # stopped accepting (shut down): out of the comparison
    second.closed()
    assert first.crowded()  # the second holds fewer now
    for view in (first, second, third):
        view.close()


def test_a_worker_whose_loop_stopped_is_left_out(table: int, monkeypatch: pytest.MonkeyPatch) -> None:
    busy, hung, gone = (ConnectionTable(table, index) for index in range(3))
    gone.leave()
    busy.opened()
    assert busy.crowded()  # the hung one's loop ran a moment ago
    later = time.monotonic() + connection_table.STALE_S + 0.1
    monkeypatch.setattr(connection_table, "time", SimpleNamespace(monotonic=lambda: later))
    assert not busy.crowded()  # its last run is now too long ago
    hung.tick()  # it runs again
    assert busy.crowded()


def test_a_replacement_starts_from_zero_in_its_predecessors_slot(table: int) -> None:
    first, dead = ConnectionTable(table, 0), ConnectionTable(table, 1)
    for _ in range(5):
        dead.opened()  # died holding five
    first.opened()
    ConnectionTable(table, 1)  # its replacement
    assert first.crowded()


@pytest.mark.parametrize("index", [-1, 3])
def test_an_index_outside_the_table_is_refused(table: int, index: int) -> None:
    with pytest.raises(ValueError, match="outside the table's 3 slots"):
        ConnectionTable(table, index)


def test_beyond_eight_connections_an_eighth_fewer_crowds_a_worker(table: int) -> None:
    busy, other, idle = (ConnectionTable(table, index) for index in range(3))
    idle.leave()  # out of the comparison
    for _ in range(16):
        busy.opened()
    for _ in range(14):
        other.opened()
    assert not busy.crowded()  # two fewer of sixteen: within an eighth
    other.closed()
    assert busy.crowded()


def test_a_descriptor_that_is_no_table_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "not-a-table").open("wb+") as file:
        file.write(b"x" * 20)
        file.flush()
        with pytest.raises(ValueError, match="is not a connection table"):
            ConnectionTable(file.fileno(), 0)
