"""What the OpenAPI document cannot learn from a handler that reads its body as a stream."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

from contracts import errors

UPLOAD_BODY = RequestBody(
    required=True,
    description="One part named file: the document (its name's extension decides its type).",
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                required=["file"],
                properties={"file": Schema(type=OpenAPIType.STRING, format="binary")},
            )
        )
    },
)


@dataclass
class UploadOperation(Operation):
    """The submit operation: a multipart body the handler parses itself, as it streams."""

    def __post_init__(self) -> None:
        if self.request_body is None:
            self.request_body = UPLOAD_BODY


PROBLEM_MEDIA_TYPE = "application/problem+json"

# a session, presented either way (see services/api/guard.py)
COMPONENTS = Components(
    security_schemes={
        "session_bearer": SecurityScheme(
            type="http", scheme="bearer", description="The session id from POST /api/v1/sessions"
        ),
        "session_cookie": SecurityScheme(
            type="apiKey",
            name="docling_session",
            security_scheme_in="cookie",
            description="The HttpOnly cookie POST /api/v1/sessions sets",
        ),
    }
)
SESSION_REQUIRED = [{"session_bearer": []}, {"session_cookie": []}]


@dataclass
class ProblemDetails:
    """RFC 9457 problem+json, as every error of this API is answered (``services/api/problems.py``)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    recovery: str | None
    instance: str


# what any route can answer: too many requests, a dependency away, a fault of ours
ANY_ROUTE = ("E113", "E503", "E500")
WITH_SESSION = ("E112", *ANY_ROUTE)
ROUTE_CODES = {
    "createSession": ANY_ROUTE,
    "getSession": WITH_SESSION,
    "endSession": WITH_SESSION,
    "submitJob": ("E100", "E101", "E102", "E103", "E109", "E110", "E111", "E117", *WITH_SESSION),
    "listJobs": ("E100", *WITH_SESSION),
    "getJob": ("E100", "E104", *WITH_SESSION),
    "streamJobEvents": ("E100", "E104", *WITH_SESSION),
    "cancelJob": ("E100", "E104", "E108", *WITH_SESSION),
    "getJobResult": ("E100", "E104", "E105", "E106", "E116", *WITH_SESSION),
}


def problems(operation_id: str) -> dict[int, ResponseSpec]:
    """The error answers of one operation, one per HTTP status, naming each code, its meaning and
    its recovery action; they replace Litestar's default 400 (another shape)."""
    by_status: dict[int, list[errors.ErrorCode]] = {}
    for code in ROUTE_CODES[operation_id]:
        entry = errors.get(code)
        by_status.setdefault(entry.http_status, []).append(entry)
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
            description="; ".join(f"{e.code} {e.title}: {e.message} Recovery: {e.recovery}" for e in entries),
        )
        for status, entries in sorted(by_status.items())
    }
