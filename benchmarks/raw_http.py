"""HTTP/1.1 over a plain socket, for what polite clients never send: pipelined floods, oversized or trickled
headers, bodies that do not end. Loopback only; every wait has a timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0: the server closed the connection without answering
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def request_bytes(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    host: str = "127.0.0.1",
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body


class Connection:
    def __init__(
        self, port: int, *, timeout_s: float = 30.0, host: str = "127.0.0.1", source: str | None = None
    ) -> None:
        # `source`: another loopback address (127.0.0.2, …) to connect from, as a second client would.
        address = (source, 0) if source else None
        self.sock = socket.create_connection((host, port), timeout=timeout_s, source_address=address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed = False

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> bool:
        """False once the server has closed the connection (or reset it)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, TimeoutError):
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buffer += chunk
        return True

    def read_answer(self) -> Answer:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return Answer(0)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(status_line.split()[1])
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return Answer(status, headers, self._read_chunked())
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                break
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(status, headers, body)

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            while b"\r\n" not in self.buffer:
                if not self._fill():
                    return body
            size_line, _, self.buffer = self.buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                if not self._fill():
                    return body
            body += self.buffer[:size]
            self.buffer = self.buffer[size + 2 :]
            if size == 0:
                return body

    def wait_closed(self, timeout_s: float) -> float | None:
        """Seconds until the server closed the connection (keeping what it sent for read_answer), or None."""
        started = time.monotonic()
        self.sock.settimeout(0.2)
        while time.monotonic() - started < timeout_s:
            try:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    self.closed = True
                    return time.monotonic() - started
                self.buffer += chunk
            except TimeoutError:
                continue
            except OSError:
                return time.monotonic() - started
        return None


def pipelined(
    port: int, requests: Iterable[bytes], *, window: int = 64, timeout_s: float = 30.0
) -> list[int]:
    """Sends requests `window` at a time on keep-alive connections, reconnecting when the server closes one;
    a request the server closed on without answering is sent once more. Returns the statuses, in order."""
    statuses: list[int] = []
    pending = list(requests)
    retried: set[int] = set()
    conn: Connection | None = None
    position = 0
    try:
        while position < len(pending):
            if conn is None or conn.closed:
                if conn is not None:
                    conn.close()
                conn = Connection(port, timeout_s=timeout_s)
            batch = pending[position : position + window]
            conn.send(b"".join(batch))
            for offset in range(len(batch)):
                answer = conn.read_answer()
                index = position + offset
                if answer.status == 0 and index not in retried:
                    retried.add(index)
                    position = index
                    break
                statuses.append(answer.status)
                if conn.closed and offset < len(batch) - 1:
                    position = index + 1
                    break
            else:
                position += len(batch)
                continue
            conn.closed = True
    finally:
        if conn is not None:
            conn.close()
    return statuses
