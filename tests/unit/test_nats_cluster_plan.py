"""devstack/cluster.py: the nodes of a NATS cluster, their ports and their configuration."""

from __future__ import annotations

import pytest

from devstack import Ports
from devstack.cluster import config, node_count, plan, servers_url


def test_one_node_is_the_plain_server() -> None:
    (node,) = plan(1, Ports())
    assert (node.name, node.client, node.monitor, node.route) == ("nats", 4222, 8222, 0)
    text = config(node, (node,), "/s", "always", "pw")
    assert "cluster" not in text
    assert 'authorization {\n  user: "docling"\n  password: "pw"\n}' in text


def test_three_nodes_take_the_next_ports_and_route_to_each_other() -> None:
    nodes = plan(3, Ports(), environ={})
    assert [(n.name, n.client, n.monitor, n.route) for n in nodes] == [
        ("nats", 4222, 8222, 6222),
        ("nats-2", 4223, 8223, 6223),
        ("nats-3", 4224, 8224, 6224),
    ]
    text = config(nodes[1], nodes, "/store/nats-2", "always", "pw")
    assert 'server_name: "nats-2"' in text and 'listen: "127.0.0.1:6223"' in text
    assert '"nats-route://docling:pw@127.0.0.1:6222", "nats-route://docling:pw@127.0.0.1:6224"' in text
    cluster_part = text.split("cluster {", 1)[1]
    assert 'authorization {\n    user: "docling"\n    password: "pw"\n  }' in cluster_part  # routes log in
    assert servers_url(nodes) == (
        "nats://docling@127.0.0.1:4222,nats://docling@127.0.0.1:4223,nats://docling@127.0.0.1:4224"
    )


def test_free_ports_keep_the_first_nodes_ports() -> None:
    ports = Ports.free()
    nodes = plan(3, ports, free=True)
    assert (nodes[0].client, nodes[0].monitor) == (ports.nats, ports.nats_monitor)
    numbers = [p for n in nodes for p in (n.client, n.monitor, n.route)]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("value", ["0", "2", "6", "three"])
def test_a_cluster_needs_a_majority_to_survive_a_node(value: str) -> None:
    with pytest.raises(ValueError, match="DEVSTACK_NATS_NODES"):
        node_count({"DEVSTACK_NATS_NODES": value})


def test_the_default_is_one_node() -> None:
    assert node_count({}) == 1 and node_count({"DEVSTACK_NATS_NODES": "3"}) == 3
