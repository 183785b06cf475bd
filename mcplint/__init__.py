"""mcplint: lint and verify remote MCP server (connector) deployments."""

__version__ = "0.1.0"
