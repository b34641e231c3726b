import pytest

from services.api import domain
from services.api.domain import (
    Decision,
    Policy,
    content_problem,
    filename_problem,
    headers,
    parse_last_event_id,
    size_problem,
    slide,
    type_problem,
)

MB = 1024 * 1024
ZIP = b"PK\x03\x04rest"


@pytest.mark.parametrize(
    "name",
    [
        "report.docx",
        "Q3 results (final).xlsx",
        "notes.md",
        "a.PDF",
        "résumé.html",
        "report..v2.csv",
        "a" * 250 + ".pdf",
    ],
)
def test_plain_filenames_pass(name: str) -> None:
    assert filename_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../../etc/passwd.docx",
        "..\\..\\boot.ini.md",
        "C:\\Users\\me\\notes.md",
        "/abs/a.md",
        "dir/a.md",
        "bad\x00name.html",
        "tab\tname.csv",
        "line\nbreak.md",
        "del\x7f.md",
        "c1\x85.md",
        "invoice\u202excod.docx",
        "zero\u200bwidth.md",
        ".hidden.csv",
        ".md",
        "..",
        " padded.md",
        "trailing.md ",
        "dot.md.",
        "a" * 252 + ".pdf",
        "é" * 127 + ".md",
        'quo"te.md',
        "e\u0301.md",  # not NFC: the same name could be spelled two ways
    ],
)
def test_hostile_filenames_are_refused(name: str) -> None:
    assert filename_problem(name) == "E109"


@pytest.mark.parametrize(
    ("name", "code"),
    [("a.docx", None), ("a.exe", "E103"), ("noext", "E103"), ("a.tar.gz", "E103"), ("a.HTM", None)],
)
def test_supported_types(name: str, code: str | None) -> None:
    assert type_problem(name) == code


@pytest.mark.parametrize(
    ("name", "head", "code"),
    [
        ("a.docx", ZIP, None),
        ("a.pptx", ZIP, None),
        ("a.xlsx", ZIP, None),
        ("a.docx", b"%PDF-1.4", "E111"),
        ("a.xlsx", b"plain text", "E111"),
        ("a.pdf", b"%PDF-1.7\n", None),
        ("a.pdf", b"\n\n%PDF-1.4", None),
        ("a.pdf", ZIP, "E111"),
        ("a.md", b"# title", None),
        ("a.csv", b"a,b\n1,2", None),
        ("a.html", b"<html>", None),
        ("a.md", ZIP, "E111"),
        ("a.csv", b"a,\x00b", "E111"),
        ("a.html", b"\x89PNG\r\n", "E111"),
        ("a.md", b"MZ\x90\x00", "E111"),
        ("a.md", b"\xef\xbb\xbf# bom is text", None),
        ("a.png", b"\x89PNG\r\n\x1a\n\x00\x00", None),
        ("a.png", b"\xff\xd8\xff\xe0", "E111"),
        ("a.JPG", b"\xff\xd8\xff\xe0", None),
        ("a.tif", b"II*\x00\x08", None),
        ("a.tiff", b"MM\x00*\x00", None),
        ("a.bmp", b"BM\x36\x00", None),
        ("a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", None),
        ("a.webp", b"RIFF\x24\x00\x00\x00WAVEfmt ", "E111"),
        ("a.jpeg", b"<html>", "E111"),
    ],
)
def test_content_must_match_the_extension(name: str, head: bytes, code: str | None) -> None:
    assert content_problem(name, head) == code


@pytest.mark.parametrize(("size", "code"), [(0, "E102"), (1, None), (100 * MB, None), (100 * MB + 1, "E101")])
def test_size_limits(size: int, code: str | None) -> None:
    assert size_problem(size, 100 * MB) == code


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (None, 0),
        ("", 0),
        (" 17 ", 17),
        ("0", 0),
        ("-1", None),
        ("abc", None),
        ("1.5", None),
        ("9" * 20, None),
        (str(2**31 - 1), 2**31 - 1),
        (str(2**31), None),
        ("9" * 19, None),
        ("\u00b2", None),  # a superscript two: str.isdigit says yes, int() refuses
        ("\u0663", None),  # an Arabic-Indic three: not an ASCII id
    ],
)
def test_parse_last_event_id(raw, value) -> None:
    assert parse_last_event_id(raw) == value


