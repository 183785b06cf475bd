"""The edge: Debian's nginx, run unprivileged-style under a prefix in a temporary folder.

One TLS listener on 127.0.0.1 serves every site by SNI and Host. Sites are rendered
from the data in sites.py, one file each under sites/, so a test can add one and
reload nginx (SIGHUP) without touching the others.
"""

from __future__ import annotations

import grp
import hashlib
import http.client
import json
import os
import pwd
import shutil
import signal
import ssl
from collections.abc import Iterable, Mapping
from pathlib import Path

from .env import child_env
from .procs import ManagedProcess, StackError, free_port, start_on_free_port, wait_until
from .sites import Action, Proxy, Redirect, Site, Slow, Static, When
from .tls import CertificateAuthority

GENERATION_PATH = "/__livestack/generation"

# Common proxy settings, included in every proxying location: nginx drops inherited
# proxy_set_header lines as soon as a location sets one of its own.
PROXY_HEADERS = """\
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Forwarded-Proto https;
proxy_set_header X-Forwarded-Host $host;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_buffering off;
proxy_request_buffering off;
proxy_read_timeout 300s;
"""


def quote(text: str) -> str:
    """An nginx string literal; ``$`` goes through a variable, as nginx has no escape for it."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("$", "${dollar}")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


class Nginx:
    def __init__(self, directory: Path, ca: CertificateAuthority, backends: Mapping[str, int]) -> None:
        self.directory = directory
        self.ca = ca
        self.backends = dict(backends)
        self.sites_dir = directory / "sites"
        self.static_dir = directory / "static"  # documents the slow backend serves
        self.access_log = directory / "access.log"
        self.port = 0
        self.generation = 0
        self.process: ManagedProcess | None = None
        for sub in ("sites", "static", "tmp", "logs"):
            (directory / sub).mkdir(parents=True, exist_ok=True)

    # -- lifecycle -------------------------------------------------------------------

    def start(self, sites: Iterable[Site]) -> None:
        if shutil.which("nginx") is None:
            raise StackError("nginx is not installed: run tests/livestack/install.sh")
        sites = list(sites)

        def launch() -> ManagedProcess:
            self.port = free_port()
            self._write_all(sites)
            self.process = ManagedProcess(
                "nginx",
                ["nginx", "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"), "-e", "stderr"],
                self.directory / "nginx.log",
                env=child_env(),
            )
            return self.process

        start_on_free_port(launch, self._serves_current_generation, "serving on its port")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    # -- sites -----------------------------------------------------------------------

    def add_site(self, site: Site) -> None:
        """Add or replace one site and wait until nginx serves it."""
        self._write_site(site)
        self.reload()

    def remove_site(self, host: str) -> None:
        (self.sites_dir / f"{host}.conf").unlink(missing_ok=True)
        self.reload()

    def reload(self) -> None:
        """Re-read the configuration (SIGHUP) and wait until only the new workers accept.

        Old workers finish their open requests (maybe a slow one) but must stop taking
        new connections first; nginx renames them "worker process is shutting down".
        """
        assert self.process is not None
        old_workers = set(self._workers())
        self.generation += 1
        self._write_main()
        self.process.signal(signal.SIGHUP)

        def reloaded() -> bool:
            workers = self._workers()
            retired = all("shutting down" in workers.get(pid, "shutting down") for pid in old_workers)
            started = any(pid not in old_workers and "shutting down" not in title for pid, title in workers.items())
            return retired and started and self._serves_current_generation()

        wait_until(self.process, reloaded, f"serving configuration {self.generation}")

    def _workers(self) -> dict[int, str]:
        """The master's children and their process titles (nginx sets them)."""
        assert self.process is not None
        workers: dict[int, str] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    pid = int(stat.parent.name)
                    workers[pid] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
        return workers

    def _serves_current_generation(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        context.check_hostname = False
        try:
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=context)
            connection.request("GET", GENERATION_PATH, headers={"Host": "livestack-generation.invalid"})
            body = connection.getresponse().read().decode()
            connection.close()
        except (OSError, http.client.HTTPException):
            return False
        return body == str(self.generation)

    # -- rendering -------------------------------------------------------------------

    def _write_all(self, sites: list[Site]) -> None:
        for old in self.sites_dir.glob("*.conf"):
            old.unlink()
        for site in sites:
            self._write_site(site)
        self._write_main()

    def _write_main(self) -> None:
        d = self.directory
        default_cert = self.ca.cert_for("livestack-default.invalid")
        user = ""
        if os.geteuid() == 0:
            # Workers would switch to "nobody", who cannot read this private folder.
            user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};"
        (d / "proxy_headers.conf").write_text(PROXY_HEADERS)
        (d / "nginx.conf").write_text(
            f"""# Generated by tests/livestack/nginx.py
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log stderr warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format livestack '$host "$request" $status $body_bytes_sent "$upstream_addr" $request_time';
    access_log {self.access_log} livestack;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server_tokens off;
    server_names_hash_bucket_size 128;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout 30s;
    # nginx strings have no escape for "$": bodies use ${{dollar}} instead.
    geo $dollar {{ default "$"; }}

    # Unknown names: the certificate of no scenario, and 421. The generation probe
    # tells a reload apart from the previous configuration.
    server {{
        listen 127.0.0.1:{self.port} ssl default_server;
        ssl_certificate {default_cert.cert};
        ssl_certificate_key {default_cert.key};
        location = {GENERATION_PATH} {{ default_type text/plain; return 200 "{self.generation}"; }}
        location / {{ return 421; }}
    }}
    include {self.sites_dir}/*.conf;
}}
"""
        )

    def _write_site(self, site: Site) -> None:
        cert = self.ca.cert_for(site.cert_host or site.host)
        internal: list[str] = []  # locations that `When` rewrites to
        locations: list[str] = []
        for key, action in site.routes.items():
            if key.endswith("*"):
                match = key[:-1]
            else:
                match = "= " + key
            locations.append(self._location(site, match, action, internal))
        locations.append(self._location(site, "/", site.default, internal))
        body = "\n".join(locations + internal)
        (self.sites_dir / f"{site.host}.conf").write_text(
            f"""server {{
    listen 127.0.0.1:{self.port} ssl;
    server_name {site.host};
    ssl_certificate {cert.cert};
    ssl_certificate_key {cert.key};
{body}
}}
"""
        )

    def _location(self, site: Site, match: str, action: Action, internal: list[str]) -> str:
        return f"    location {match} {{\n{self._directives(site, match, action, internal)}    }}\n"

    def _directives(self, site: Site, match: str, action: Action, internal: list[str]) -> str:
        if isinstance(action, Static):
            lines = [f"default_type {quote(action.content_type)};"]
            lines += [f"add_header {quote(name)} {quote(value)} always;" for name, value in action.headers]
            lines.append(f"return {action.status} {quote(action.body)};")
        elif isinstance(action, Redirect):
            lines = [f"return {action.status} {quote(action.location)};"]
        elif isinstance(action, Proxy):
            lines = self._proxy(action, match)
        elif isinstance(action, Slow):
            lines = self._slow(site, match, action)
        elif isinstance(action, When):
            target = f"/__livestack/when/{len(internal)}"
            then = self._directives(site, target, action.then, internal)
            internal.append(f"    location = {target} {{\n        internal;\n{then}    }}\n")
            lines = [f"if ({action.condition}) {{ rewrite ^ {target} last; }}"]
            lines += self._directives(site, match, action.otherwise, internal).strip().splitlines()
        else:
            raise TypeError(f"unknown action {action!r}")
        return "".join(f"        {line.strip()}\n" for line in lines)

    def _proxy(self, action: Proxy, match: str) -> list[str]:
        if action.backend not in self.backends:
            raise StackError(f"unknown backend {action.backend!r}")
        if action.path is not None and not match.startswith("= "):
            raise StackError("Proxy(path=...) needs an exact route")
        lines = [f"include {self.directory}/proxy_headers.conf;"]
        if action.issuer is not None:
            lines.append(f"proxy_set_header X-Livestack-Issuer {quote(action.issuer)};")
        if action.scopes is not None:
            lines.append(f"proxy_set_header X-Livestack-Scopes {quote(' '.join(action.scopes))};")
        if action.open:
            lines.append("proxy_set_header X-Livestack-Open 1;")
        if action.delay_seconds is not None:
            lines.append(f"proxy_set_header X-Livestack-Delay-Ms {round(action.delay_seconds * 1000)};")
        lines.append(f"proxy_pass http://127.0.0.1:{self.backends[action.backend]}{action.path or ''};")
        return lines

    def _slow(self, site: Site, match: str, action: Slow) -> list[str]:
        if not match.startswith("= "):
            raise StackError("Slow(...) needs an exact route")
        body = json.dumps(action.document, separators=(",", ":")).encode()
        name = f"{site.host}-{hashlib.sha256(body).hexdigest()[:16]}.json"
        (self.static_dir / name).write_bytes(body)
        delay_ms = round(action.seconds * 1000)
        return self._proxy(Proxy("slow", path=f"/slow/{delay_ms}/{name}"), match)
