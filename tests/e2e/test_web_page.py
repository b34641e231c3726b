"""The web page in a real browser (Debian's Chromium, driven by Playwright), as a person uses it:
upload a document, watch it convert, download the results; a bad file shows its error; another
browser (another session) sees none of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from devstack import Stack
from tests.documents import make_docx
from tests.waiting import wait_for

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CONVERSION_S = 60
expect.set_options(timeout=30_000)  # Playwright's default 5 s is short for a browser on a loaded machine


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
