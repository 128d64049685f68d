"""A worker's sign of life to `imgedge serve`: its event loop writes the worker's pid to an inherited pipe
every second, and the supervisor kills and replaces a worker that has not written for
IMGEDGE_PROXY_WORKER_TIMEOUT.

The beat comes from the event loop itself rather than from a thread of its own: a worker whose loop is blocked
(a deadlock, CPU work that should have gone to the transform pool, a stopped process) accepts no connections
and leaves the ones it holds hanging, while a thread could go on answering for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import struct

log = logging.getLogger("imgedge.web")

INTERVAL_S = 1.0
# One record per beat: the writer's pid. A write this short is atomic on a pipe, and the pipe only ever holds
# whole records, so a reader asking for a multiple of its size never gets part of one.
RECORD = struct.Struct("=i")


async def beat(fd: int) -> None:
    try:
        is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        is_pipe = False
    if not is_pipe:  # set by hand to something else: a terminal or a file must not get a record a second
        log.warning("IMGEDGE_HEARTBEAT_FD=%d is not an inherited pipe; not beating", fd)
        return
    record = RECORD.pack(os.getpid())
    while True:
        try:
            os.write(fd, record)
        except BlockingIOError:
            pass  # the supervisor has not read for a while: the pipe holds beats enough
        except OSError as exc:
            log.warning("heartbeat pipe %d unusable (%s); no longer beating", fd, exc)
            return
        await asyncio.sleep(INTERVAL_S)
