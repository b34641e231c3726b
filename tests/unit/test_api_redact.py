import logging

from services.api.redact import RedactSecrets


def test_an_api_key_in_a_logged_query_string_is_masked() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/v1/status/ws/t?api_key=dj_0123456789abcdef_secret-part&x=1"),
        None,
    )
    assert RedactSecrets().filter(record)
    line = record.getMessage()
    assert "secret-part" not in line and "dj_" not in line
    assert "api_key=***&x=1" in line
