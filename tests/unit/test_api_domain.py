import pytest

from services.api.domain import clean_filename, parse_last_event_id, upload_problem

MB = 1024 * 1024


@pytest.mark.parametrize(("raw", "clean"), [
    ("report.docx", "report.docx"),
    ("../../etc/passwd.docx", "passwd.docx"),
    ("C:\\Users\\me\\notes.md", "notes.md"),
    ("bad\x00name\x1f.html", "badname.html"),
    (".hidden.csv", "hidden.csv"),
    ("", None),
    (None, None),
    ("/", None),
    ("a" * 300 + ".pdf", None),
])
def test_clean_filename(raw, clean) -> None:
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(("name", "size", "code"), [
    ("a.docx", 10, None),
    ("a.PDF", 10, None),
    (None, 10, "E100"),
    ("a.exe", 10, "E103"),
    ("noextension", 10, "E103"),
    ("a.docx", 0, "E102"),
    ("a.docx", 100 * MB + 1, "E101"),
    ("a.docx", 100 * MB, None),
])
def test_upload_problem(name, size, code) -> None:
    assert upload_problem(name, size, 100 * MB) == code


@pytest.mark.parametrize(("raw", "value"), [
    (None, 0), ("", 0), (" 17 ", 17), ("0", 0), ("-1", None), ("abc", None), ("1.5", None),
    ("9" * 20, None), (str(2**31 - 1), 2**31 - 1), (str(2**31), None), ("9" * 19, None),
])
def test_parse_last_event_id(raw, value) -> None:
    assert parse_last_event_id(raw) == value
