"""Application error codes: one table, used by the services, the API and the manual.

Ranges: E1xx the public edge and uploads, E2xx the MCP path (E200-E205 are the seed's JSON-RPC
mapping, E206+ the cases it does not name), E5xx the system itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    title: str
    message: str
    recovery: str
    http_status: int


def _table(*codes: ErrorCode) -> dict[str, ErrorCode]:
    return {c.code: c for c in codes}


CODES = _table(
    # -- the edge ----------------------------------------------------------------------------
    ErrorCode("E100", "Invalid request", "The request is malformed.", "Check the request format", 400),
    ErrorCode("E101", "File too large", "The file exceeds the size limit.", "Upload a smaller file", 413),
    ErrorCode("E102", "Empty file", "The uploaded file is empty.", "Upload a file with content", 400),
    ErrorCode(
        "E103",
        "Unsupported file type",
        "This file type is not supported.",
        "Upload DOCX, PPTX, XLSX (or their template and macro forms), HTML, Markdown, AsciiDoc, CSV or PDF",
        415,
    ),
    ErrorCode("E104", "Not found", "No such job.", "Check the job id", 404),
    ErrorCode(
        "E105",
        "Result not ready",
        "The job has not finished yet.",
        "Wait for the job to finish, then ask again",
        409,
    ),
    ErrorCode("E106", "No result", "The job ended without a result.", "See the job's error", 409),
    ErrorCode("E108", "Job already ended", "The job has already ended.", "Nothing to cancel", 409),
    ErrorCode(
        "E107",
        "Upload lost",
        "The upload could not be read back for storage.",
        "Submit the document again",
        422,
    ),
    ErrorCode(
        "E109",
        "Invalid filename",
        "The file name is not acceptable (empty, a path, control characters or too long).",
        "Rename the file to a plain name such as report.docx",
        400,
    ),
    ErrorCode(
        "E110",
        "Malformed upload",
        "The upload is not a well-formed multipart/form-data body.",
        "Send the document as multipart/form-data in a field named file",
        400,
    ),
    ErrorCode(
        "E111",
        "Content does not match type",
        "The file's content does not match its file type.",
        "Check that the file extension matches the document",
        415,
    ),
    ErrorCode(
        "E112",
        "Session required",
        "No valid session: it is missing, unknown, ended or expired.",
        "Create a session with POST /api/v1/sessions and send its cookie or bearer token",
        401,
    ),
    ErrorCode(
        "E113",
        "Too many requests",
        "Too many requests for this endpoint.",
        "Wait for the time given in Retry-After, then try again",
        429,
    ),
    ErrorCode(
        "E114",
        "Cross-site request refused",
        "A request from another site may not act with this browser's session cookie.",
        "Use the service's own page, or send the session as Authorization: Bearer <token>",
        403,
    ),
    ErrorCode(
        "E115",
        "Too many live streams",
        "Too many live event streams are open.",
        "Close another stream of this session, or poll with Accept: application/json",
        429,
    ),
    ErrorCode(
        "E116",
        "Format not produced",
        "This job was asked for other formats and did not produce this one.",
        "Download one of the job's formats, or submit the document again asking for this one",
        409,
    ),
    ErrorCode(
        "E117",
        "Too many unfinished jobs",
        "You already have as many jobs waiting or converting as one owner may have.",
        "Wait for some of your jobs to finish (or cancel some), then submit again after Retry-After",
        429,
    ),
    ErrorCode(
        "E118",
        "Waiting for your other conversions",
        "Your other conversions are running; this one starts as soon as one of them ends.",
        "Nothing to do: the job starts by itself",
        429,
    ),
    # -- the MCP path: the seed's JSON-RPC table -------------------------------------------
    ErrorCode(
        "E200", "Server communication error", "Server communication error", "Retry after 5 seconds", 502
    ),
    ErrorCode("E201", "Invalid request format", "Invalid request format", "Check request format", 502),
    ErrorCode("E202", "Unsupported operation", "Unsupported operation", "Verify MCP server version", 502),
    ErrorCode("E203", "Invalid parameters", "Invalid parameters", "Validate input parameters", 502),
    ErrorCode(
        "E204", "Server processing error", "Server processing error", "Contact support if persists", 502
    ),
    ErrorCode(
        "E205",
        "Document processing failed",
        "Document processing failed",
        "Retry with different document",
        422,
    ),
    # -- the MCP path: what the seed does not name -----------------------------------------
    ErrorCode(
        "E206",
        "Conversion service unreachable",
        "The conversion service could not be reached.",
        "Retry after 5 seconds",
        503,
    ),
    ErrorCode(
        "E207", "Conversion timed out", "The conversion took too long.", "Retry with a smaller document", 504
    ),
    ErrorCode(
        "E208",
        "Conversion result invalid",
        "The conversion service returned an unusable result.",
        "Verify MCP server version",
        502,
    ),
    ErrorCode(
        "E209",
        "Document too large",
        "The document is too large to convert: it expands past this service's memory, archive, "
        "row, cell or result limits.",
        "Split the document into smaller files (fewer rows, sheets, slides or pages) and submit each",
        422,
    ),
    ErrorCode(
        "E210",
        "Document too complex",
        "The document is too complex to convert: it needs more processing time than this service "
        "allows, or its structure is nested too deeply.",
        "Simplify the document (flatten nested elements, split long documents) and submit it again",
        422,
    ),
    ErrorCode(
        "E211",
        "Conversion service busy",
        "Every worker of the conversion service is busy; the job keeps its place and waits.",
        "Nothing to do: the job goes on by itself",
        503,
    ),
    # -- the system ------------------------------------------------------------------------
    ErrorCode(
        "E500", "Internal error", "Something went wrong on our side.", "Contact support if persists", 500
    ),
    ErrorCode(
        "E501",
        "Processing failed repeatedly",
        "The job could not be processed after repeated attempts.",
        "Submit the document again; contact support if it persists",
        500,
    ),
    ErrorCode("E503", "Service unavailable", "A dependency is unavailable.", "Retry shortly", 503),
)

JSONRPC_TO_APP = {-32700: "E200", -32600: "E201", -32601: "E202", -32602: "E203", -32603: "E204"}
# JSON-RPC errors that say the server is sick (not that our request was wrong): they count toward the
# circuit breaker. -32600/-32601/-32602 mean the request itself is at fault; retrying cannot help.
JSONRPC_TRIPS = {-32700: True, -32600: False, -32601: False, -32602: False, -32603: True}


@dataclass(frozen=True)
class McpFailure:
    """A way an MCP call can fail that is not a JSON-RPC error: its code and whether it trips the
    circuit breaker (a sick server) or fails only its job (a document the server cannot read)."""

    kind: str
    code: str
    trips: bool
    meaning: str


MCP_FAILURES = {
    f.kind: f
    for f in (
        McpFailure("transport", "E206", True, "connection refused, reset or closed; DNS or TLS failure"),
        McpFailure("timeout", "E207", True, "no answer within CONVERTER_MCP_TIMEOUT_S of running time"),
        McpFailure("garbled", "E200", True, "the answer is not HTTP/JSON-RPC (unparseable bytes)"),
        McpFailure("tool", "E205", False, "the tool ran and reported an error: the document is the problem"),
        McpFailure("result", "E208", False, "the tool answered without the fields the converter needs"),
    )
}


# Codes the project's MCP server puts in a tool error as "[E209] ..." when a document overruns a limit:
# the document's fault (never trips the circuit), with a recovery of its own instead of E205's.
DOCUMENT_LIMIT_CODES = ("E209", "E210")
_TAGGED = re.compile(r"\[(E2\d\d)\]")


def code_in_tool_error(text: str) -> str | None:
    """The document-limit code a tool error names ("[E209] ..."), or None (plain E205)."""
    found = _TAGGED.search(text)
    return found.group(1) if found and found.group(1) in DOCUMENT_LIMIT_CODES else None


def from_jsonrpc(code: int) -> ErrorCode:
    """Map a JSON-RPC error code to the application code (seed table; -32000..-32099 is E205)."""
    if code in JSONRPC_TO_APP:
        return CODES[JSONRPC_TO_APP[code]]
    if -32099 <= code <= -32000:
        return CODES["E205"]
    return CODES["E204"]


def jsonrpc_trips(code: int) -> bool:
    """Whether a JSON-RPC error counts toward the circuit breaker: server errors do, request errors not."""
    if code in JSONRPC_TRIPS:
        return JSONRPC_TRIPS[code]
    return True  # -32000..-32099 (server errors) and codes outside the table


def get(code: str) -> ErrorCode:
    return CODES[code]
