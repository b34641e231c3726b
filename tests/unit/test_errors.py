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
        "E205",
        "Document processing failed",
        "Retry with different document",
    )


@pytest.mark.parametrize("jsonrpc", [-31999, -32100, -1, 0])
def test_codes_outside_the_table_are_server_processing_errors(jsonrpc: int) -> None:
    assert errors.from_jsonrpc(jsonrpc).code == "E204"


def test_seed_recovery_actions() -> None:
    expected = {
        "E200": "Retry after 5 seconds",
        "E201": "Check request format",
        "E202": "Verify MCP server version",
        "E203": "Validate input parameters",
        "E204": "Contact support if persists",
        "E205": "Retry with different document",
    }
    assert {code: errors.get(code).recovery for code in expected} == expected


def test_every_code_is_well_formed() -> None:
    for code, entry in errors.CODES.items():
        assert code == entry.code and code[0] == "E" and code[1:].isdigit()
        assert entry.message and entry.recovery and 400 <= entry.http_status < 600


@pytest.mark.parametrize(
    ("jsonrpc", "trips"),
    [
        (-32700, True),
        (-32600, False),
        (-32601, False),
        (-32602, False),
        (-32603, True),
        (-32000, True),
        (-32099, True),
        (-1, True),
    ],
)
def test_only_server_side_jsonrpc_errors_trip_the_circuit(jsonrpc: int, trips: bool) -> None:
    assert errors.jsonrpc_trips(jsonrpc) is trips


@pytest.mark.parametrize(
    ("kind", "code", "trips"),
    [
        ("transport", "E206", True),
        ("timeout", "E207", True),
        ("garbled", "E200", True),
        ("tool", "E205", False),
        ("result", "E208", False),
    ],
)
def test_each_mcp_failure_kind_has_its_code_and_circuit_rule(kind: str, code: str, trips: bool) -> None:
    failure = errors.MCP_FAILURES[kind]
    assert (failure.code, failure.trips) == (code, trips) and failure.code in errors.CODES


def test_the_manual_lists_every_mcp_code_with_its_circuit_rule() -> None:
    from pathlib import Path

    manual = (Path(__file__).parents[2] / "CLAUDE.md").read_text()
    section = manual.split("## MCP Error Code Mapping", 1)[1].split("\n## ", 1)[0]
    for jsonrpc, app in errors.JSONRPC_TO_APP.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| {jsonrpc} |"))
        assert f"| {app} |" in row and row.rstrip(" |").endswith(
            "yes" if errors.jsonrpc_trips(jsonrpc) else "no"
        )
    for failure in errors.MCP_FAILURES.values():
        entry = errors.get(failure.code)
        assert any(
            f"| {failure.code} | {entry.message} |" in line
            and line.rstrip(" |").endswith("yes" if failure.trips else "no")
            for line in section.splitlines()
        )


def test_a_tool_error_naming_a_document_limit_keeps_its_code() -> None:
    from services.converter.domain import ToolFailed

    assert ToolFailed("convert: [E209] the archive expands to 900 MB").code == "E209"
    assert ToolFailed("convert: [E210] HTML elements are nested more than 256 deep").code == "E210"
    assert ToolFailed("convert: conversion failed: [E500] not ours to name").code == "E205"
    assert ToolFailed("convert: conversion failed").code == "E205"
    assert not ToolFailed("convert: [E209] x").trips  # the document's fault: the circuit stays closed
