"""The live stack: every process, started together, with the API tests use.

    with Stack(Path(tmp)) as stack:
        scenario = stack.scenario("healthy")
        args = stack.cli_args(scenario)   # --nameserver ... --connect-to ... --ca-bundle ...
        manifest = stack.write_manifest(scenario, tmp_path)

Start order: the backends (the MCP SDK servers: mcp 2.x, mcp 1.x in its own virtualenv
and the TypeScript SDK 2.x; oidc-provider; the hostile server) and the two
dnsmasq instances start in parallel; once oidc-provider answers, its metadata is read
(over loopback) to derive the variant authorization servers' documents, then nginx
starts with every site. All processes are stopped by process group on ``stop()``, at
interpreter exit, or by the kernel if the test process dies (see procs.py).
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .catalog import (
    MCP_PATH,
    NO_POST_AUTH_METHODS,
    SCOPES,
    STATIC_HEADER,
    STATIC_KEY_ENV,
    TENANT_PATH,
    ZONE,
    Catalog,
    Scenario,
)
from .dns import Dnsmasq, HostsDir, public_records, system_records
from .env import (
    AUTHSERVER_DIR,
    LEGACY_MCP_DIR,
    LEGACY_MCP_VENV,
    LIVESTACK_DIR,
    MODERN_MCP_DIR,
    child_env,
    legacy_python,
    python,
)
from .nginx import Nginx
from .procs import ManagedProcess, StackError, wait_for_ports_file, wait_until
from .sinks import Blackhole, DeadResolver, Refuser
from .sites import NOT_FOUND, Action, Site
from .tls import CertificateAuthority

# What nginx can proxy to (sites.Proxy.backend): the MCP SDK server (mcp 2.x, both
# generations), the legacy-only one (mcp 1.x), the new-only one (TypeScript SDK 2.x),
# oidc-provider's three issuers, and the slow backend.
BACKENDS = ("mcp", "legacy_mcp", "modern_mcp", "as", "tenant", "as_no_post", "slow")

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class Stack:
    """The whole stack on 127.0.0.1. Use as a context manager, or start()/stop()."""

    def __init__(self, directory: Path, *, zone: str = ZONE) -> None:
        self.directory = directory
        self.catalog = Catalog(zone)
        self.zone = zone
        self._processes: list[ManagedProcess] = []
        self._custom_hosts: dict[str, str] = {}  # host -> its DNS address
        self._nginx: Nginx | None = None
        self._dns: dict[str, Dnsmasq] = {}
        self.healthy_as_metadata: dict[str, Any] = {}
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = CertificateAuthority(directory / "tls")
        self.ca_file: Path = self.ca.ca_file
        self.delay_file = directory / "delay_ms"
        self._hosts_dir = HostsDir(directory / "dns-hosts.d")
        self.dead_resolver = DeadResolver()
        self.blackhole = Blackhole()
        self.refuser = Refuser()
        self.ports: dict[str, int] = {}

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._nginx is not None:
            self._nginx.stop()
        for server in self._dns.values():
            server.stop()
        for process in reversed(self._processes):
            process.stop()
        for sink in (self.dead_resolver, self.blackhole, self.refuser):
            sink.close()

    def _start(self) -> None:
        public_key_file, jwks = self._signing_key()
        mcp = self._spawn_mcp_server(public_key_file)
        legacy_mcp = self._spawn_legacy_mcp_server()
        modern_mcp = self._spawn_modern_mcp_server()
        authserver = self._spawn_authserver(jwks)
        hostile = self._spawn_hostile_server()
        records = self.catalog.dns_records()
        for name, chosen in (("public", public_records(records)), ("system", system_records(records))):
            self._dns[name] = Dnsmasq(name, self.directory, self.zone, self._hosts_dir.path)
            self._dns[name].start(chosen)
        self.ports.update(wait_for_ports_file(mcp, self.directory / "mcp-ports.json"))
        self.ports.update(wait_for_ports_file(legacy_mcp, self.directory / "legacy-mcp-ports.json"))
        self.ports.update(wait_for_ports_file(modern_mcp, self.directory / "modern-mcp-ports.json"))
        as_ports = wait_for_ports_file(authserver, self.directory / "as-ports.json")
        self.ports.update({"as": as_ports["main"], "tenant": as_ports["tenant"], "as_no_post": as_ports["no_post"]})
        self.ports.update(wait_for_ports_file(hostile, self.directory / "hostile-ports.json"))
        self.healthy_as_metadata = self._fetch_healthy_as_metadata(authserver)
        backends = {name: self.ports[name] for name in BACKENDS}
        self._nginx = Nginx(self.directory / "nginx", self.ca, backends)
        self._nginx.start(self.catalog.sites(self.healthy_as_metadata))
        self.ports.update(
            nginx=self._nginx.port,
            dns_public=self._dns["public"].port,
            dns_system=self._dns["system"].port,
            dns_dead=self.dead_resolver.port,
            blackhole=self.blackhole.port,
            refused=self.refuser.port,
        )

    def _signing_key(self) -> tuple[Path, dict[str, Any]]:
        """The key oidc-provider signs access tokens with; the MCP server gets its public half."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_key_file = self.directory / "as-signing-key.pub.pem"
        public_key_file.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
        jwk.pop("key_ops", None)  # ["sign"] would hide the key from oidc-provider's key selection
        jwk.update(kid="livestack-1", use="sig", alg="RS256")
        return public_key_file, {"keys": [jwk]}

    def _spawn(
        self, name: str, argv: Sequence[str], config: Mapping[str, Any], cwd: Path | None = None
    ) -> ManagedProcess:
        config_file = self.directory / f"{name}.json"
        config_file.write_text(json.dumps(config, indent=2))
        process = ManagedProcess(
            name, [*argv, str(config_file)], self.directory / f"{name}.log", env=child_env(), cwd=cwd
        )
        self._processes.append(process)
        return process

    def _spawn_mcp_server(self, public_key_file: Path) -> ManagedProcess:
        config = {
            "zone": self.zone,
            "default_issuer": self.catalog.healthy_issuer,
            "token_issuers": [self.catalog.healthy_issuer, self.catalog.tenant_issuer, self.catalog.no_post_issuer],
            "scopes": list(SCOPES),
            "public_key_file": str(public_key_file),
            "delay_file": str(self.delay_file),
            "ports_file": str(self.directory / "mcp-ports.json"),
        }
        return self._spawn("mcp_server", [python(), str(LIVESTACK_DIR / "mcp_server.py")], config)

    def _spawn_legacy_mcp_server(self) -> ManagedProcess:
        interpreter = legacy_python()
        if not interpreter.exists():
            raise StackError(f"mcp 1.x is not installed: run tests/livestack/install.sh (creates {LEGACY_MCP_VENV})")
        config = {
            "hosts": list(self.catalog.legacy_mcp_hosts),
            "ports_file": str(self.directory / "legacy-mcp-ports.json"),
        }
        return self._spawn("legacy_mcp_server", [str(interpreter), str(LEGACY_MCP_DIR / "server.py")], config)

    def _spawn_modern_mcp_server(self) -> ManagedProcess:
        node = _node()
        if not (MODERN_MCP_DIR / "node_modules" / "@modelcontextprotocol" / "server").is_dir():
            raise StackError(
                "@modelcontextprotocol/server is not installed: run tests/livestack/install.sh"
                f" (npm ci in {MODERN_MCP_DIR})"
            )
        config = {"ports_file": str(self.directory / "modern-mcp-ports.json")}
        return self._spawn("modern_mcp_server", [node, str(MODERN_MCP_DIR / "server.mjs")], config, cwd=MODERN_MCP_DIR)

    def _spawn_authserver(self, jwks: dict[str, Any]) -> ManagedProcess:
        node = _node()
        if not (AUTHSERVER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise StackError(
                f"oidc-provider is not installed: run tests/livestack/install.sh (npm ci in {AUTHSERVER_DIR})"
            )
        config = {
            "providers": [
                {"name": "main", "issuer": self.catalog.healthy_issuer, "mount": ""},
                {"name": "tenant", "issuer": self.catalog.tenant_issuer, "mount": TENANT_PATH},
                # Refuses to register confidential clients that authenticate with
                # client_secret_post, the method the hosted client asks for.
                {
                    "name": "no_post",
                    "issuer": self.catalog.no_post_issuer,
                    "mount": "",
                    "client_auth_methods": list(NO_POST_AUTH_METHODS),
                },
            ],
            "jwks": jwks,
            "zone": self.zone,
            "rejected_resources": list(self.catalog.rejected_resources),
            "delay_file": str(self.delay_file),
            "ports_file": str(self.directory / "as-ports.json"),
        }
        return self._spawn("authserver", [node, str(AUTHSERVER_DIR / "server.mjs")], config, cwd=AUTHSERVER_DIR)

    def _spawn_hostile_server(self) -> ManagedProcess:
        cert = self.ca.cert_for(*self.catalog.hosts_for("hostile"))
        config = {
            "zone": self.zone,
            "cert_file": str(cert.cert),
            "key_file": str(cert.key),
            "static_dir": str(self.directory / "nginx" / "static"),
            "ports_file": str(self.directory / "hostile-ports.json"),
        }
        (self.directory / "nginx" / "static").mkdir(parents=True, exist_ok=True)
        return self._spawn("hostile_server", [python(), str(LIVESTACK_DIR / "hostile_server.py")], config)

    def _fetch_healthy_as_metadata(self, authserver: ManagedProcess) -> dict[str, Any]:
        """The metadata oidc-provider serves for the healthy issuer, asked as nginx would."""
        connection = http.client.HTTPConnection("127.0.0.1", self.ports["as"], timeout=10)
        try:
            connection.request(
                "GET",
                "/.well-known/openid-configuration",
                headers={"Host": self.catalog.healthy_as_host, "X-Forwarded-Proto": "https"},
            )
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            raise authserver.fail(f"metadata request failed: {error}") from error
        finally:
            connection.close()
        if response.status != 200:
            raise authserver.fail(f"metadata answered {response.status}: {body[:200]!r}")
        document: dict[str, Any] = json.loads(body)
        if document.get("issuer") != self.catalog.healthy_issuer:
            raise authserver.fail(f"metadata has issuer {document.get('issuer')!r}")
        return document

    # -- names and ports ---------------------------------------------------------------

    @property
    def scenarios(self) -> dict[str, Scenario]:
        return self.catalog.scenarios

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self.catalog.scenarios[scenario_id]
        except KeyError:
            raise KeyError(f"no scenario {scenario_id!r}; known: {', '.join(self.catalog.scenarios)}") from None

    def host(self, label: str) -> str:
        """``label`` under the zone, e.g. host("mcp") == "mcp.mcplint-stack.com"."""
        return self.catalog.host(label)

    @property
    def nginx_port(self) -> int:
        return self.ports["nginx"]

    @property
    def dns_public_port(self) -> int:
        return self.ports["dns_public"]

    @property
    def dns_system_port(self) -> int:
        return self.ports["dns_system"]

    @property
    def dead_dns_port(self) -> int:
        return self.ports["dns_dead"]

    def connect_port(self, host: str) -> int:
        """The loopback port that serves ``host`` (what --connect-to sends it to)."""
        endpoint = "nginx" if host in self._custom_hosts else self.catalog.endpoint(host)
        return self.ports[endpoint]

    # -- mcplint's command line --------------------------------------------------------

    def resolver_address(self, which: str) -> str:
        """127.0.0.1:PORT of the "public", "system" or "dead" resolver."""
        ports = {"public": self.dns_public_port, "system": self.dns_system_port, "dead": self.dead_dns_port}
        if which not in ports:
            raise ValueError(f"resolver must be one of {sorted(ports)}, not {which!r}")
        return f"127.0.0.1:{ports[which]}"

    def connect_to(self, hosts: Iterable[str]) -> list[str]:
        """``--connect-to HOST:443:127.0.0.1:PORT`` for each host."""
        args: list[str] = []
        for host in dict.fromkeys(hosts):
            args += ["--connect-to", f"{host}:443:127.0.0.1:{self.connect_port(host)}"]
        return args

    def cli_args(
        self,
        scenario: Scenario | str | None = None,
        *,
        hosts: Iterable[str] = (),
        nameserver: str = "public",
        system_resolver: str = "system",
    ) -> list[str]:
        """mcplint options that point every resolver and connection at the stack.

        scenario: its hosts get --connect-to (plus any extra ``hosts``).
        nameserver: "public" or "dead" (no answer: exit code 3).
        system_resolver: "system" (differs for dns-split), "public", "dead" or "none".
        """
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        targets = [*(scenario.hosts if scenario else ()), *hosts]
        system = "none" if system_resolver == "none" else self.resolver_address(system_resolver)
        return [
            "--nameserver", self.resolver_address(nameserver),
            "--system-resolver", system,
            *self.connect_to(targets),
            "--ca-bundle", str(self.ca_file),
        ]  # fmt: skip

    def manifest(self, scenario: Scenario | str, **overrides: Any) -> dict[str, Any]:
        """The manifest a team would write for the scenario's deployment (healthy intent).

        auth follows the scenario: oauth (issuer, audience, its registration, [dcr] for most;
        with preregistered, a client whose secret is ``${LIVESTACK_CLIENT_SECRET}``), none, or
        static-headers (``X-Api-Key: ${LIVESTACK_API_KEY}``; verify sends it with
        ``--send-credentials --credential-env LIVESTACK_API_KEY`` and that variable set to
        STATIC_KEY).

        overrides are merged in recursively; a value of None removes the key.
        """
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        auth: dict[str, Any]
        if scenario.auth == "oauth":
            auth = {
                "type": "oauth",
                "issuer": scenario.issuer,
                "audience": scenario.audience,
                "registration": list(scenario.registration),
            }
            if "preregistered" in scenario.registration:
                auth["client"] = {
                    "client_id": "livestack-preregistered",
                    "client_secret": "${LIVESTACK_CLIENT_SECRET}",
                    "redirect_uris": [
                        "https://claude.ai/api/mcp/auth_callback",
                        "https://claude.com/api/mcp/auth_callback",
                    ],
                }
        elif scenario.auth == "static-headers":
            auth = {"type": "static-headers", "headers": {STATIC_HEADER: "${" + STATIC_KEY_ENV + "}"}}
        else:
            auth = {"type": scenario.auth}
        document: dict[str, Any] = {
            "version": 1,
            "name": f"livestack-{scenario.id}",
            "server": {"url": scenario.server_url},
            "auth": auth,
            "hosts": {host: {} for host in scenario.hosts},
        }
        return _merge(document, overrides)

    def write_manifest(
        self,
        scenario: Scenario | str,
        directory: Path,
        *,
        filename: str = "mcp-connector.yaml",
        **overrides: Any,
    ) -> Path:
        """Write ``manifest(scenario, **overrides)`` as YAML into directory; return its path."""
        import yaml  # a dependency of mcplint itself

        path = directory / filename
        path.write_text(yaml.safe_dump(self.manifest(scenario, **overrides), sort_keys=False))
        return path

    # -- changing the stack ------------------------------------------------------------

    def static_site(
        self,
        name: str,
        routes: Mapping[str, Action],
        default: Action = NOT_FOUND,
        *,
        cert_host: str | None = None,
    ) -> str:
        """Serve a new host ``<name>.site.<zone>`` with these routes; return the host name.

        It resolves (both DNS servers) to a global-looking address and is reached
        through nginx like every scenario. Actions are those of livestack.sites; a
        Proxy("mcp") there gets the healthy MCP server for this host.
        """
        if not _LABEL.match(name):
            raise ValueError(f"site name must be one lowercase DNS label, not {name!r}")
        host = f"{name}.{self.catalog.custom_suffix}"
        address = self._custom_hosts.get(host) or f"104.16.200.{1 + len(self._custom_hosts) % 250}"
        self._custom_hosts[host] = address
        self._hosts_dir.add(host, address)
        assert self._nginx is not None
        self._nginx.add_site(Site(host, routes=dict(routes), default=default, cert_host=cert_host))
        for server in self._dns.values():
            assert server.process is not None
            wait_until(server.process, lambda s=server: _resolves(s.port, host), f"answering for {host}", 10)
        return host

    def remove_site(self, host: str) -> None:
        if host not in self._custom_hosts:
            raise KeyError(f"{host} is not a site added with static_site")
        del self._custom_hosts[host]
        self._hosts_dir.remove(host)
        assert self._nginx is not None
        self._nginx.remove_site(host)

    @contextmanager
    def delay(self, milliseconds: int) -> Iterator[None]:
        """Delay every response of the MCP and authorization servers by ``milliseconds``.

        Covers every response of the healthy deployment (nginx proxies all of its
        paths to them); nginx's own static answers are not delayed.
        """
        temporary = self.delay_file.with_suffix(".tmp")
        temporary.write_text(str(int(milliseconds)))
        temporary.replace(self.delay_file)
        try:
            yield
        finally:
            self.delay_file.unlink(missing_ok=True)

    # -- looking at it -----------------------------------------------------------------

    def access_log(self) -> list[str]:
        """nginx's access log: ``host "request line" status bytes "upstream" seconds``."""
        assert self._nginx is not None
        try:
            return self._nginx.access_log.read_text().splitlines()
        except FileNotFoundError:
            return []

    def logs(self, lines: int = 20) -> str:
        """The end of every process's log, for a failure message."""
        processes = [*self._processes, *(s.process for s in self._dns.values() if s.process)]
        if self._nginx is not None and self._nginx.process is not None:
            processes.append(self._nginx.process)
        return "\n".join(f"== {p.name} ({p.log_path})\n{p.log_tail(lines)}" for p in processes)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the stack's CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def request(
        self,
        method: str,
        host: str,
        path: str = MCP_PATH,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> Any:
        """One HTTPS request to ``host`` through loopback, the way --connect-to does it.

        Connects to 127.0.0.1:<port serving host>, with SNI, Host header and certificate
        checks for ``host``; never follows redirects; ignores proxy variables; a fresh
        connection each time (a pool is keyed by address, not by SNI). Returns an
        httpx.Response; kwargs go to httpx (json=, content=, data=...).
        """
        import httpx

        with httpx.Client(
            verify=self.ssl_context(), trust_env=False, follow_redirects=False, timeout=timeout
        ) as client:
            return client.request(
                method,
                f"https://127.0.0.1:{self.connect_port(host)}{path}",
                headers={"Host": host, **(headers or {})},
                extensions={"sni_hostname": host},
                **kwargs,
            )

    def resolver(self, which: str = "public", lifetime: float = 5.0) -> Any:
        """A dnspython Resolver asking only the stack's "public", "system" or "dead" DNS."""
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=False)
        host, port = self.resolver_address(which).split(":")
        resolver.nameservers = [host]
        resolver.port = int(port)
        resolver.lifetime = lifetime
        return resolver


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise StackError("node is not installed: run tests/livestack/install.sh")
    return node


def _resolves(port: int, name: str) -> bool:
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.lifetime = 1.0
    try:
        resolver.resolve(name, "A")
    except dns.exception.DNSException:
        return False
    return True


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base
