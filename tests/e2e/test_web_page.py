"""The web page in a real browser (Debian's Chromium, driven by Playwright), as a person uses it:
upload a document, watch it convert, download the results; a bad file shows its error; another
browser (another session) sees none of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

from devstack import Stack
from tests.documents import make_docx
from tests.waiting import wait_for

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CONVERSION_S = 60
expect.set_options(timeout=30_000)  # Playwright's default 5 s is short for a browser on a loaded machine
MAX_TRIES = 10  # the seed's reconnection tries


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = os.environ.get("TEST_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    assert binary, "Chromium is missing: `make install-test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])  # root in CI
        yield launched
        launched.close()


def profile(browser: Browser, stack: Stack) -> BrowserContext:
    """A browser profile of its own: its own cookies, so its own session."""
    return browser.new_context(base_url=stack.urls.api)


@pytest.fixture
def person(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    context = profile(browser, stack)
    try:
        yield context
    finally:
        context.close()


def opened(context: BrowserContext) -> tuple[Page, list[str]]:
    page, problems = context.new_page(), []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/")
    return page, problems


def upload(page: Page, path: Path) -> None:
    page.set_input_files("#file", str(path))
    page.click("button[type=submit]")


def test_a_person_converts_a_document_and_downloads_it(
    person: BrowserContext, stack: Stack, tmp_path: Path
) -> None:
    document = make_docx(tmp_path / "report.docx")
    page, problems = opened(person)
    upload(page, document)

    expect(page.locator("#status")).to_have_text("Done", timeout=CONVERSION_S * 1000)
    links = page.locator("#downloads a")
    expect(links).to_have_text(["markdown", "html", "json"])
    assert page.locator("#bar").get_attribute("value") == "100"
    shown = page.locator("#events li").all_inner_texts()
    numbers, types = zip(*(line.split(" ", 1) for line in shown), strict=False)
    assert [int(n) for n in numbers] == list(range(1, len(shown) + 1))  # every event, once, in order
    assert types[0] == "JobSubmitted" and types[-1] == "ConversionSucceeded"

    markdown = page.request.get(links.first.get_attribute("href"))  # the page's own session cookie
    assert markdown.ok and "Quarterly report" in markdown.text() and "| Region" in markdown.text()
    expect(page.locator("#jobs li")).to_contain_text(["report.docx: succeeded"])
    assert "docling_session" not in page.evaluate("document.cookie")  # HttpOnly: scripts cannot read it
    assert problems == []


def test_a_bad_file_shows_its_error_and_offers_nothing(
    person: BrowserContext, stack: Stack, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.docx"
    fake.write_bytes(b"plain text pretending to be a Word document")
    page, problems = opened(person)
    upload(page, fake)

    expect(page.locator("#error")).to_contain_text("E111", timeout=30_000)
    assert page.locator("#downloads a").count() == 0
    assert page.locator("#bar").is_hidden()
    assert problems == []


def test_another_browser_does_not_see_the_first_ones_documents(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    first, second = profile(browser, stack), profile(browser, stack)
    try:
        page, _ = opened(first)
        upload(page, make_docx(tmp_path / "mine.docx"))
        expect(page.locator("#status")).to_have_text("Done", timeout=CONVERSION_S * 1000)
        page.reload()
        expect(page.locator("#jobs li")).to_contain_text(["mine.docx: succeeded"])

        other, _ = opened(second)
        wait_for(lambda: any(c["name"] == "docling_session" for c in second.cookies()), 30, "its session")
        listed = other.request.get("/api/v1/jobs")  # what the page lists: its session's jobs
        assert listed.status == 200 and listed.json()["jobs"] == []
        stolen = other.request.get(page.locator("#jobs a").first.get_attribute("href"))
        assert stolen.status == 404
    finally:
        first.close()
        second.close()


# -- the seed's promises: downloads, clean state, interpolation, reconnection -------------------


def test_the_download_has_the_original_name_and_a_second_upload_starts_clean(
    person: BrowserContext, stack: Stack, tmp_path: Path
) -> None:
    page, problems = opened(person)
    upload(page, make_docx(tmp_path / "Quarterly report.docx"))
    expect(page.locator("#status")).to_have_text("Done", timeout=CONVERSION_S * 1000)
    with page.expect_download() as download:
        page.locator("#downloads a", has_text="markdown").click()
    assert download.value.suggested_filename == "Quarterly report.md"
    expect(page.locator("#preview")).to_be_visible()
    assert page.locator("#preview").get_attribute("sandbox") == ""  # no scripts, no same origin
    assert "Content-Security-Policy" in (page.locator("#preview").get_attribute("srcdoc") or "")

    fake = tmp_path / "second.docx"
    fake.write_bytes(b"plain text pretending to be a Word document")
    upload(page, fake)
    expect(page.locator("#error")).to_contain_text("E111", timeout=30_000)
    assert page.locator("#status").inner_text() == "Failed"  # not the first job's "Done"
    assert page.locator("#downloads a").count() == 0 and page.locator("#bar").is_hidden()
    assert page.locator("#preview").is_hidden() and page.locator("#events li").count() == 0
    shown = page.evaluate("window.doclingJobs.shown")
    assert shown == sorted(shown) and shown[-1] == 100  # the first job's bar never went down
    assert problems == []


def test_the_bar_moves_between_sparse_updates_and_never_goes_down(person: BrowserContext) -> None:
    """The page's own interpolator on the page's clock: 100 ms ticks, +1 a tick, half the gap when
    more than 10 behind, a lower server value ignored, a pause after 5 s of silence, 100 at once."""
    page = person.new_page()
    page.clock.install()
    page.goto("/")
    values = page.evaluate(
        """() => {
        const bar = document.createElement("progress"); bar.max = 100;
        const p = new window.doclingJobs.Interpolator(bar), seen = [];
        const ticks = (n) => { for (let i = 0; i < n; i++) { p.tick(); seen.push(bar.value); } };
        p.news(5); ticks(3);          // 1, 2, 3
        p.news(40); ticks(3);         // catch-up: 21.5, 30.75, then +1: 31.75
        p.news(20); ticks(2);         // lower: ignored, still +1 a tick toward 40
        return seen;
    }"""
    )
    assert values == [1, 2, 3, 21.5, 30.75, 31.75, 32.75, 33.75]
    page.clock.run_for(5_000)
    stale = page.evaluate(
        """() => { const bar = document.createElement("progress"); bar.max = 100;
        const p = new window.doclingJobs.Interpolator(bar); p.news(50); p.tick();
        const first = bar.value; window.__p = p; return first; }"""
    )
    page.clock.run_for(5_000)  # five seconds without news: the bar waits
    assert stale == 25 and page.evaluate("window.__p.tick(), window.__p.displayed") == 25
    assert page.evaluate("window.__p.complete(), window.__p.displayed") == 100


def test_with_the_event_stream_dropped_it_backs_off_then_polls_and_ends_done(
    person: BrowserContext, tmp_path: Path
) -> None:
    """Every SSE request is dropped at the browser's network layer (the JSON polling form passes):
    ten reconnections on the seed's schedule (driven by the page's clock), then "Using backup
    connection" and polling every 2 s until Done."""
    page, problems = person.new_page(), []
    page.on("pageerror", lambda error: problems.append(str(error)))
    dropped: list[str] = []

    def drop_sse(route: Route) -> None:
        if "application/json" in (route.request.headers.get("accept") or ""):
            route.continue_()
        else:
            dropped.append(route.request.url)
            route.abort("connectionreset")

    page.route("**/api/v1/jobs/*/events*", drop_sse)
    page.clock.install()
    page.goto("/")
    upload(page, make_docx(tmp_path / "offline.docx"))
    for attempt in range(MAX_TRIES):
        delays = wait_for(lambda n=attempt: reconnections(page, n + 1), 30, f"reconnection {attempt + 1}")
        page.clock.run_for(int(delays[attempt]) + 50)
    expect(page.locator("#connection")).to_have_text("Using backup connection", timeout=30_000)
    delays = reconnections(page, MAX_TRIES)
    nominal = [min(30_000, 1000 * 2**k) for k in range(MAX_TRIES)]
    assert len(delays) == MAX_TRIES and all(
        0.9 * n <= d <= 1.1 * n for n, d in zip(nominal, delays, strict=True)
    )
    assert len(dropped) == 1 + MAX_TRIES

    def done_after_a_poll() -> bool:
        page.clock.run_for(2_000)
        return page.locator("#status").inner_text() == "Done"

    wait_for(done_after_a_poll, CONVERSION_S, "the polled job to end Done", every=0.2)
    expect(page.locator("#downloads a")).to_have_text(["markdown", "html", "json"])
    assert page.locator("#bar").get_attribute("value") == "100"
    assert len(dropped) == 1 + MAX_TRIES and problems == []  # no SSE was tried once polling began


def reconnections(page: Page, at_least: int) -> list[float] | None:
    delays = page.evaluate("window.doclingJobs.reconnections")
    return delays if len(delays) >= at_least else None
