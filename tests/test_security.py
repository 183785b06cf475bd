"""Safe on an untrusted pull request: the manifest, the repository's config and the servers
they name may be hostile. Each class of issue 10 has tests here: addresses (IPv6 forms that
embed IPv4, URL host forms browsers read as addresses), the guard being the operator's
(loopback, resolvers, credential variables), secrets in --record, and output that cannot be
steered (control characters, workflow commands, Markdown)."""

from __future__ import annotations

import ipaddress

import pytest

from mcplint.facts.addresses import classify_address
from mcplint.facts.urls import url_facts

URL_DATA = {"nonpublic_suffixes": ["localhost", "internal"], "credential_params": [],
            "dyndns_zones": []}


# -- addresses ---------------------------------------------------------------------------
@pytest.mark.parametrize(("address", "kind"), [
    ("64:ff9b::7f00:1", "loopback"),           # NAT64 well-known prefix, embeds 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),      # ... 169.254.169.254
    ("64:ff9b::a00:1", "private"),             # ... 10.0.0.1
    ("64:ff9b:1::a00:1", "reserved"),          # local-use NAT64 (RFC 8215): never global
    ("::127.0.0.1", "loopback"),               # IPv4-compatible (deprecated)
    ("::a9fe:a9fe", "link-local"),
    ("::ffff:0:127.0.0.1", "loopback"),        # IPv4-translated (SIIT)
    ("::ffff:0:a00:1", "private"),
    ("2002:7f00:1::1", "loopback"),            # 6to4 embeds 127.0.0.1
    ("2002:a9fe:a9fe::", "link-local"),
    ("2002:a00:1::1", "private"),
    ("fec0::1", "site-local"),                 # deprecated site-local
    ("3fff::1", "reserved"),                   # documentation (RFC 9637)
    ("4000::1", "reserved"),                   # outside global unicast 2000::/3
    ("64:ff9b::8.8.8.8", "global"),            # NAT64 of a public address is public
    ("2002:808:808::1", "global"),
    ("2606:4700::1", "global"),
])
def test_embedded_and_non_global_ipv6(address: str, kind: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(("url", "host"), [
    ("https://0x7f.1/mcp", "127.0.0.1"),
    ("https://127.1/mcp", "127.0.0.1"),
    ("https://0177.0.0.1/mcp", "127.0.0.1"),
    ("https://2130706433/mcp", "127.0.0.1"),
    ("https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"),
    ("https://10.1/", "10.0.0.1"),
    ("https://127.0.0.1./mcp", "127.0.0.1"),
    ("https://%31%32%37.0.0.1/mcp", "127.0.0.1"),     # the host is percent-decoded
    ("https://\uff11\uff12\uff17.0.0.1/mcp", "127.0.0.1"),  # full-width digits (IDNA mapping)
    ("https://mcp.acme.internal\\@mcp.acme.com/mcp", "mcp.acme.internal"),  # \ is a /
    ("https://a\\@8.8.8.8/", "a"),
    ("https://[::ffff:7f00:1]/mcp", "::ffff:7f00:1"),
    ("https://[64:ff9b::7f00:1]/mcp", "64:ff9b::7f00:1"),
])
def test_check_judges_the_host_a_browser_connects_to(url: str, host: str) -> None:
    facts = url_facts(url, URL_DATA)
    assert facts["valid"], facts
    assert facts["host"] == host
    assert facts["nonpublic_reason"] is not None, facts


@pytest.mark.parametrize("url", ["https://mcp.acme.com/mcp", "https://8.8.8.8/mcp",
                                 "https://0x8.8.8.8/", "https://1.2.3.4.example.com/"])
def test_public_hosts_stay_public(url: str) -> None:
    facts = url_facts(url, {**URL_DATA, "nonpublic_suffixes": ["internal"]})
    assert facts["nonpublic_reason"] is None, facts


@pytest.mark.parametrize("url", ["https://0x100000000/", "https://1.2.3.256/",
                                 "https://1.2.3.09/"])
def test_numeric_hosts_that_are_no_address_are_invalid(url: str) -> None:
    # WHATWG fails these (the last label is numeric but no IPv4): no client connects anywhere.
    assert url_facts(url, URL_DATA)["valid"] is False
