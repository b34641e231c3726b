"""What the OpenAPI document cannot learn from a handler that reads its body as a stream."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

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
