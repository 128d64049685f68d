"""What the API needs from a job queue, whichever runs the jobs (this process, or `imgedge worker`s)."""

from __future__ import annotations

from typing import Protocol


class QueueFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("queue full")
        self.retry_after = retry_after


class JobQueue(Protocol):
    @property
    def depth(self) -> int:
        """Jobs waiting (and, for a shared queue, running)."""
        ...

    def has_room(self) -> bool: ...
    def retry_after(self) -> int:
        """Seconds a refused client should wait, from the depth and how long jobs have been taking."""
        ...

    def submit(self, job_id: str) -> None:
        """Hands over a job row already written as queued; raises QueueFull."""
        ...

    def start(self) -> None: ...
    async def stop(self) -> None:
        """Queued jobs stay queued in the database (or in Redis) for the next start."""
        ...
