"""The systems ``bench.vs_docling_serve`` compares, one pass of documents through one of them, and the
results: the table and the ratios of issue 19."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import docx
import httpx

from bench import cpu_profile, peer
from bench.jobs import pipeline_markdown
from devstack import Stack
from tests.documents import make_docx
from tests.e2e.helpers import direct_markdown
from tests.integration.mcp_servers import markdown_of, session

Convert = Callable[[Path], Awaitable[str]]
LABELS = {
    "serve-ws": "docling-serve, status by WebSocket",
    "serve-poll": "docling-serve, polling every 0.1 s",
    "serve-sync": "docling-serve, synchronous `/v1/convert/file`",
    "pipeline": "**docling-jobs pipeline** (upload, SSE, Markdown)",
    "mcp-new": "our MCP server alone, a new MCP session per document",
    "mcp-shared": "our MCP server alone, one shared MCP session",
}
CLIENTS = {"serve-ws": "WebSocket", "serve-poll": "polling"}
OURS = ("pipeline", "mcp-new", "mcp-shared")  # through our MCP server: its cache is emptied first
SETTLE_S = 0.5  # between passes, so one system's stragglers do not run into the next one's timing
BODY_TEXT = ("Revenue grew in every region this quarter.", "North")  # make_docx's fixed text


@dataclass(frozen=True)
class Doc:
    path: Path
    heading: str  # unique per document

    def found_in(self, markdown: str) -> bool:
        return self.heading in markdown and all(text in markdown for text in BODY_TEXT)


def make_docs(folder: Path, count: int) -> list[Doc]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [make_docx(folder / f"doc-{n:03d}.docx") for n in range(count)]
    return [Doc(path, docx.Document(str(path)).paragraphs[0].text) for path in paths]


@dataclass
class Systems:
    peer: httpx.AsyncClient  # docling-serve
    api: httpx.AsyncClient  # our API, with a session
    mcp_url: str
    mcp_token: str
    labels: dict[str, str] = field(default_factory=lambda: dict(LABELS))
    concurrent: tuple[str, ...] = tuple(name for name in LABELS if name != "serve-sync")

    @classmethod
    @asynccontextmanager
    async def opened(cls, stack: Stack, peer_url: str, connections: int) -> AsyncIterator[Systems]:
        limits, api_url = httpx.Limits(max_connections=connections), stack.urls.api
        token = httpx.post(f"{api_url}/api/v1/sessions", timeout=30).json()["session_id"]
        bearer = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=peer_url, timeout=300, limits=limits) as peer_http,
            httpx.AsyncClient(base_url=api_url, timeout=300, limits=limits, headers=bearer) as api,
        ):
            yield cls(peer_http, api, stack.urls.mcp, stack.layout.mcp_token.read_text().strip())

    def order(self, round_: int) -> list[str]:
        names = list(self.labels)
        shift = round_ % len(names)
        return names[shift:] + names[:shift]

    @asynccontextmanager
    async def client(self, name: str) -> AsyncIterator[Convert]:
        """How ``name`` turns a path into its Markdown; a shared MCP session is opened untimed."""
        if name == "mcp-shared":
            async with session(self.mcp_url, self.mcp_token) as client:
                yield lambda path: markdown_of(client, str(path))
            return
        simple: dict[str, Convert] = {
            "serve-ws": partial(peer.by_websocket, self.peer),
            "serve-poll": partial(peer.by_polling, self.peer),
            "serve-sync": partial(peer.synchronous, self.peer),
            "pipeline": partial(pipeline_markdown, self.api),
            "mcp-new": lambda path: direct_markdown(self.mcp_url, path, self.mcp_token),
        }
        yield simple[name]

    async def forget_ours(self) -> None:
        """Empty our MCP server's cache for our secret (the converter's documents and our own)."""
        async with session(self.mcp_url, self.mcp_token) as client:
            listed = await client.call_tool("list_cached_documents", {})
            for key in listed.structured_content["document_keys"]:
                await client.call_tool("remove_document_from_local_cache", {"document_key": key})

    async def warm(self, docs: list[Doc]) -> None:
        for name in self.labels:
            await run_pass(
                self, name, docs[:1] if name == "serve-sync" else docs, Results(), concurrent=False
            )


async def run_pass(
    systems: Systems,
    name: str,
    docs: list[Doc],
    results: Results,
    concurrent: bool,
    cpu_of: Stack | None = None,
) -> float:
    """``docs`` through system ``name``, all at once or one at a time; recorded in ``results``, with
    the CPU each component of ``cpu_of`` spent meanwhile when it is given."""
    if name in OURS:
        await systems.forget_ours()
    async with systems.client(name) as convert:
        before, started = cpu_profile.snapshot(cpu_of) if cpu_of else {}, time.perf_counter()
        if concurrent:
            outcomes = list(await asyncio.gather(*(_checked(convert, doc) for doc in docs)))
        else:
            outcomes = [await _checked(convert, doc) for doc in docs]
        wall_s = time.perf_counter() - started
        if cpu_of:
            results.add_cpu(before, cpu_profile.snapshot(cpu_of), wall_s, len(docs))
    results.add(name, concurrent, outcomes, wall_s)
    await asyncio.sleep(SETTLE_S)
    return wall_s


async def _checked(convert: Convert, doc: Doc) -> float | None:
    """Seconds from submit to the checked Markdown in hand; None for an error or a wrong Markdown."""
    started = time.perf_counter()
    try:
        markdown = await convert(doc.path)
    except Exception:
        return None
    return time.perf_counter() - started if doc.found_in(markdown) else None


@dataclass
class Results:
    rates: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # jobs/s per round
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # seconds
    failures: Counter[str] = field(default_factory=Counter)
    checked: Counter[str] = field(default_factory=Counter)
    cpu_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # per component
    cpu_wall_s: float = 0.0
    cpu_jobs: int = 0

    def add_cpu(self, before: dict[str, float], after: dict[str, float], wall_s: float, jobs: int) -> None:
        for name, seconds in after.items():
            self.cpu_s[name] += seconds - before.get(name, 0.0)
        self.cpu_wall_s += wall_s
        self.cpu_jobs += jobs

    def cpu_report(self) -> str:
        return cpu_profile.report({}, dict(self.cpu_s), self.cpu_wall_s, self.cpu_jobs)

    def add(self, name: str, concurrent: bool, outcomes: list[float | None], wall_s: float) -> None:
        done = [seconds for seconds in outcomes if seconds is not None]
        self.failures[name] += len(outcomes) - len(done)
        self.checked[name] += len(outcomes)
        if concurrent:
            self.rates[name].append(len(done) / wall_s)
        else:
            self.latencies[name].extend(done)

    def rate(self, name: str) -> float:
        return statistics.median(self.rates[name]) if self.rates[name] else float("nan")

    def latency_ms(self, name: str) -> float:
        return statistics.median(self.latencies[name]) * 1000 if self.latencies[name] else float("nan")

    def table(self, jobs: int, labels: dict[str, str]) -> str:
        rounds = max(len(rates) for rates in self.rates.values())
        lines = [
            f"| system | {jobs} concurrent: jobs/s ({rounds} rounds) | sequential: submit to Markdown, "
            "median | failures / checked |",
            "|---|---|---|---|",
        ]
        for name, label in labels.items():
            rates = " / ".join(f"{rate:.1f}" for rate in self.rates[name]) or "-"
            lines.append(
                f"| {label} | {rates} | {self.latency_ms(name):,.0f} ms | "
                f"{self.failures[name]} / {self.checked[name]} |"
            )
        return "\n".join(lines)

    def ratios(self, own: dict[str, list[float]]) -> str:
        best = max(CLIENTS, key=self.rate)
        own_ms, all_ms = statistics.median(own["markdown_ms"]), statistics.median(own["all_formats_ms"])
        rows = [
            (
                f"throughput: pipeline / docling-serve (its best client: {CLIENTS[best]})",
                self.rate("pipeline") / self.rate(best),
                ">= 1.0 (aim 1.5)",
                lambda v: v >= 1.0,
            ),
            (
                "latency: pipeline / docling-serve over WebSocket",
                self.latency_ms("pipeline") / self.latency_ms("serve-ws"),
                "<= 1.0",
                lambda v: v <= 1.0,
            ),
            (
                "throughput: pipeline / our MCP server, shared session",
                self.rate("pipeline") / self.rate("mcp-shared"),
                ">= 0.75",
                lambda v: v >= 0.75,
            ),
        ]
        lines = ["", "Ratios (medians over rounds for jobs/s, over all sequential documents for latency):"]
        for text, value, target, met in rows:
            lines.append(
                f"  {text:<66} {value:9.2f}  target {target:<17} {'met' if met(value) else 'NOT met'}"
            )
        for name, how in (("mcp-shared", "shared session"), ("mcp-new", "a new session each")):
            over = self.latency_ms(name) - own_ms
            text = f"latency: our MCP server, {how}, minus docling's own"
            lines.append(
                f"  {text:<66} {over:+6.0f} ms  target {'<= +10 ms':<17} {'met' if over <= 10 else 'NOT met'}"
            )
        lines.append(
            f"  (docling's own time in a warm process, same documents, median: {own_ms:.1f} ms convert + "
            f"Markdown; {all_ms:.1f} ms with the HTML and JSON exports our worker also makes)"
        )
        return "\n".join(lines)
