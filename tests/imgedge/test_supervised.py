"""A service started by `imgedge serve` stops with it (the kill itself: tests/e2e/test_serve.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from imgedge.common_settings import SUPERVISOR_PID

SUPERVISOR_ENV = SUPERVISOR_PID.name

CHILD = """
import os
from imgedge.supervised import stop_with_supervisor
stop_with_supervisor()
print(os.environ.get("IMGEDGE_SUPERVISOR_PID", "taken out"), flush=True)
"""


def _child(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != SUPERVISOR_ENV} | env
    argv = [sys.executable, "-c", CHILD]
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_a_service_of_a_living_supervisor_runs_on_and_keeps_the_pid_from_its_own_children() -> None:
    done = _child(**{SUPERVISOR_ENV: str(os.getpid())})  # this test is the child's parent
    assert (done.returncode, done.stdout) == (0, "taken out\n")


def test_a_service_whose_supervisor_is_already_gone_stops() -> None:
    # Its parent is not the supervisor named: the supervisor exited and the service was handed to another.
    done = _child(**{SUPERVISOR_ENV: "1"})
    assert done.returncode == -signal.SIGTERM and done.stdout == ""


def test_a_service_started_on_its_own_is_left_alone() -> None:
    done = _child()
    assert (done.returncode, done.stdout) == (0, "taken out\n")
