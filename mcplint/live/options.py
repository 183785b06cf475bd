"""What a live run may do: where it resolves, where it connects, how long it waits."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, NamedTuple

from mcplint.errors import UsageError

# Public resolvers a hosted client's view is approximated with (Cloudflare, Google, Quad9).
DEFAULT_NAMESERVERS = (("1.1.1.1", 53), ("8.8.8.8", 53), ("9.9.9.9", 53))


class Endpoint(NamedTuple):
    """A host (name or address) and a port: a resolver, or a --connect-to target."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


# A plain class: a dataclass here cost 4.7M more instructions per probing process (1.2%
# of loading live/), and nothing compares options (README, Development).
class LiveOptions:
    def __init__(self, timeout: float = 30.0, deadline: float = 120.0,
                 nameservers: tuple[Endpoint, ...] | None = None,
                 system_resolver: Endpoint | None = None, system_resolver_off: bool = False,
                 connect_to: dict[tuple[str, int], Endpoint] | None = None,
                 ca_bundle: Path | None = None, user_agent: str | None = None,
                 probe_registration: bool = False, send_credentials: bool = False,
                 record: Path | None = None, progress: bool = False, loopback: bool = False,
                 credential_env: tuple[str, ...] = ()) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.nameservers = nameservers or tuple(Endpoint(h, p) for h, p in DEFAULT_NAMESERVERS)
        self.system_resolver = system_resolver  # None: the machine's own configuration
        self.system_resolver_off = system_resolver_off  # --system-resolver none
        self.connect_to = {} if connect_to is None else connect_to
        self.ca_bundle = ca_bundle
        self.user_agent = user_agent
        self.probe_registration = probe_registration
        self.send_credentials = send_credentials
        self.record = record
        self.progress = progress
        # What only the operator may widen (the command line, never a manifest or config):
        # connecting to loopback (--profile local) and the variables credentials may name.
        self.loopback = loopback
        self.credential_env = credential_env

    def to_json(self) -> dict[str, Any]:
        """The options as JSON, as jobs carry them to the probing process."""
        def endpoint(value: Endpoint | None) -> list[Any] | None:
            return None if value is None else [value.host, value.port]

        return {"timeout": self.timeout, "deadline": self.deadline,
                "nameservers": [endpoint(e) for e in self.nameservers],
                "system_resolver": endpoint(self.system_resolver),
                "system_resolver_off": self.system_resolver_off,
                "connect_to": [[host, port, *endpoint(target)]  # type: ignore[misc]
                               for (host, port), target in self.connect_to.items()],
                "ca_bundle": None if self.ca_bundle is None else str(self.ca_bundle),
                "user_agent": self.user_agent, "probe_registration": self.probe_registration,
                "send_credentials": self.send_credentials,
                "record": None if self.record is None else str(self.record),
                "progress": self.progress, "loopback": self.loopback,
                "credential_env": list(self.credential_env)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveOptions:
        system = data["system_resolver"]
        return cls(
            timeout=data["timeout"], deadline=data["deadline"],
            nameservers=tuple(Endpoint(host, port) for host, port in data["nameservers"]),
            system_resolver=None if system is None else Endpoint(*system),
            system_resolver_off=data["system_resolver_off"],
            connect_to={(host, port): Endpoint(address, target_port)
                        for host, port, address, target_port in data["connect_to"]},
            ca_bundle=None if data["ca_bundle"] is None else Path(data["ca_bundle"]),
            user_agent=data["user_agent"], probe_registration=data["probe_registration"],
            send_credentials=data["send_credentials"],
            record=None if data["record"] is None else Path(data["record"]),
            progress=data["progress"], loopback=data["loopback"],
            credential_env=tuple(data["credential_env"]))


def parse_host_port(text: str, default_port: int, option: str) -> Endpoint:
    """HOST, HOST:PORT, IPV6, [IPV6]:PORT."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = _port(rest.lstrip(":"), option, text)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, option, text)
    if not host:
        raise UsageError(f"{option}: '{text}' has no host")
    return Endpoint(host.lower(), port)


def _port(text: str, option: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"{option}: '{whole}' has no valid port")
    return int(text)


def parse_nameserver(text: str, option: str = "--nameserver") -> Endpoint:
    endpoint = parse_host_port(text, 53, option)
    try:
        ipaddress.ip_address(endpoint.host)
    except ValueError:
        raise UsageError(f"{option}: '{text}' must be an IP address (a resolver cannot be "
                         "found by name without asking a resolver)") from None
    return endpoint


def parse_connect_to(text: str) -> tuple[tuple[str, int], Endpoint]:
    """curl's HOST:PORT:ADDR:PORT (IPv6 addresses in brackets)."""
    parts = []
    rest = text.strip()
    while rest:
        if rest.startswith("["):
            inner, _, rest = rest[1:].partition("]")
            parts.append(inner)
            rest = rest[1:] if rest.startswith(":") else rest
        else:
            piece, _, rest = rest.partition(":")
            parts.append(piece)
    if len(parts) != 4 or not all(parts):
        raise UsageError(f"--connect-to: '{text}' is not HOST:PORT:ADDRESS:PORT")
    host, port, address, target_port = parts
    try:  # a name would be looked up with the machine's resolver, which verify never asks
        ipaddress.ip_address(address)
    except ValueError:
        raise UsageError(f"--connect-to: '{text}': '{address}' must be an IP address "
                         "(IPv6 in brackets), not a host name") from None
    return ((host.lower(), _port(port, "--connect-to", text)),
            Endpoint(address, _port(target_port, "--connect-to", text)))
