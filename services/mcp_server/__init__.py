"""The project's own Docling MCP server: tool-compatible with docling-mcp, conversions in worker processes.

Runs in `.venv-mcp` (it needs docling); imports nothing from `runtime` or the other services.
"""
