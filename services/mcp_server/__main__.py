"""`python -m services.mcp_server [--transport streamable-http] [--host H] [--port P]`
(docling-mcp's flags)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from services.mcp_server import logs
from services.mcp_server.settings import McpServerSettings


def main(argv: list[str] | None = None) -> None:
    settings = McpServerSettings()
    parser = argparse.ArgumentParser(prog="python -m services.mcp_server", description=__doc__)
    parser.add_argument(
        "--transport",
        default="streamable-http",
        choices=["streamable-http"],
        help="only streamable HTTP (MCP at /mcp)",
    )
    parser.add_argument("--host", default=settings.host, help="bind address (MCP_SERVER_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (MCP_SERVER_PORT or MCP_PORT)")
    parser.add_argument("tools", nargs="*", help="docling-mcp tool groups; accepted and ignored")
    args = parser.parse_args(argv)
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    if not settings.tokens():
        parser.error("no client secret: set MCP_SERVER_TOKEN or MCP_SERVER_TOKEN_FILE (see CLAUDE.md)")
    logs.configure(settings.log_level)
    logging.getLogger(__name__).info(
        "starting",
        extra={
            "host": settings.host,
            "port": settings.port,
            "workers": settings.workers,
            "allowed_roots": [str(root) for root in settings.allowed_roots],
            "pdf_pipeline": settings.pdf_pipeline,
        },
    )
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(bootstrap_serve(settings))


def _loop_factory():
    """uvloop when installed (requirements/mcp-server.txt pins it), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def bootstrap_serve(settings: McpServerSettings) -> None:
    from services.mcp_server.bootstrap import serve

    await serve(settings)


if __name__ == "__main__":  # workers import this module as __mp_main__: they must not start a server
    main()
