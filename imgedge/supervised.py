"""The services `imgedge serve` starts stop when it does, however it ends.

`imgedge serve` stops its children on SIGTERM or Ctrl-C. Killed outright (SIGKILL, the OOM killer) it runs
no cleanup, and its proxy workers and generator would go on running, holding the ports the next
`imgedge serve` needs. So each child asks the kernel for a SIGTERM (uvicorn's graceful stop) when its
parent goes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from imgedge.common_settings import SUPERVISOR_PID

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def stop_with_supervisor() -> None:
    """In a service started by `imgedge serve` (IMGEDGE_SUPERVISOR_PID set): SIGTERM when serve exits."""
    supervisor = SUPERVISOR_PID.read()
    os.environ.pop(SUPERVISOR_PID.name, None)  # a process this one starts has another parent
    if not supervisor or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        return
    if os.getppid() != supervisor:  # it exited before the request above: no signal will come
        os.kill(os.getpid(), signal.SIGTERM)
