"""The benchmark's memory readings: process groups found afresh at every sample."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.contenders import proxy_processes
from benchmarks.rss import RssSampler, command_name, pss_bytes, rss_bytes

# A supervisor with two "proxy workers" (named as `imgedge serve` names them) and one other child.
SUPERVISOR = """
import os, subprocess, sys, time
sleep = "import time; print('ready', flush=True); time.sleep(60)"
children = [subprocess.Popen([sys.executable, "-c", sleep, name]) for name in os.environ["NAMES"].split()]
print(" ".join(str(c.pid) for c in children), flush=True)
time.sleep(60)
"""


@pytest.fixture
def supervisor() -> Iterator[tuple[int, list[int]]]:
    names = ["imgedge.proxy.app:create_app_from_env"] * 2 + ["imgedge.generator.app:create_app_from_env"]
    env = {**os.environ, "NAMES": " ".join(names)}  # not in its own command line, as in `imgedge serve`'s
    with subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR], env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]  # the pids, and each child's "ready"
        children = [int(pid) for pid in next(line for line in lines if "ready" not in line).split()]
        yield process.pid, children
        for pid in children:
            os.kill(pid, 9)
        process.kill()


def test_proxy_processes_are_the_supervisors_proxy_children(supervisor: tuple[int, list[int]]) -> None:
    root, children = supervisor
    assert sorted(proxy_processes(root)) == sorted(children[:2])


def test_a_group_is_found_again_at_every_sample(supervisor: tuple[int, list[int]]) -> None:
    _, children = supervisor
    current = children[:1]
    sampler = RssSampler()
    sampler.watch_group("workers", lambda: current)
    first = sampler.sample()["workers"]
    assert first == rss_bytes(children[0]) > 0
    current = children[:2]  # a worker replaced, or added: counted from the next sample on
    assert sampler.sample()["workers"] == sum(rss_bytes(pid) for pid in children[:2])
    assert len(sampler.memory["workers"].timeline) == 2
    assert [label.split()[0] for label in sampler.current("workers")] == [str(pid) for pid in children[:2]]


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        (["{script}", "--fd", "15", "--log-level", "error"], "sleeper"),  # thumbor's shape
        (["{script}", "serve", "--no-sample"], "sleeper serve"),  # a console script and its subcommand
        (["-m", "sleeper_module", "--fd", "3"], "sleeper_module 3"),  # uvicorn's shape
    ],
)
def test_a_process_is_named_by_its_script_or_module(tmp_path: Path, arguments: list[str], name: str) -> None:
    script = tmp_path / "bin" / "sleeper"
    script.parent.mkdir()
    script.write_text("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    (tmp_path / "sleeper_module.py").write_text(script.read_text())  # found from the cwd below
    command = [sys.executable, *(a.format(script=script) for a in arguments)]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        try:
            assert command_name(process.pid) == name
        finally:
            process.kill()


def test_pss_splits_what_workers_share(supervisor: tuple[int, list[int]]) -> None:
    _, children = supervisor
    pss = [pss_bytes(pid) for pid in children[:2]]
    rss = [rss_bytes(pid) for pid in children[:2]]
    # Two idle interpreters share libpython's and the libraries' pages: each one's share is less than its RSS.
    assert all(0 < p < r for p, r in zip(pss, rss, strict=True))
    assert pss_bytes(2**22 + 1) == 0  # no such process (pid_max is at most 2**22)
