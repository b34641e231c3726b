"""Network cuts between the workers and NATS, Redis and PostgreSQL, with jobs in flight.

The stack's own progress and converter copies are stopped; a progress and a converter of the test's
own reach each dependency through a ``McpProxy`` of its own (a TCP proxy: ``reset`` drops every
connection with RST as soon as the client sends, ``delay`` stalls every chunk ``CUT_S``). One
dependency after the other is cut, then stalled, for ``CUT_S`` each, while jobs flow; afterwards
every job must have exactly one outcome and a gap-free history, and the convertible ones succeed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devstack import Stack
from tests.e2e.test_infrastructure_faults import expect_all_converted, in_flight
from tests.faults import ServiceProcesses, client, mixed_documents, submit, without
from tests.integration.mcp_proxy import McpProxy
from tests.outcomes import audit_all, settle

CUT_S = 3.0  # long enough for the workers' connections to be hit; short enough for a quick test
DEPENDENCIES = ("nats", "redis", "postgres")


def upstream(dependency: str, env: dict[str, str]) -> str:
    return {"nats": env["NATS_URL"], "postgres": env["DATABASE_URL"]}.get(
        dependency, f"redis://127.0.0.1:{env['REDIS_PORT']}"
    )


def through(proxies: dict[str, McpProxy], env: dict[str, str]) -> dict[str, str]:
    """The settings that send every dependency's connections through its proxy."""
    settings = {"REDIS_PORT": str(proxies["redis"].port)}
    for dependency, name in (("nats", "NATS_URL"), ("postgres", "DATABASE_URL")):
        parts = urlsplit(env[name])
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxies[dependency].port}"
        settings[name] = urlunsplit(parts._replace(netloc=netloc))
    return settings


def faults() -> Iterator[tuple[str, str]]:
    for mode in ("reset", "delay"):
        for dependency in DEPENDENCIES:
            yield dependency, mode


def test_cut_and_stalled_connections_to_nats_redis_and_postgres(stack: Stack, tmp_path: Path) -> None:
    env = stack.env()
    with without(stack, "progress", "converter"), ExitStack() as proxies_open:
        proxies = {d: proxies_open.enter_context(McpProxy(upstream(d, env))) for d in DEPENDENCIES}
        workers = ServiceProcesses(env, tmp_path)
        try:
            for module in ("progress", "converter"):
                workers.start(module, **through(proxies, env))
            with client(stack.urls.api) as api:
                jobs = [in_flight(api, tmp_path)]
                for number, (dependency, mode) in enumerate(faults()):
                    jobs += [submit(api, path) for path in mixed_documents(tmp_path, 3, offset=3 * number)]
                    proxies[dependency].set(mode, delay_s=CUT_S)
                    time.sleep(CUT_S)  # the length of the fault itself, not a wait for an outcome
                    proxies[dependency].set("pass")
                settle(api, jobs, 120)
                expect_all_converted(audit_all(api, jobs), len(jobs) - 1)
        finally:
            workers.stop_all()
