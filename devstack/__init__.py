"""Local stack launcher for docling-jobs: infrastructure, MCP server and services on 127.0.0.1."""

from devstack.components import ALL, INFRA, MCP, SERVICES
from devstack.errors import PortInUseError, StackError
from devstack.ports import Ports
from devstack.stack import Stack, StackUrls

__all__ = [
    "ALL",
    "INFRA",
    "MCP",
    "SERVICES",
    "PortInUseError",
    "Ports",
    "Stack",
    "StackError",
    "StackUrls",
]
