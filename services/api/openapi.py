"""What the OpenAPI document cannot learn from a handler that reads its body as a stream."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

UPLOAD_BODY = RequestBody(
    required=True,
    description="One part named file: the document (its name's extension decides its type).",
    content={"multipart/form-data": OpenAPIMediaType(
        schema=Schema(type=OpenAPIType.OBJECT, required=["file"],
                      properties={"file": Schema(type=OpenAPIType.STRING, format="binary")}))},
)


@dataclass
class UploadOperation(Operation):
    """The submit operation: a multipart body the handler parses itself, as it streams."""

    def __post_init__(self) -> None:
        if self.request_body is None:
            self.request_body = UPLOAD_BODY
