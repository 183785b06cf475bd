"""The profiles a run judges for (README, "Profiles"): `claude-ai`, a hosted client
connecting from Anthropic's cloud (the default); `spec`, the MCP authorization
specification alone; `local`, a server under development reached from the same machine.

A module of its own, importing nothing, because the command line names them in its options
before anything else is loaded (`mcplint --version` stays cheap)."""

PROFILES = ("claude-ai", "spec", "local")
DEFAULT_PROFILE = "claude-ai"
