"""The OpenAPI document describes the errors as the API answers them: problem+json with a code."""

import re
from typing import Any

import pytest

from services.api.entrypoint import create_app
from services.api.openapi import ROUTE_CODES


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app().openapi_schema.to_schema()


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}


def test_every_error_answer_is_problem_json_with_its_codes(schema: dict[str, Any]) -> None:
    documented = operations(schema)
    for operation_id, codes in ROUTE_CODES.items():
        errors = {s: r for s, r in documented[operation_id]["responses"].items() if int(s) >= 400}
        assert errors, operation_id
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (operation_id, status)
            assert response["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/ProblemDetails"
            }
        described = " ".join(r["description"] for r in errors.values())
        assert all(code in described for code in codes), operation_id


def test_the_problem_shape_is_the_one_answered(schema: dict[str, Any]) -> None:
    shape = schema["components"]["schemas"]["ProblemDetails"]
    assert set(shape["properties"]) == {"type", "title", "status", "detail", "code", "recovery", "instance"}
    assert "status_code" not in str(schema)  # Litestar's own error shape is documented nowhere
    result = operations(schema)["getJobResult"]["responses"]
    assert "E105" in result["409"]["description"] and "E106" in result["409"]["description"]
    submit = operations(schema)["submitJob"]["responses"]
    assert "E111" in submit["415"]["description"] and "E109" in submit["400"]["description"]


def test_the_docs_page_loads_only_what_the_api_serves() -> None:
    from tests.unit.test_api_routes import client, fakes

    with client(fakes()) as http:
        page = http.get("/schema")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        referenced = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert len(referenced) >= 4  # the script, the preset, the style and the icon
        assert not re.search(r"https?://", page.text)  # no CDN, no other host
        for url in referenced:
            asset = http.get(url)
            assert asset.status_code == 200 and asset.content, url
        assert http.get("/schema/openapi.json").json()["info"]["title"] == "docling-jobs"
