"""Listeners that misbehave by doing nothing: held open by the test process itself.

Kept in-process because they need no code to run: the kernel does all the work (or
refuses to), so their ports exist from the moment the object does.
"""

from __future__ import annotations

import socket


class DeadResolver:
    """A UDP and TCP port on 127.0.0.1 that takes DNS queries and never answers.

    UDP datagrams queue in the socket's buffer unread; TCP connections complete in the
    kernel's backlog and are never accepted. Held by this process for the stack's life.
    """

    def __init__(self) -> None:
        for _ in range(50):
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._udp.bind(("127.0.0.1", 0))
            self.port: int = self._udp.getsockname()[1]
            self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self._tcp.bind(("127.0.0.1", self.port))  # the same number for TCP
            except OSError:
                self.close()
                continue
            self._tcp.listen(64)
            return
        raise OSError("no loopback port free for both UDP and TCP")

    def close(self) -> None:
        self._udp.close()
        self._tcp.close()


class Blackhole:
    """A TCP port that completes connections and never says a word (no TLS handshake)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()


class Refuser:
    """A TCP port where nothing listens: bound but not listening, so the kernel answers
    every connection with RST, and no other process can take the port meanwhile."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()
