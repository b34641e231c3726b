"""Converter: drives the Docling MCP server from a stored upload to Markdown, HTML and JSON."""
