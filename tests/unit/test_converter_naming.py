"""Results carry the uploaded file's name, not the storage hash the MCP server read."""

import json

from services.converter.naming import named

SHA = "a" * 64


def test_json_and_html_name_the_uploaded_file() -> None:
    outputs = {
        "markdown": "# x\n",
        "json": json.dumps({"name": SHA, "origin": {"filename": f"{SHA}.docx", "mimetype": "x"}}),
        "html": f"<html><head><title>{SHA}</title></head><body><title>keep</title></body></html>",
    }
    renamed = named(outputs, "Q3 <report>.docx")
    document = json.loads(renamed["json"])
    assert document["name"] == "Q3 <report>" and document["origin"]["filename"] == "Q3 <report>.docx"
    assert document["origin"]["mimetype"] == "x" and renamed["markdown"] == "# x\n"
    assert renamed["html"].startswith("<html><head><title>Q3 &lt;report&gt;</title></head>")
    assert renamed["html"].endswith("<title>keep</title></body></html>")


def test_what_is_not_a_document_is_left_alone() -> None:
    assert named({"json": "not json", "html": "<p>no title</p>"}, "r.docx") == {
        "json": "not json",
        "html": "<p>no title</p>",
    }
