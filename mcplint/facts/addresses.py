"""IP addresses and networks: what kind they are, and whether a list covers a range.

Python's `ipaddress` alone is not enough (see docs/facts.md): 100.64.1.2 (CGNAT) is neither
private nor global to it, and 192.0.2.x counts as "private". Addresses are classified
against explicit networks first, then `is_global` decides the rest.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Named non-global blocks, most specific first. Anything else non-global is "reserved".
_NAMED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("224.0.0.0/4", "multicast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_NAMED_NETWORKS = tuple((ipaddress.ip_network(net), kind) for net, kind in _NAMED)

# The IANA special-purpose blocks that are not globally routable, used to tell whether a
# declared network reaches into one (a network's two ends can both be global while its
# middle is not: 100.0.0.0/8 holds 100.64.0.0/10).
_NON_GLOBAL_BLOCKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
    "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8",
))
# IPv6 forms that carry an IPv4 address in their last 32 bits: a client connecting there
# reaches (through NAT64, SIIT, or the kernel's own mapping) that IPv4 address, which is
# what is judged. 6to4 (2002::/16) carries it in bits 16-47 instead (see _embedded_ipv4).
_EMBEDDING = tuple(ipaddress.ip_network(n) for n in (
    "::/96",              # IPv4-compatible (deprecated, RFC 4291): ::a.b.c.d
    "::ffff:0:0/96",      # IPv4-mapped: ::ffff:a.b.c.d
    "::ffff:0:0:0/96",    # IPv4-translated (SIIT, RFC 6145): ::ffff:0:a.b.c.d
    "64:ff9b::/96",       # NAT64 well-known prefix (RFC 6052)
))
# Globally routable IPv6 is allocated from 2000::/3 only; the rest is reserved.
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_RESERVED_V6 = tuple(ipaddress.ip_network(n) for n in (
    "64:ff9b:1::/48",     # local-use NAT64 (RFC 8215): where the IPv4 sits is the site's choice
    "3fff::/20",          # documentation (RFC 9637)
    "5f00::/16",          # SRv6 SIDs (RFC 9602)
))

DESCRIPTIONS = {
    "private": "private (RFC 1918 / unique local)",
    "cgnat": "carrier-grade NAT (100.64.0.0/10)",
    "loopback": "loopback",
    "link-local": "link-local",
    "unspecified": "unspecified",
    "multicast": "multicast",
    "site-local": "site-local (fec0::/10, deprecated)",
    "reserved": "reserved, not globally routable",
    "partly-non-global": "partly outside the globally routable space",
}


def parse_network(text: str) -> Network | None:
    """An address or CIDR as a network (host bits allowed), or None if it is neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_address(text: str) -> Address | None:
    text = text.strip().strip("[]")
    if not text or not (text[0].isdigit() or ":" in text):  # a name: skip the exception
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=32)
def parse_networks(texts: tuple[str, ...]) -> tuple[Network, ...]:
    """Networks of a data list (egress ranges, retired addresses), parsed once per run."""
    return tuple(n for n in map(parse_network, texts) if n is not None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form embeds or maps, if it is one of those forms."""
    if address.sixtofour is not None:
        return address.sixtofour
    if int(address) <= 1:  # :: and ::1 are IPv6's own unspecified and loopback
        return None
    for network in _EMBEDDING:
        if address in network:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def classify_address(address: Address) -> str:
    """'global', or the kind of non-global address this is. An IPv6 address that embeds or
    maps an IPv4 one is judged by that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return classify_address(embedded)
    for network, kind in _NAMED_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if address.version == 6 and (address not in _GLOBAL_UNICAST
                                 or any(address in n for n in _RESERVED_V6)):
        return "reserved"
    return "global" if address.is_global else "reserved"


def classify_network(network: Network) -> str:
    """'global' if every address in it is, else the kind (or 'partly-non-global')."""
    if network.num_addresses == 1:
        return classify_address(network.network_address)
    for block in _NON_GLOBAL_BLOCKS:
        if block.version != network.version or not network.overlaps(block):
            continue
        if network.subnet_of(block):  # type: ignore[arg-type]
            return classify_address(network.network_address)
        return "partly-non-global"
    return "global"


def is_loopback_address(address: Address) -> bool:
    """127.0.0.0/8, ::1 or ::ffff:127.x.y.z: what this machine's kernel keeps on this
    machine (not a NAT64 or 6to4 form, which a gateway elsewhere would translate)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: where the `local` profile accepts plain http."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = parse_address(host)
    return address is not None and address.is_loopback


def covers(allowlist: Iterable[Network], required: Network) -> bool:
    """Whether the union of `allowlist` contains every address of `required`."""
    same_version = [n for n in allowlist if n.version == required.version]
    merged = ipaddress.collapse_addresses(same_version)  # type: ignore[type-var]
    return any(required.subnet_of(n) for n in merged)  # type: ignore[arg-type]

