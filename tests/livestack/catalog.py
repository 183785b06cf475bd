"""Every scenario of the live stack: its host names, DNS answers and edge behaviour.

One zone, ``mcplint-stack.com``, a public-looking name (names under .test, .example,
.invalid... are non-public by MCP106, so a healthy deployment cannot use them). Each
scenario is a host name under it; the test DNS answers for it with a global-looking
address that is only ever resolved, never contacted: HTTP goes to the stack's nginx
(or hostile server) on loopback through ``--connect-to``.

A scenario changes one thing of the healthy deployment, so that one rule fires:
everything else about its host stays healthy (the MCP SDK server answers /mcp and the
protected resource metadata, oidc-provider answers the authorization server paths).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .sites import NOT_FOUND, Action, Proxy, Redirect, Site, Slow, Static, When

ZONE = "mcplint-stack.com"
SCOPES = ("mcp:read", "mcp:write")
CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
SLOW_SECONDS = 11.0  # the hosted client's budget for discovery calls is 10 s
PRM_PATH = "/.well-known/oauth-protected-resource"
MCP_PATH = "/mcp"
TENANT_PATH = "/tenant1"
CUSTOM_SUBZONE = "site"  # Stack.static_site names live under site.<zone>

# Served by oidc-provider; variant authorization servers proxy these path prefixes to it.
AS_ROUTE_PREFIXES = ("/auth", "/token", "/reg", "/jwks", "/me", "/session", "/request")

# The User-Agent prefix of the hosted client's discovery, registration and token calls
# (python-httpx/0.28.1 in anthropics/claude-ai-mcp #82, #549, #764; its MCP calls carry
# Claude-User instead). The bot-management scenario blocks it as a WAF rule would: by
# its own pattern, not by mcplint's data, so a test sees whether mcplint sends it.
DISCOVERY_AGENT_PATTERN = "^python-httpx/"
# A static-headers deployment's API key (auth.type static-headers): the header the
# edge checks, its value, and the environment variable the manifest names for it.
STATIC_HEADER = "X-Api-Key"
STATIC_KEY = "livestack-static-key"
STATIC_KEY_ENV = "LIVESTACK_API_KEY"
SLOW_TOKEN_SECONDS = 12.0  # above the hosted client's 10 s budget, below --timeout 30
# The token endpoint auth methods of the authorization server that refuses to register
# client_secret_post clients (#82, #1043): public clients and Basic only.
NO_POST_AUTH_METHODS = ("none", "client_secret_basic")


@dataclass(frozen=True)
class Scenario:
    """A deployment mcplint can be pointed at.

    hosts: every host name the connector depends on (server, issuer, AS endpoints):
    the ``--connect-to`` targets and the manifest's ``hosts:`` keys.
    rules: the mcplint rule codes the scenario exercises (empty for the healthy one).
    auth: the manifest's auth.type: "oauth", "none" (an open server; issuer is "")
    or "static-headers" (STATIC_HEADER from the environment variable STATIC_KEY_ENV).
    registration: with oauth, the manifest's auth.registration; "preregistered" adds a
    confidential client (its secret named from the environment, never sent).
    """

    id: str
    group: str
    summary: str
    rules: tuple[str, ...]
    server_url: str
    issuer: str
    hosts: tuple[str, ...]
    auth: str = "oauth"
    registration: tuple[str, ...] = ("dcr",)

    @property
    def mcp_host(self) -> str:
        return urlsplit(self.server_url).hostname or ""

    @property
    def audience(self) -> str:
        """The canonical form of server_url (every scenario URL is already canonical)."""
        return self.server_url


@dataclass(frozen=True)
class DnsRecord:
    """Addresses (IPv4 and/or IPv6) for a name; system differs only for split horizon."""

    name: str
    public: tuple[str, ...]
    system: tuple[str, ...]


# What the DNS-scenario names resolve to (they are served healthy by nginx all the same).
DNS_ANSWERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...] | None, str, tuple[str, ...]]] = {
    # label: (public answers, system answers if different, summary, rules)
    "dns-private": (("10.0.0.5",), None, "A 10.0.0.5 (private)", ("MCP201",)),
    "dns-cgnat": (("100.64.1.2",), None, "A 100.64.1.2 (carrier-grade NAT)", ("MCP201",)),
    "dns-linklocal": (("169.254.10.10",), None, "A 169.254.10.10 (link-local)", ("MCP201",)),
    "dns-loopback": (("127.0.0.1",), None, "A 127.0.0.1 (loopback)", ("MCP201",)),
    "dns-mixed": (("GLOBAL", "10.0.0.6"), None, "A global + A 10.0.0.6", ("MCP202",)),
    "dns-v6only": (("2606:4700:10::6",), None, "AAAA 2606:4700:10::6 only, no A", ("MCP203",)),
    "dns-nxdomain": ((), None, "no record: NXDOMAIN", ("MCP204",)),
    "dns-split": (("GLOBAL",), ("10.0.0.7",), "public DNS: global A; system DNS: A 10.0.0.7", ("MCP205",)),
}

HOSTILE = {
    "hostile-drip": ("status line and headers dripped one byte per second, forever", ("MCP308",)),
    "hostile-drip-body": ("headers at once, then the body one byte per second, forever", ("MCP308",)),
    "hostile-endless": ("200 application/json, chunked, endless body", ("MCP308",)),
    "hostile-invalid-json": ("POST /mcp: 401 with resource_metadata; PRM (any GET): invalid JSON", ("MCP406",)),
    "hostile-deep-json": ("POST /mcp: 401 with resource_metadata; PRM (any GET): [[[... 100k deep", ("MCP406",)),
    "hostile-reset": ("reads the request, then resets the connection (RST)", ("MCP308",)),
    "hostile-ssrf": ("an OAuth deployment answering with the URLs and strings the path's /t/TOKEN/ names", ()),
}

CF_CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">{host}</h1><h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript>Enable JavaScript and cookies to continue</noscript></div></div>
<script>(function(){{window._cf_chl_opt={{cvId: '3',cZone: "{host}",cType: 'managed'}};}}());</script>
<div class="footer" role="contentinfo">Performance &amp; security by Cloudflare</div></body></html>
"""

