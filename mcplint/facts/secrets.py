"""What is a credential, by rule rather than by list: header names, JSON and form members.
Used to redact what mcplint records (--record) and shows (evidence in reports).

A name is normalised (lower case, no `-`, `_` or `.`) and then judged:
- a header is secret when its name holds token, key, secret, auth, passw, session, cookie,
  credential, signature or dpop (Authorization, Cookie, X-Api-Key, Private-Token,
  X-Auth-Token, Mcp-Session-Id...), except the challenges servers send (WWW-Authenticate);
- a JSON or form member is secret when its name holds secret, passw, cookie, session or
  credential, or ends like a credential (token, key, code, verifier, assertion, signature,
  sig, otp, jwt, authorization): client_secret, access_token, refresh_token, id_token,
  registration_access_token, code, code_verifier, client_assertion, api_key. Metadata
  members that merely mention them (token_endpoint, token_type,
  token_endpoint_auth_methods_supported, authorization_servers) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "<redacted>"
_SEPARATORS = str.maketrans("", "", "-_. ")
_HEADER = re.compile(r"token|key|secret|auth|passw|session|cookie|credential|signature|dpop")
_PUBLIC_HEADERS = frozenset({"wwwauthenticate", "proxyauthenticate"})
_MEMBER_ANYWHERE = re.compile(r"secret|passw|cookie|session|credential")
_MEMBER_END = re.compile(
    r"(token|key|code|verifier|assertion|signature|sig|otp|jwt|authorization|pwd)\Z")
# name=value or "name": "value" in text that is no JSON document (a cut body, an HTML page)
_IN_TEXT = re.compile(r"""(?P<name>[A-Za-z][\w.-]{0,63})(?P<sep>"?\s*[:=]\s*"?)(?P<value>[^"&\s,;}<?]+)""")


def _normal(name: str) -> str:
    return name.lower().translate(_SEPARATORS)


def secret_header(name: str) -> bool:
    normal = _normal(name)
    return normal not in _PUBLIC_HEADERS and _HEADER.search(normal) is not None


def secret_member(name: str) -> bool:
    normal = _normal(name)
    return _MEMBER_ANYWHERE.search(normal) is not None or _MEMBER_END.search(normal) is not None


def redact_header(name: str, value: str, always: bool = False) -> str:
    """The value, or its scheme ("Bearer") and <redacted> for a credential."""
    if not (always or secret_header(name)):
        return value
    scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
    return f"{scheme} {REDACTED}".strip() if scheme.isalpha() and len(scheme) < 16 else REDACTED


def redact_json(value: Any) -> Any:
    """A JSON value with every credential-like member's value replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if secret_member(str(k)) and v not in (None, "")
                    and not isinstance(v, (dict, list, bool)) else redact_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """Text that is no JSON document: `name=value` and `"name": "value"` pairs redacted."""
    def replace(match: re.Match[str]) -> str:
        if not secret_member(match.group("name")):
            return match.group(0)
        return f"{match.group('name')}{match.group('sep')}{REDACTED}"

    return _IN_TEXT.sub(replace, text)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (JSON-like) with every occurrence of the given secret values replaced: what
    mcplint sent as a credential never comes back out, even echoed by a server."""
    secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    if not secrets:
        return value

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            for secret in secrets:
                if secret in item:
                    item = item.replace(secret, REDACTED)
            return item
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def redact_url(url: str) -> str:
    """A URL with the values of credential-like query parameters (a redirect's ?code=,
    ?access_token=) replaced."""
    if "?" not in url:
        return url
    base, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if equals and value and secret_member(name) else pair)
    return f"{base}?{'&'.join(pairs)}{hash_mark}{fragment}"
