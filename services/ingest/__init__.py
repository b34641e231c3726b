"""Ingest: turns submitted uploads into content-addressed files the MCP server can read."""
