"""What the MCP server touches outside itself: worker processes, sources, metrics."""
