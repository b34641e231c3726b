"""A NATS cluster on 127.0.0.1: its nodes, their ports and their configuration files.

One node (the default) is the plain server of ``components.Nats``. With ``DEVSTACK_NATS_NODES=3``
(``make up NATS_NODES=3``) the stack runs three: ``nats``, ``nats-2``, ``nats-3``, each with
JetStream and a store dir of its own, joined by cluster routes, and the services get every client
address in ``NATS_URL`` (comma-separated) and ``NATS_STREAM_REPLICAS`` equal to the node count.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devstack.ports import HOST, Ports, free_ports

NODES_ENV = "DEVSTACK_NATS_NODES"
ROUTE_PORT_ENV = "NATS_CLUSTER_PORT"  # the first node's route port; node k listens on it + k - 1
DEFAULT_ROUTE_PORT = 6222
CLUSTER_NAME = "docling-jobs"
MAX_NODES = 5  # JetStream's replicas are at most 5
USER = "docling"  # the one NATS user: the services, the tools and the cluster routes


@dataclass(frozen=True)
class NatsNode:
    """One nats-server of the stack."""

    name: str  # "nats", "nats-2", ...
    client: int
    monitor: int
    route: int  # cluster port; 0 for a single server (no cluster)

    @property
    def url(self) -> str:
        """The client address, with the user and without the password (which the caller adds)."""
        return f"nats://{USER}@{HOST}:{self.client}"


def node_count(environ: Mapping[str, str] | None = None) -> int:
    """DEVSTACK_NATS_NODES: 1 (default) or a cluster of 3 (or up to 5)."""
    value = (os.environ if environ is None else environ).get(NODES_ENV, "1")
    if not value.isdigit() or not 1 <= int(value) <= MAX_NODES or int(value) == 2:
        raise ValueError(f"{NODES_ENV} must be 1, 3, 4 or 5 (a majority must survive a node), not {value!r}")
    return int(value)


def node_names(count: int) -> tuple[str, ...]:
    return ("nats", *(f"nats-{k}" for k in range(2, count + 1)))


def plan(
    count: int, ports: Ports, *, free: bool = False, environ: Mapping[str, str] | None = None
) -> tuple[NatsNode, ...]:
    """The nodes: the first on NATS_PORT / NATS_MONITOR_PORT; node k on those ports + k - 1 and route
    port NATS_CLUSTER_PORT + k - 1 (6222, 6223, ...); ``free`` picks free ports instead (tests)."""
    if count == 1:
        return (NatsNode("nats", ports.nats, ports.nats_monitor, 0),)
    names = node_names(count)
    if free:
        spare = iter(free_ports(3 * count - 2))
        clients = [ports.nats, *(next(spare) for _ in names[1:])]
        monitors = [ports.nats_monitor, *(next(spare) for _ in names[1:])]
        routes = [next(spare) for _ in names]
    else:
        env = os.environ if environ is None else environ
        base = int(env.get(ROUTE_PORT_ENV) or DEFAULT_ROUTE_PORT)
        clients = [ports.nats + k for k in range(count)]
        monitors = [ports.nats_monitor + k for k in range(count)]
        routes = [base + k for k in range(count)]
    return tuple(NatsNode(*fields) for fields in zip(names, clients, monitors, routes, strict=True))


def config(
    node: NatsNode, nodes: Sequence[NatsNode], store_dir: str, sync_interval: str, password: str
) -> str:
    """nats-server configuration of one node: JetStream, user ``docling`` with ``password`` (clients
    and routes alike), and the routes to every other node. It holds the password: write it 0600."""
    text = (
        f'jetstream {{\n  store_dir: "{store_dir}"\n  sync_interval: "{sync_interval}"\n}}\n'
        f"authorization {_credentials(password, '')}\n"
    )
    if len(nodes) == 1:
        return text
    routes = ", ".join(
        f'"nats-route://{USER}:{password}@{HOST}:{other.route}"' for other in nodes if other != node
    )
    return (
        f'server_name: "{node.name}"\n{text}'
        f'cluster {{\n  name: "{CLUSTER_NAME}"\n  listen: "{HOST}:{node.route}"\n'
        f"  authorization {_credentials(password, '  ')}\n  routes: [{routes}]\n}}\n"
    )


def _credentials(password: str, indent: str) -> str:
    return f'{{\n{indent}  user: "{USER}"\n{indent}  password: "{password}"\n{indent}}}'


def servers_url(nodes: Sequence[NatsNode]) -> str:
    """NATS_URL for the services: every node's client address, comma-separated."""
    return ",".join(node.url for node in nodes)