CF_BROWSER_SIGNATURE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Access denied | {host} used Cloudflare to restrict access</title></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">1010</span></h1><h2 class="cf-subheadline">Access denied</h2>
<p>The owner of this website ({host}) has banned your access based on your browser's signature.</p>
<span class="cf-footer-item">Cloudflare Ray ID: <strong>8f2b1c0d9e8a7b6d</strong></span></div></div></body></html>
"""

CF_RATE_LIMIT_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Access denied | {host} used Cloudflare to restrict access</title></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">1015</span></h1><h2 class="cf-subheadline">You are being rate limited</h2>
<p>The owner of this website ({host}) has banned you temporarily from accessing this website.</p>
<span class="cf-footer-item">Cloudflare Ray ID: <strong>8f2b1c0d9e8a7b6c</strong></span></div></div></body></html>
"""

AWS_BLOCK_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>
<H1>403 ERROR</H1><H2>The request could not be satisfied.</H2><HR noshade size="1px">
Request blocked. We can't connect to the server for this app or website at this time.
<BR clear="all"><HR noshade size="1px"><PRE>Generated by cloudfront (CloudFront)
Request ID: 2kXvS4m9aQ3bT7cN1pL8rE5wY6uI0oZ-HgFdSaJkLq==</PRE></BODY></HTML>
"""

SPA_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>
<script type="module" src="/assets/index-4f2a9c.js"></script></head><body><div id="root"></div></body></html>
"""

HTML_404 = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
HTML_500 = (
    "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n"
)


def prm(resource: str, issuers: list[str], scopes: tuple[str, ...] = SCOPES) -> dict[str, Any]:
    """Protected resource metadata shaped like the MCP SDK's."""
    return {
        "resource": resource,
        "authorization_servers": issuers,
        "scopes_supported": list(scopes),
        "bearer_methods_supported": ["header"],
    }


def bearer_challenge(resource_metadata: str | None) -> str:
    """The MCP SDK's challenge for a request without a valid token."""
    parts = ['error="invalid_token"', 'error_description="Authentication required"']
    if resource_metadata is not None:
        parts.append(f'resource_metadata="{resource_metadata}"')
    return "Bearer " + ", ".join(parts)


def rebase_metadata(document: Mapping[str, Any], old_origin: str, new_origin: str) -> dict[str, Any]:
    """A copy of AS metadata with every URL on ``old_origin`` moved to ``new_origin``."""

    def move(value: Any) -> Any:
        if isinstance(value, str) and (value == old_origin or value.startswith(old_origin + "/")):
            return new_origin + value[len(old_origin) :]
        if isinstance(value, list):
            return [move(item) for item in value]
        if isinstance(value, dict):
            return {key: move(item) for key, item in value.items()}
        return value

    return move(copy.deepcopy(dict(document)))


@dataclass(frozen=True)
class _Entry:
    scenario: Scenario
    site: Callable[[Mapping[str, Any]], Site] | None  # built once the AS metadata is known
    endpoint: str  # where --connect-to sends the host: nginx, hostile, blackhole, refused