def test_policy_parsing() -> None:
    assert Policy.parse("submit", "30/60") == Policy("submit", 30, 60)
    for bad in ("0/60", "5/0", "x/60", "-1/5"):
        with pytest.raises(ValueError):
            Policy.parse("submit", bad)


def test_sliding_window_admits_the_limit_then_refuses_until_the_oldest_leaves() -> None:
    policy, stamps = Policy("submit", 3, 10), []
    decisions = []
    for now in (0.0, 1.0, 2.0, 3.0):
        decision, stamps = slide(stamps, now, policy)
        decisions.append(decision)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after_s == pytest.approx(7.0)  # the request at 0 leaves at 10
    refused, stamps = slide(stamps, 9.99, policy)
    assert not refused.allowed
    admitted, stamps = slide(stamps, 10.0, policy)  # the window slides: 0 is out
    assert admitted.allowed and admitted.remaining == 0


def test_refusals_are_not_counted_in_the_window() -> None:
    policy, stamps = Policy("job", 1, 10), []
    _, stamps = slide(stamps, 0.0, policy)
    for now in range(1, 10):
        _, stamps = slide(stamps, float(now), policy)
    assert slide(stamps, 10.0, policy)[0].allowed


def test_rate_limit_headers_follow_the_ietf_draft() -> None:
    policy = Policy("submit", 30, 60)
    refused = headers(policy, Decision(False, 0, 12.2))
    assert refused == {
        "RateLimit-Policy": '"submit";q=30;w=60',
        "RateLimit": '"submit";r=0;t=13',
        "Retry-After": "13",
    }
    assert headers(policy, Decision(False, 0, 0.0))["Retry-After"] == "1"  # never "retry in 0 s"
    assert "Retry-After" not in headers(policy, Decision(True, 29, 0.0))


def test_the_default_limits_fit_the_clients_polling_fallback() -> None:
    """The client polls the events page (and, when it cannot list, the job) every 2 s: 30 a minute
    a job. The defaults leave room for several jobs followed at once, and for reconnections."""
    from docling_jobs.live import POLL_INTERVAL_S
    from services.api.settings import RATE_LIMIT_DEFAULTS

    per_minute = {name: Policy.parse(name, spec) for name, spec in RATE_LIMIT_DEFAULTS.items()}
    polls = 60 / POLL_INTERVAL_S
    for endpoint in ("events", "job"):
        policy = per_minute[endpoint]
        assert policy.limit / policy.window_s * 60 >= 4 * polls, endpoint
    assert per_minute["submit"].limit < per_minute["events"].limit  # submitting is the costly one


def test_a_result_is_downloaded_under_the_uploads_name() -> None:
    from services.api.domain import result_disposition

    assert result_disposition("report.docx", "markdown") == (
        "attachment; filename=\"report.md\"; filename*=UTF-8''report.md"
    )
    assert result_disposition('Bilan "été".pptx', "html") == (
        "attachment; filename=\"Bilan __t__.html\"; filename*=UTF-8''Bilan%20%22%C3%A9t%C3%A9%22.html"
    )
    assert result_disposition(None, "json").startswith('attachment; filename="result.json"')


@pytest.mark.parametrize(
    ("header", "accepted"),
    [("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("gzip;q=0", False), ("*", True),
     ("identity", False), (None, False), ("gzip;q=x", False)],
)  # fmt: skip
def test_gzip_is_sent_only_when_accepted(header: str | None, accepted: bool) -> None:
    assert domain.accepts_gzip(header) is accepted
