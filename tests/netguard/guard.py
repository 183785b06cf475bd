"""Network guard for the test suite: only loopback may be contacted.

An audit hook (PEP 578) sees every socket connect/sendto/sendmsg and every name
lookup before the system call happens, in this process and in every child Python
process that imports ``sitecustomize`` from this folder. A target that is not
loopback is a violation: it is recorded, logged, and refused with an exception.

Code under test may catch exceptions broadly (mcplint turns connection errors into
findings), so the exception alone proves nothing; the record is what fails a test.
In a child process nothing can be relied on to report it, so the child is ended at
once with exit code 97 after logging.

Why lookups count: a host name other than ``localhost`` handed to getaddrinfo would
ask the machine's resolver (/etc/resolv.conf), which is not on loopback.

This module only uses the standard library, and never does socket work itself,
because it runs inside the audit hook of every process it guards.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass

LOG_ENV = "MCPLINT_NETGUARD_LOG"
CHILD_EXIT_CODE = 97

# Audit events (see the "Audit events table" in the Python docs) and the position of
# the target in each event's arguments.
_ADDRESS_EVENTS = {"socket.connect": 1, "socket.sendto": 1, "socket.sendmsg": 1}
_LOOKUP_EVENTS = {
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.gethostbyaddr",
}
_WATCHED = frozenset(_ADDRESS_EVENTS) | _LOOKUP_EVENTS

_LOCAL_NAMES = frozenset({"localhost", "localhost."})
# Families whose addresses never leave the machine.
_LOCAL_FAMILIES = frozenset(
    family for family in (getattr(socket, "AF_UNIX", None), getattr(socket, "AF_NETLINK", None)) if family is not None
)


class NetguardViolation(PermissionError):
    """A connection or lookup to something other than loopback was refused.

    A PermissionError (EPERM), like the answer of a firewall, so that networking code
    handles it as it would handle a real block.
    """


@dataclass(frozen=True)
class Violation:
    event: str
    host: str
    port: int | str

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


_violations: list[Violation] = []
_lock = threading.Lock()
_installed = False
_child = False


def violations() -> list[Violation]:
    """Violations recorded in this process so far (a copy)."""
    with _lock:
        return list(_violations)


def clear() -> None:
    with _lock:
        _violations.clear()


def is_installed() -> bool:
    return _installed


def install(*, child: bool = False) -> None:
    """Add the audit hook to this process (idempotent; hooks cannot be removed).

    child: end the process with exit code 97 on the first violation (for processes
    started by the tests, where no fixture would notice a caught exception).
    """
    global _installed, _child
    _child = _child or child
    if _installed:
        return
    sys.addaudithook(_hook)
    _installed = True


def _hook(event: str, args: tuple) -> None:
    # Called for every audit event of the process (imports, opens, ...): stay cheap.
    if event not in _WATCHED:
        return
    violation = _check(event, args)
    if violation is not None:
        _report(violation)


def _check(event: str, args: tuple) -> Violation | None:
    if event in _ADDRESS_EVENTS:
        sock, address = args[0], args[_ADDRESS_EVENTS[event]]
        return _check_address(event, getattr(sock, "family", None), address)
    if event == "socket.getaddrinfo":
        host, port = args[0], args[1]
        return None if _lookup_allowed(host) else Violation(event, _text(host), _port(port))
    host = args[0]
    if event == "socket.gethostbyaddr":
        # A reverse lookup asks the resolver even for an address (PTR), unless it is ours.
        allowed = _is_loopback_literal(host) or _text(host).lower() in _LOCAL_NAMES
        return None if allowed else Violation(event, _text(host), "-")
    # gethostbyname(_ex) take only a host: a name or an address.
    return None if _lookup_allowed(host) else Violation(event, _text(host), "-")


def _check_address(event: str, family: int | None, address: object) -> Violation | None:
    if address is None or family in _LOCAL_FAMILIES:
        return None  # sendmsg on a connected socket; UNIX and netlink sockets
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
        host, port = address[0], address[1] if len(address) > 1 else "-"
        if _is_loopback_literal(host) or _text(host).lower() in _LOCAL_NAMES:
            return None
        return Violation(event, _text(host), _port(port))
    # Any other family (packet, CAN, Bluetooth...) has no business in these tests.
    return Violation(event, repr(address), "-")


def _lookup_allowed(host: object) -> bool:
    """A lookup is harmless when it cannot reach a resolver.

    None and "" (wildcard binds) and IP literals are resolved without any query; the
    connect that may follow is checked on its own. "localhost" is answered from
    /etc/hosts. Anything else would go to the system resolver.
    """
    if host is None:
        return True
    text = _text(host).strip()
    if text == "" or text.lower() in _LOCAL_NAMES:
        return True
    return _ip_literal(text) is not None


def _is_loopback_literal(host: object) -> bool:
    address = _ip_literal(_text(host))
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _ip_literal(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 scope id
    except ValueError:
        return None


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("ascii", "replace")
    return str(value)


def _port(value: object) -> int | str:
    if isinstance(value, int):
        return value
    return "-" if value is None else _text(value)


def _report(violation: Violation) -> None:
    with _lock:
        _violations.append(violation)
    _append_log(violation)
    if _child:
        # os.write: no buffering to flush, and nothing else may run after this.
        os.write(2, f"netguard: blocked connection to {violation.describe()}\n".encode())
        os._exit(CHILD_EXIT_CODE)
    raise NetguardViolation(
        errno.EPERM,
        f"netguard: blocked {violation.event} to {violation.describe()} "
        "(tests may only contact 127.0.0.0/8, ::1 or localhost)",
    )


def _append_log(violation: Violation) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = (
        f"{time.strftime('%H:%M:%S')} pid={os.getpid()} {violation.event} "
        f"{violation.describe()} argv={' '.join(sys.argv)[:200]}\n"
    )
    # O_APPEND: one write per line, so lines from concurrent processes do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def log_lines(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Lines of the violation log (the file named by MCPLINT_NETGUARD_LOG by default)."""
    path = path or os.environ.get(LOG_ENV)
    if not path:
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []
