"""One real stack per test session: NATS, Valkey, PostgreSQL, the Docling MCP server, the services."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack import Ports, Stack
from devstack.ports import use_range
from tests.limits import lift_owner_limits, lift_rate_limits
from tests.otlp import Receiver
from tests.reconnect import TEST_RECONNECT  # fast reconnects: the real policy at small numbers
from tests.servers import MCP_SERVER

# A short ack wait, so a message whose converter was SIGKILLed is redelivered within seconds.
# In-progress acknowledgements (every ack_wait/3) keep slower conversions from being redelivered.
TEST_ACK_WAIT_S = "6"
TEST_RETENTION_INTERVAL_S = "1"  # every service purges every second: the retention test backdates rows


# A circuit that half-opens after 3 s (not 30) and jobs that retry after 1 s (not 5): the degraded-mode
# test waits these out; the thresholds (5 failures in 60 s) stay the production defaults.
TEST_BREAKER = {
    "CONVERTER_BREAKER_RESET_TIMEOUT_S": "3",
    "CONVERTER_RETRY_DELAY_S": "1",
    "CONVERTER_WAIT_POLL_S": "0.5",
}


# Under pytest-xdist (`make test` runs TEST_WORKERS of them) each worker picks the free ports of its
# stacks from a range of its own, below the kernel's ephemeral range: two workers never pick the
# same port between one's check and its server's bind.
PORTS_PER_WORKER = 1500
if (worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _first = 20000 + int(worker[2:]) * PORTS_PER_WORKER
    use_range(_first, _first + PORTS_PER_WORKER - 1)


# Every service runs twice: the suite proves nothing assumes it is the only copy.
COPIES = int(os.environ.get("TEST_COPIES", "2"))


@pytest.fixture(scope="session")
def otlp() -> Iterator[Receiver]:
    """The OTLP/HTTP receiver the session stack's services export their spans to."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, otlp: Receiver) -> Iterator[Stack]:
    os.environ["NATS_ACK_WAIT_S"] = TEST_ACK_WAIT_S
    os.environ["JOB_RETENTION_INTERVAL_S"] = TEST_RETENTION_INTERVAL_S
    os.environ.update(TEST_BREAKER)
    os.environ.update(TEST_RECONNECT)
    # the services' real exporters, configured the standard way (OTLP over HTTP)
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.endpoint
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "200"  # ms: spans reach the receiver soon after they end
    lift_rate_limits()  # the suite drives the stack hard from one address (see tests/limits.py)
    lift_owner_limits()  # ... and from one session
    os.environ["DEVSTACK_MCP_SERVER"] = MCP_SERVER
    running = Stack(tmp_path_factory.mktemp("stack"), Ports.free(), copies=COPIES)
    try:
        running.start()
        yield running
    finally:
        running.purge()  # as root, PostgreSQL's data may live outside tmp (see devstack/postgres.py)


@pytest.fixture(scope="session")
def mcp_server() -> str:
    """'own' or 'official': the MCP server this session's stack runs."""
    return MCP_SERVER


@pytest.fixture(scope="session")
def stack_env(stack: Stack) -> dict[str, str]:
    return stack.env()


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return stack.urls.api


@pytest.fixture(scope="session")
def mcp_url(stack: Stack) -> str:
    return stack.urls.mcp


# The modules that take a minute or more of a worker, longest first. pytest-xdist hands whole
# modules to its workers in collection order (--dist loadscope), so these start early and the many
# short ones fill in around them, instead of a long one starting last and running on alone.
LONG_FIRST = (
    "test_infrastructure_faults",
    "test_api_fuzz",
    "test_cli",
    "test_network_faults",
    "test_disaster_recovery",
    "test_nats_cluster",
    "test_live_progress",
    "test_faults",
    "test_full_disk",
    "test_resilience",
    "test_health",
    "test_runbook",
    "test_docling_serve_clients",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test carries exactly the marker of the folder it lives in; long modules come first
    (the order within a module, and of every other module, stays as collected)."""
    for item in items:
        for kind in ("unit", "integration", "e2e"):
            if f"{os.sep}{kind}{os.sep}" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, kind))
    rank = {name: place for place, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(LONG_FIRST)))
