import pytest

from contracts import errors

SEED = {-32700: "E200", -32600: "E201", -32601: "E202", -32602: "E203", -32603: "E204"}


@pytest.mark.parametrize(("jsonrpc", "app"), sorted(SEED.items()))
def test_named_jsonrpc_codes_map_to_the_seed_table(jsonrpc: int, app: str) -> None:
    assert errors.from_jsonrpc(jsonrpc).code == app


@pytest.mark.parametrize("jsonrpc", [-32000, -32050, -32099])
def test_server_error_range_is_document_processing_failed(jsonrpc: int) -> None:
    entry = errors.from_jsonrpc(jsonrpc)
    assert (entry.code, entry.message, entry.recovery) == (
        "E205", "Document processing failed", "Retry with different document")


@pytest.mark.parametrize("jsonrpc", [-31999, -32100, -1, 0])
def test_codes_outside_the_table_are_server_processing_errors(jsonrpc: int) -> None:
    assert errors.from_jsonrpc(jsonrpc).code == "E204"


def test_seed_recovery_actions() -> None:
    expected = {"E200": "Retry after 5 seconds", "E201": "Check request format",
                "E202": "Verify MCP server version", "E203": "Validate input parameters",
                "E204": "Contact support if persists", "E205": "Retry with different document"}
    assert {code: errors.get(code).recovery for code in expected} == expected


def test_every_code_is_well_formed() -> None:
    for code, entry in errors.CODES.items():
        assert code == entry.code and code[0] == "E" and code[1:].isdigit()
        assert entry.message and entry.recovery and 400 <= entry.http_status < 600