class Catalog:
    """All names, records, sites and scenarios of one zone."""

    def __init__(self, zone: str = ZONE) -> None:
        self.zone = zone
        self.healthy_mcp_host = self.host("mcp")
        self.healthy_as_host = self.host("auth")
        self.healthy_issuer = f"https://{self.healthy_as_host}"
        self.tenant_host = self.host("as-tenant-path")
        self.tenant_issuer = f"https://{self.tenant_host}{TENANT_PATH}"
        self.no_post_issuer = f"https://{self.host('registration-no-secret-post')}"
        self.legacy_mcp_hosts: list[str] = []  # served by the mcp 1.x server (its allowed Host names)
        self.wrong_cert_name = self.host("someone-else")
        self._entries: dict[str, _Entry] = {}
        self._build()
        self.scenarios: dict[str, Scenario] = {key: entry.scenario for key, entry in self._entries.items()}
        self.rejected_resources = (self.url("resource-rejected"),)

    # -- names ---------------------------------------------------------------------

    def host(self, label: str) -> str:
        return f"{label}.{self.zone}"

    def url(self, label: str) -> str:
        return f"https://{self.host(label)}{MCP_PATH}"

    @property
    def custom_suffix(self) -> str:
        return f"{CUSTOM_SUBZONE}.{self.zone}"

    def endpoint(self, host: str) -> str:
        """Which local listener serves ``host``: nginx, hostile, blackhole or refused."""
        for entry in self._entries.values():
            if entry.scenario.mcp_host == host:
                return entry.endpoint
        return "nginx"

    def hosts_for(self, endpoint: str) -> list[str]:
        return [e.scenario.mcp_host for e in self._entries.values() if e.endpoint == endpoint]

    # -- DNS -----------------------------------------------------------------------

    def dns_records(self) -> list[DnsRecord]:
        """A global-looking address for every host, except the DNS scenarios' own answers."""
        records: list[DnsRecord] = []
        names = [self.healthy_mcp_host, self.healthy_as_host, self.wrong_cert_name]
        names += [entry.scenario.mcp_host for entry in self._entries.values()]
        for index, name in enumerate(dict.fromkeys(names)):
            global_address = f"104.16.{1 + index // 250}.{1 + index % 250}"
            label = name.removesuffix("." + self.zone)
            if label in DNS_ANSWERS:
                public, system, _, _ = DNS_ANSWERS[label]
                public = tuple(global_address if a == "GLOBAL" else a for a in public)
                system = public if system is None else system
                if public or system:
                    records.append(DnsRecord(name, public, system))
            else:
                records.append(DnsRecord(name, (global_address,), (global_address,)))
        return records

    # -- sites ---------------------------------------------------------------------

    def sites(self, as_metadata: Mapping[str, Any]) -> list[Site]:
        """nginx sites for every scenario, given the healthy AS's served metadata."""
        healthy_as = Site(
            self.healthy_as_host,
            # oidc-provider 8 serves only openid-configuration; the edge aliases the
            # RFC 8414 URL to it, as a deployment would.
            routes={"/.well-known/oauth-authorization-server": Proxy("as", path="/.well-known/openid-configuration")},
            default=Proxy("as"),
        )
        sites = [healthy_as]
        for entry in self._entries.values():
            if entry.site is not None:
                sites.append(entry.site(as_metadata))
        return sites

    # -- the scenarios -------------------------------------------------------------

    def _add(
        self,
        label: str,
        group: str,
        summary: str,
        rules: tuple[str, ...],
        site: Callable[[Mapping[str, Any]], Site] | None,
        *,
        issuer: str | None = None,
        endpoint: str = "nginx",
        auth: str = "oauth",
        registration: tuple[str, ...] = ("dcr",),
    ) -> None:
        host = self.host(label)
        if auth == "oauth":
            issuer = issuer or self.healthy_issuer
            hosts = tuple(dict.fromkeys([host, urlsplit(issuer).hostname or ""]))
        else:  # no authorization server to depend on
            issuer, hosts = "", (host,)
        scenario = Scenario(
            id=label,
            group=group,
            summary=summary,
            rules=rules,
            server_url=self.url(label),
            issuer=issuer,
            hosts=hosts,
            auth=auth,
            registration=registration,
        )
        self._entries[label] = _Entry(scenario, site, endpoint)

    def _mcp_site(
        self,
        label: str,
        routes: Mapping[str, Action] | None = None,
        *,
        scopes: tuple[str, ...] | None = None,
    ) -> Callable[..., Site]:
        """A host whose MCP server is healthy (issuer: the healthy AS) except for ``routes``."""
        host = self.host(label)

        def build(_: Mapping[str, Any]) -> Site:
            return Site(host, routes=dict(routes or {}), default=Proxy("mcp", scopes=scopes))

        return build

    def _as_site(
        self,
        label: str,
        change: Callable[[dict[str, Any]], None] | None = None,
        routes: Mapping[str, Action] | None = None,
        slow_seconds: float | None = None,
    ) -> Callable[..., Site]:
        """A host serving both the MCP server and an authorization server (issuer https://host).

        Its AS metadata is the healthy one moved to this host and passed to ``change``;
        nginx serves it at both well-known URLs; the endpoints proxy to oidc-provider.
        """
        host = self.host(label)
        issuer = f"https://{host}"

        def build(as_metadata: Mapping[str, Any]) -> Site:
            document = rebase_metadata(as_metadata, self.healthy_issuer, issuer)
            if change is not None:
                change(document)
            answer: Action = Static.json(200, document) if slow_seconds is None else Slow(slow_seconds, document)
            site_routes: dict[str, Action] = {prefix + "*": Proxy("as") for prefix in AS_ROUTE_PREFIXES}
            site_routes["/.well-known/oauth-authorization-server"] = answer
            site_routes["/.well-known/openid-configuration"] = answer
            site_routes.update(routes or {})
            return Site(host, routes=site_routes, default=Proxy("mcp", issuer=issuer))

        return build

    def _build(self) -> None:  # a flat list of scenarios reads best, however long
        zone_host = self.host
        prm_path = PRM_PATH + MCP_PATH

        # -- the healthy deployment ------------------------------------------------
        self._entries["healthy"] = _Entry(
            Scenario(
                id="healthy",
                group="healthy",
                summary=(
                    f"MCP server on {self.healthy_mcp_host}, authorization server on {self.healthy_as_host}: "
                    "401 with resource_metadata, PRM path-inserted, DCR, S256, both well-known URLs"
                ),
                rules=(),
                server_url=f"https://{self.healthy_mcp_host}{MCP_PATH}",
                issuer=self.healthy_issuer,
                hosts=(self.healthy_mcp_host, self.healthy_as_host),
            ),
            lambda _: Site(self.healthy_mcp_host, default=Proxy("mcp")),
            "nginx",
        )

        # -- DNS: only the answers are wrong; HTTP (through --connect-to) is healthy --
        for label, (_, _, summary, rules) in DNS_ANSWERS.items():
            self._add(label, "dns", summary, rules, self._mcp_site(label))

        # -- protocol generations (MCP108-MCP111): open servers, so no 401 hides them --
        open_host = zone_host("open-healthy")
        self._add(
            "open-healthy",
            "generation",
            "open server (auth: none), mcp 2.x: answers initialize and server/discover",
            (),
            lambda _: Site(open_host, default=Proxy("mcp", open=True)),
            auth="none",
        )
        legacy_host = zone_host("generation-legacy-only")
        self.legacy_mcp_hosts.append(legacy_host)
        self._add(
            "generation-legacy-only",
            "generation",
            "open server on mcp 1.30 (Python SDK 1.x): initialize 200, server/discover 400 -32600",
            ("MCP109", "MCP111"),
            lambda _: Site(legacy_host, default=Proxy("legacy_mcp")),
            auth="none",
        )
        modern_host = zone_host("generation-new-only")
        self._add(
            "generation-new-only",
            "generation",
            "open server on the TypeScript SDK 2.4 with legacy: 'reject': server/discover 200,"
            " initialize 400 -32022",
            ("MCP109",),
            lambda _: Site(modern_host, default=Proxy("modern_mcp")),
            auth="none",
        )

        # -- edge ------------------------------------------------------------------
        self._add(
            "redirect-cross-host",
            "edge",
            f"POST /mcp: 307 to https://{self.healthy_mcp_host}/mcp",
            ("MCP305",),
            self._mcp_site(
                "redirect-cross-host", {MCP_PATH: Redirect(307, f"https://{self.healthy_mcp_host}{MCP_PATH}")}
            ),
        )
        same = zone_host("redirect-same-host")
        self._add(
            "redirect-same-host",
            "edge",
            "POST /mcp: 308 to /mcp/ on the same host (which works)",
            ("MCP306",),
            self._mcp_site(
                "redirect-same-host",
                {MCP_PATH: Redirect(308, f"https://{same}{MCP_PATH}/"), MCP_PATH + "/": Proxy("mcp", path=MCP_PATH)},
            ),
        )
        loop = zone_host("redirect-loop")
        self._add(
            "redirect-loop",
            "edge",
            "/mcp: 307 to /mcp/, /mcp/: 307 to /mcp",
            ("MCP306",),
            self._mcp_site(
                "redirect-loop",
                {
                    MCP_PATH: Redirect(307, f"https://{loop}{MCP_PATH}/"),
                    MCP_PATH + "/": Redirect(307, f"https://{loop}{MCP_PATH}"),
                },
            ),
        )
        to_http = zone_host("redirect-to-http")
        self._add(
            "redirect-to-http",
            "edge",
            f"POST /mcp: 307 to http://{to_http}/mcp (same host, downgraded)",
            ("MCP311",),
            self._mcp_site("redirect-to-http", {MCP_PATH: Redirect(307, f"http://{to_http}{MCP_PATH}")}),
        )
        cf = zone_host("edge-cloudflare-block")
        self._add(
            "edge-cloudflare-block",
            "edge",
            "every path: 403 HTML challenge page, cf-mitigated: challenge, cf-ray",
            ("MCP307",),
            lambda _: Site(
                cf,
                default=Static.html(
                    403,
                    CF_CHALLENGE_PAGE.format(host=cf),
                    (
                        ("cf-mitigated", "challenge"),
                        ("cf-ray", "8f2b1c0d9e8a7b6c-LHR"),
                        ("cache-control", "private, max-age=0, no-store, no-cache, must-revalidate"),
                    ),
                ),
            ),
        )
        rl = zone_host("edge-rate-limit")
        self._add(
            "edge-rate-limit",
            "edge",
            "every path: 429 Cloudflare error 1015 page, cf-ray, retry-after",
            ("MCP307",),
            lambda _: Site(
                rl,
                default=Static.html(
                    429,
                    CF_RATE_LIMIT_PAGE.format(host=rl),
                    (
                        ("cf-ray", "8f2b1c0d9e8a7b6c-LHR"),
                        ("retry-after", "60"),
                    ),
                ),
            ),
        )
        aws = zone_host("edge-aws-waf-block")
        self._add(
            "edge-aws-waf-block",
            "edge",
            "every path: 403 CloudFront/AWS WAF page, x-amzn-waf-action, x-amzn-requestid",
            ("MCP307",),
            lambda _: Site(
                aws,
                default=Static.html(
                    403,
                    AWS_BLOCK_PAGE,
                    (
                        ("x-amzn-waf-action", "block"),
                        ("x-amzn-requestid", "9b2f6a52-1c3e-4d7a-8e0f-5a4b3c2d1e0f"),
                        ("x-cache", "Error from cloudfront"),
                        ("x-amz-cf-pop", "FRA56-P1"),
                        ("x-amz-cf-id", "2kXvS4m9aQ3bT7cN1pL8rE5wY6uI0oZ-HgFdSaJkLq=="),
                    ),
                ),
            ),
        )
        bot = zone_host("edge-bot-discovery")
        self._add(
            "edge-bot-discovery",
            "edge",
            "every path, only for a User-Agent matching ^python-httpx/ (the hosted client's discovery"
            " calls): 403 Cloudflare error 1010 page, cf-ray; other agents: healthy",
            ("MCP307",),
            lambda _: Site(
                bot,
                default=When(
                    f'$http_user_agent ~* "{DISCOVERY_AGENT_PATTERN}"',
                    Static.html(
                        403,
                        CF_BROWSER_SIGNATURE_PAGE.format(host=bot),
                        (("cf-ray", "8f2b1c0d9e8a7b6d-LHR"), ("cache-control", "private, max-age=0, no-store")),
                    ),
                    Proxy("mcp"),
                ),
            ),
        )
        wrong = zone_host("tls-wrong-cert")
        self._add(
            "tls-wrong-cert",
            "edge",
            f"healthy, but the certificate is for {self.wrong_cert_name}",
            ("MCP309",),
            lambda _: Site(wrong, default=Proxy("mcp"), cert_host=self.wrong_cert_name),
        )
        self._add(
            "unreachable-timeout",
            "edge",
            "accepts TCP, never answers (not even the TLS handshake)",
            ("MCP308",),
            None,
            endpoint="blackhole",
        )
        self._add(
            "unreachable-refused", "edge", "nothing listens: connection refused", ("MCP308",), None, endpoint="refused"
        )

        # -- protected resource discovery (MCP4xx) -----------------------------------
        def challenge(resource_metadata: str | None) -> Static:
            return Static.json(
                401,
                {"error": "invalid_token", "error_description": "Authentication required"},
                (("WWW-Authenticate", bearer_challenge(resource_metadata)),),
            )

        def prm_of(label: str, **changes: Any) -> dict[str, Any]:
            document = prm(self.url(label), [self.healthy_issuer])
            document.update(changes)
            return document

        self._add(
            "challenge-root-prm",
            "prm",
            "401 without resource_metadata; PRM only at /.well-known/oauth-protected-resource",
            ("MCP403",),
            self._mcp_site(
                "challenge-root-prm",
                {
                    MCP_PATH: challenge(None),
                    PRM_PATH: Static.json(200, prm_of("challenge-root-prm")),
                    prm_path: NOT_FOUND,
                },
            ),
        )
        self._add(
            "challenge-path-prm",
            "prm",
            "401 without resource_metadata; PRM only at the path-inserted URL",
            ("MCP403",),
            self._mcp_site("challenge-path-prm", {MCP_PATH: challenge(None)}),
        )
        self._add(
            "prm-missing",
            "prm",
            "401 with resource_metadata, but no PRM anywhere (404)",
            ("MCP405",),
            self._mcp_site("prm-missing", {prm_path: NOT_FOUND}),
        )
        self._add(
            "prm-resource-slash",
            "prm",
            "PRM resource is https://<host>/mcp/ (trailing slash)",
            ("MCP407",),
            self._mcp_site(
                "prm-resource-slash",
                {
                    prm_path: Static.json(
                        200, prm_of("prm-resource-slash", resource=self.url("prm-resource-slash") + "/")
                    )
                },
            ),
        )
        self._add(
            "prm-issuer-slash",
            "prm",
            f"PRM authorization_servers = [{self.healthy_issuer}/] (trailing slash)",
            ("MCP409",),
            self._mcp_site(
                "prm-issuer-slash",
                {
                    prm_path: Static.json(
                        200, prm_of("prm-issuer-slash", authorization_servers=[self.healthy_issuer + "/"])
                    )
                },
            ),
        )
        self._add(
            "prm-offline-access",
            "prm",
            "PRM scopes_supported includes offline_access (MCP SDK, required_scopes)",
            ("MCP410",),
            self._mcp_site("prm-offline-access", scopes=(*SCOPES, "offline_access")),
        )
        self._add(
            "prm-html",
            "prm",
            "PRM URL answers 200 text/html (a single-page app's index.html)",
            ("MCP406",),
            self._mcp_site("prm-html", {prm_path: Static.html(200, SPA_PAGE)}),
        )
        self._add(
            "prm-invalid-json",
            "prm",
            "PRM answers 200 application/json with a truncated document",
            ("MCP406",),
            self._mcp_site(
                "prm-invalid-json", {prm_path: Static(200, Static.json(200, prm_of("prm-invalid-json")).body[:-20])}
            ),
        )
        self._add(
            "prm-no-authorization-servers",
            "prm",
            "PRM authorization_servers is []",
            ("MCP408",),
            self._mcp_site(
                "prm-no-authorization-servers",
                {prm_path: Static.json(200, prm_of("prm-no-authorization-servers", authorization_servers=[]))},
            ),
        )
        is_error = {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "content": [{"type": "text", "text": "Authentication required: sign in first"}],
                "isError": True,
            },
        }
        self._add(
            "challenge-none",
            "prm",
            "POST /mcp: 200 JSON-RPC result with isError, no challenge",
            ("MCP401",),
            self._mcp_site("challenge-none", {MCP_PATH: Static.json(200, is_error)}),
        )
        self._add(
            "challenge-no-header",
            "prm",
            "POST /mcp: 401 without WWW-Authenticate",
            ("MCP402",),
            self._mcp_site("challenge-no-header", {MCP_PATH: Static.json(401, {"error": "unauthorized"})}),
        )
        not_bearer = zone_host("challenge-not-bearer")
        self._add(
            "challenge-not-bearer",
            "prm",
            "401 with two WWW-Authenticate fields: Basic first, then Bearer with resource_metadata",
            ("MCP404",),
            self._mcp_site(
                "challenge-not-bearer",
                {
                    MCP_PATH: Static.json(
                        401,
                        {"error": "invalid_token"},
                        (
                            ("WWW-Authenticate", 'Basic realm="mcp"'),
                            ("WWW-Authenticate", bearer_challenge(f"https://{not_bearer}{prm_path}")),
                        ),
                    )
                },
            ),
        )
        self._add(
            "endpoint-404",
            "prm",
            "POST /mcp: 404 HTML",
            ("MCP108",),
            self._mcp_site("endpoint-404", {MCP_PATH: Static.html(404, HTML_404)}),
        )
        self._add(
            "endpoint-405",
            "prm",
            "POST /mcp: 405 with Allow: GET, HEAD",
            ("MCP108",),
            self._mcp_site(
                "endpoint-405", {MCP_PATH: Static.json(405, {"error": "method_not_allowed"}, (("Allow", "GET, HEAD"),))}
            ),
        )
        self._add(
            "endpoint-html",
            "prm",
            "POST /mcp: 200 text/html (a web page, not an MCP endpoint)",
            ("MCP108",),
            self._mcp_site("endpoint-html", {MCP_PATH: Static.html(200, SPA_PAGE)}),
        )
        accepted = {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "lenient", "version": "1.0"},
            },
        }
        self._add(
            "token-accepts-malformed",
            "prm",
            "no token: healthy 401; any Authorization header: 200 JSON-RPC result",
            ("MCP604",),
            self._mcp_site(
                "token-accepts-malformed",
                {MCP_PATH: When("$http_authorization", Static.json(200, accepted), Proxy("mcp"))},
            ),
        )
        self._add(
            "ssrf-metadata",
            "prm",
            "401 whose resource_metadata is https://169.254.169.254/latest/meta-data/ (must never be requested)",
            ("MCP201", "MCP405"),
            self._mcp_site("ssrf-metadata", {MCP_PATH: challenge("https://169.254.169.254/latest/meta-data/")}),
        )
        self._add(
            "ssrf-loopback",
            "prm",
            "401 whose resource_metadata is https://127.0.0.1/.well-known/oauth-protected-resource/mcp"
            " (must never be requested)",
            ("MCP201", "MCP405"),
            self._mcp_site("ssrf-loopback", {MCP_PATH: challenge("https://127.0.0.1" + prm_path)}),
        )

        self._add(
            "hint-relative",
            "prm",
            f"401 whose resource_metadata is relative ({prm_path}); PRM healthy at the path-inserted URL",
            ("MCP415",),
            self._mcp_site("hint-relative", {MCP_PATH: challenge(prm_path)}),
        )
        hint_404 = zone_host("hint-404")
        self._add(
            "hint-404",
            "prm",
            f"401 whose resource_metadata (https://<host>{MCP_PATH}{PRM_PATH}, appended not inserted) 404s;"
            " PRM healthy at the path-inserted URL",
            ("MCP415",),
            self._mcp_site(
                "hint-404",
                {MCP_PATH: challenge(f"https://{hint_404}{MCP_PATH}{PRM_PATH}"), MCP_PATH + PRM_PATH: NOT_FOUND},
            ),
        )
        self._add(
            "prm-path-500",
            "prm",
            "401 without resource_metadata; the path-inserted PRM URL answers 500 HTML, the root one a healthy PRM",
            ("MCP403", "MCP416"),
            self._mcp_site(
                "prm-path-500",
                {
                    MCP_PATH: challenge(None),
                    prm_path: Static.html(500, HTML_500),
                    PRM_PATH: Static.json(200, prm_of("prm-path-500")),
                },
            ),
        )

        # -- open and static-headers servers whose origin speaks OAuth (MCP110) --------
        def static_key_missing() -> str:
            return f'$http_{STATIC_HEADER.lower().replace("-", "_")} != "{STATIC_KEY}"'

        key_refused = Static.json(401, {"error": "unauthorized", "message": f"missing or invalid {STATIC_HEADER}"})
        open_as = zone_host("open-as-metadata")

        def open_as_site(as_metadata: Mapping[str, Any]) -> Site:
            document = Static.json(200, rebase_metadata(as_metadata, self.healthy_issuer, f"https://{open_as}"))
            routes: dict[str, Action] = {prefix + "*": Proxy("as") for prefix in AS_ROUTE_PREFIXES}
            routes["/.well-known/oauth-authorization-server"] = document
            routes["/.well-known/openid-configuration"] = document
            return Site(open_as, routes=routes, default=Proxy("mcp", open=True))

        self._add(
            "open-as-metadata",
            "open",
            "open server (auth: none, mcp 2.x), but its origin serves AS metadata at both well-known URLs",
            ("MCP110",),
            open_as_site,
            auth="none",
        )
        static_ok = zone_host("static-headers-healthy")
        self._add(
            "static-headers-healthy",
            "open",
            f"static-headers server: /mcp needs {STATIC_HEADER} (401 without it), other paths 404",
            (),
            lambda _: Site(
                static_ok,
                routes={MCP_PATH: When(static_key_missing(), key_refused, Proxy("mcp", open=True))},
                default=Proxy("mcp", open=True),
            ),
            auth="static-headers",
        )
        static_401 = zone_host("static-headers-prm-401")
        self._add(
            "static-headers-prm-401",
            "open",
            f"static-headers server whose {STATIC_HEADER} check covers every path: the PRM and AS"
            " well-known URLs answer 401",
            ("MCP110",),
            lambda _: Site(static_401, default=When(static_key_missing(), key_refused, Proxy("mcp", open=True))),
            auth="static-headers",
        )

        # -- authorization server (MCP5xx, MCP6xx): MCP and AS on one host -------------
        def as_scenario(
            label: str,
            summary: str,
            rules: tuple[str, ...],
            change=None,
            routes=None,
            slow_seconds=None,
            registration: tuple[str, ...] = ("dcr",),
        ) -> None:
            site = self._as_site(label, change, routes, slow_seconds)
            self._add(
                label, "as", summary, rules, site, issuer=f"https://{zone_host(label)}", registration=registration
            )

        def drop(key: str) -> Callable[[dict[str, Any]], None]:
            def change(document: dict[str, Any]) -> None:
                del document[key]

            return change

        as_scenario(
            "as-issuer-slash",
            "AS metadata issuer is https://<host>/ (trailing slash)",
            ("MCP502",),
            lambda d: d.update(issuer=d["issuer"] + "/"),
        )
        as_scenario(
            "as-no-s256",
            'code_challenge_methods_supported: ["plain"]',
            ("MCP505",),
            lambda d: d.update(code_challenge_methods_supported=["plain"]),
        )
        as_scenario(
            "as-no-registration", "no registration_endpoint, no CIMD", ("MCP506",), drop("registration_endpoint")
        )
        as_scenario(
            "as-secret-basic-only",
            'token_endpoint_auth_methods_supported: ["none", "client_secret_basic"]; the manifest'
            " declares a pre-registered client with a secret",
            ("MCP517",),
            lambda d: d.update(token_endpoint_auth_methods_supported=["none", "client_secret_basic"]),
            registration=("preregistered",),
        )
        as_scenario(
            "as-advice",
            "DCR alone (no CIMD) and authorization_response_iss_parameter_supported: false; advice"
            " outside claude-ai, so its rules run under --profile spec",
            ("MCP518", "MCP519"),
            lambda d: d.update(authorization_response_iss_parameter_supported=False),
        )
        as_scenario(
            "as-member-type",
            'code_challenge_methods_supported: "S256" (a string, not an array)',
            ("MCP520",),
            lambda d: d.update(code_challenge_methods_supported="S256"),
        )
        as_scenario(
            "as-cimd-no-none",
            'client_id_metadata_document_supported: true, "none" not in token_endpoint_auth_methods_supported',
            ("MCP507",),
            lambda d: d.update(
                client_id_metadata_document_supported=True,
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            ),
        )
        as_scenario(
            "as-oidc-only",
            "AS metadata only at /.well-known/openid-configuration",
            ("MCP512",),
            routes={"/.well-known/oauth-authorization-server": NOT_FOUND},
        )
        as_scenario(
            "as-missing",
            "no AS metadata at any discovery URL",
            ("MCP501",),
            routes={
                "/.well-known/oauth-authorization-server": NOT_FOUND,
                "/.well-known/openid-configuration": NOT_FOUND,
            },
        )
        as_scenario(
            "as-slow",
            f"AS metadata (both URLs) answers after {SLOW_SECONDS:g} s",
            ("MCP605",),
            slow_seconds=SLOW_SECONDS,
        )
        as_scenario(
            "token-invalid-request",
            "token endpoint: 400 invalid_request to an invalid refresh token",
            ("MCP603",),
            routes={"/token": Static.json(400, {"error": "invalid_request", "error_description": "bad request"})},
        )
        as_scenario(
            "token-415",
            "token endpoint: 415 to application/x-www-form-urlencoded",
            ("MCP602",),
            routes={
                "/token": When(
                    '$content_type ~* "x-www-form-urlencoded"',
                    Static.json(415, {"status": 415, "error": "Unsupported Media Type"}),
                    Proxy("as"),
                )
            },
        )
        as_scenario("token-500", "token endpoint: 500 HTML", ("MCP603",), routes={"/token": Static.html(500, HTML_500)})
        as_scenario(
            "registration-400",
            "registration endpoint: 400 invalid_client_metadata to Claude's registration",
            ("MCP513",),
            routes={
                "/reg": Static.json(
                    400, {"error": "invalid_client_metadata", "error_description": "registration is closed"}
                )
            },
        )
        reg_redirect = zone_host("registration-redirect")
        as_scenario(
            "registration-redirect",
            "registration endpoint: 302 to a login page",
            ("MCP513",),
            routes={"/reg": Redirect(302, f"https://{reg_redirect}/login")},
        )
        as_scenario(
            "as-html-200",
            "/.well-known/oauth-authorization-server answers 200 text/html (a single-page app);"
            " openid-configuration healthy",
            ("MCP416",),
            routes={"/.well-known/oauth-authorization-server": Static.html(200, SPA_PAGE)},
        )
        as_scenario(
            "prm-missing-as-root",
            "no PRM anywhere (the hint 404s, as prm-missing), but the MCP origin serves AS metadata"
            " at /.well-known/oauth-authorization-server (the 2025-03-26 fallback; MCP405 under --profile spec)",
            ("MCP414",),
            routes={prm_path: NOT_FOUND, PRM_PATH: NOT_FOUND},
        )
        as_scenario(
            "token-slow",
            f"token endpoint: oidc-provider's answers, {SLOW_TOKEN_SECONDS:g} s late",
            ("MCP605",),
            routes={"/token*": Proxy("as", delay_seconds=SLOW_TOKEN_SECONDS)},
        )
        no_post = zone_host("registration-no-secret-post")
        no_post_routes: dict[str, Action] = {prefix + "*": Proxy("as_no_post") for prefix in AS_ROUTE_PREFIXES}
        no_post_routes["/.well-known/openid-configuration"] = Proxy("as_no_post")
        no_post_routes["/.well-known/oauth-authorization-server"] = Proxy(
            "as_no_post", path="/.well-known/openid-configuration"
        )
        self._add(
            "registration-no-secret-post",
            "as",
            "its own oidc-provider with token_endpoint_auth_methods "
            + ", ".join(NO_POST_AUTH_METHODS)
            + ": registering a client_secret_post client is 400 invalid_client_metadata",
            ("MCP513",),
            lambda _: Site(no_post, routes=no_post_routes, default=Proxy("mcp", issuer=self.no_post_issuer)),
            issuer=self.no_post_issuer,
        )
        tenant = self.tenant_host
        self._add(
            "as-tenant-path",
            "as",
            f"issuer {self.tenant_issuer} (oidc-provider mounted at {TENANT_PATH});"
            f" metadata only at {TENANT_PATH}/.well-known/openid-configuration",
            ("MCP512",),
            lambda _: Site(
                tenant,
                routes={
                    TENANT_PATH + "*": Proxy("tenant"),
                    TENANT_PATH + "/.well-known/oauth-authorization-server": NOT_FOUND,
                },
                default=Proxy("mcp", issuer=self.tenant_issuer),
            ),
            issuer=self.tenant_issuer,
        )
        self._add(
            "resource-rejected",
            "as",
            "the healthy AS answers invalid_target for this host's MCP URL",
            ("MCP606",),
            self._mcp_site("resource-rejected"),
        )

        # -- hostile servers: TLS straight from the hostile server, no nginx ----------
        for label, (summary, rules) in HOSTILE.items():
            self._add(label, "hostile", summary, rules, None, endpoint="hostile")
