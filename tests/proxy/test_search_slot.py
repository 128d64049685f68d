"""One q:auto search at a time per host: a lock file every worker of the host takes before searching."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.search_slot import SearchSlot


class Gave(Exception):
    pass


def test_a_second_slot_on_the_path_waits_for_the_first(tmp_path: Path) -> None:
    first, second = SearchSlot(tmp_path / "run" / "q.lock"), SearchSlot(tmp_path / "run" / "q.lock")
    entered = threading.Event()
    with first.held(lambda: None):

        def contend() -> None:
            with second.held(lambda: None):
                entered.set()

        waiter = threading.Thread(target=contend)
        waiter.start()
        assert not entered.wait(0.4)  # held by the first all along
    assert entered.wait(5)  # and taken as soon as the first let go
    waiter.join()


def test_waiting_stops_when_the_search_is_abandoned(tmp_path: Path) -> None:
    first, second = SearchSlot(tmp_path / "q.lock"), SearchSlot(tmp_path / "q.lock")
    deadline = time.monotonic() + 0.3

    def check() -> None:
        if time.monotonic() > deadline:
            raise Gave()

    with first.held(lambda: None), pytest.raises(Gave), second.held(check):
        pytest.fail("the slot was held by the first")
    with second.held(check):  # free again, and no check needed to take it
        pass


def test_another_process_holding_the_slot_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "q.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(1.0)\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with SearchSlot(path).held(lambda: None):
            waited = time.monotonic() - started
        assert 0.5 < waited < 10  # the rest of the holder's second, released by its exit
    finally:
        holder.kill()
        holder.communicate()  # reaps it and closes its pipe


def test_no_path_means_no_waiting() -> None:
    slot = SearchSlot(None)
    with slot.held(lambda: None), slot.held(lambda: None):
        pass


def test_the_proxy_shares_its_slot_through_the_data_directory(tmp_path: Path) -> None:
    config = ProxyConfig(data_dir=tmp_path)
    assert config.search_slot_path.parent == tmp_path / "run"
