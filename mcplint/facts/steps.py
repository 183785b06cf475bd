"""The requests of the hosted client's walk: the names a person reads for them, and the
order in which they depend on each other.

mcplint sends independent requests side by side (the AS metadata while the first
contact is still waiting, when the manifest names the issuer), so the order answers come
back in says nothing; the client itself needs each answer before the next request: the
first contact's challenge names the protected resource metadata, which names the
authorization server, whose metadata names the registration and token endpoints; a
request with a token comes last."""

from __future__ import annotations

# step (as mcplint/live/probes/ name their requests) -> what a person calls it, in order
LABELS = {
    "mcp-discover": "first contact, server/discover of 2026-07-28",
    "mcp-post": "first contact, initialize of 2025-11-25",
    "prm": "protected resource metadata",
    "as-metadata": "authorization server metadata",
    "registration": "client registration",
    "token-refresh": "token endpoint, refresh with an invalid token",
    "invalid-token": "MCP request with an invalid token",
}
_RANK = {step: rank for rank, step in enumerate(LABELS)}


def label(step: str) -> str:
    return LABELS.get(step, step.replace("-", " "))


def rank(step: str) -> int:
    """The step's place in the walk; a first contact of another kind ranks with the first
    contact, a step this list does not know comes last."""
    if step in _RANK:
        return _RANK[step]
    return 0 if step.startswith("mcp-") else len(_RANK)
