"""Which Docling MCP server this test session's stack runs: TEST_MCP_SERVER=own (default) | official."""

import os

MCP_SERVER = os.environ.get("TEST_MCP_SERVER", "own")
OWN = MCP_SERVER == "own"
