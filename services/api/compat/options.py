"""docling-serve's conversion options: parsed from a form or JSON, checked against what we apply.

Pure code. The rule (see CLAUDE.md, "docling-serve compatibility"): an option docling-jobs applies
takes any valid value; an option it does not apply is accepted at its docling default only, and any
other value is a 400 naming the option. Names docling does not know are ignored, as docling-serve
ignores them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from services.api.compat.models import OutputFormat

PRODUCED_FORMATS = ("md", "json", "html", "text", "doctags")  # what a job's result can answer
MAX_PAGE = 9223372036854775807  # docling's DEFAULT_PAGE_RANGE = (1, sys.maxsize)
LIST_FIELDS = frozenset({"from_formats", "to_formats", "ocr_lang"})


class CompatError(Exception):
    """A request docling-serve's clients get a ``{"detail": ...}`` answer for."""

    def __init__(self, status: int, detail: str, code: str = "E100") -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code


class Options(BaseModel):
    """The options whose values are checked; defaults are docling's (ConvertDocumentsOptions)."""

    model_config = ConfigDict(extra="ignore")

    from_formats: list[str] | None = None
    to_formats: list[OutputFormat] = ["md"]
    image_export_mode: str = "placeholder"
    do_ocr: bool = True
    force_ocr: bool = False
    ocr_engine: str = "auto"
    ocr_preset: str = "auto"
    ocr_lang: list[str] | None = None
    pdf_backend: str = "docling_parse"
    table_mode: str = "accurate"
    pipeline: str = "standard"
    page_range: tuple[int, int] = (1, MAX_PAGE)
    document_timeout: float | None = None
    abort_on_error: bool = False
    include_images: bool = True
    images_scale: float = 2.0
    do_table_structure: bool = True
    do_code_enrichment: bool = False
    do_formula_enrichment: bool = False
    do_picture_classification: bool = False
    do_picture_description: bool = False
    do_chart_extraction: bool = False
    md_page_break_placeholder: str = ""

    @field_validator("to_formats", "from_formats", "ocr_lang", mode="before")
    @classmethod
    def one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


# options docling-jobs applies (any valid value), and those harmless at any value for what it converts
APPLIED = frozenset({"to_formats", "from_formats", "abort_on_error", "do_ocr"})
# docling's defaults for the rest; a pdf backend also has older names for the same default
DEFAULT_ALIASES = {"pdf_backend": {"docling_parse", "_docling_parse"}}


@dataclass(frozen=True)
class Parsed:
    to_formats: tuple[str, ...]
    values: dict[str, Any]


def parse(raw: Mapping[str, Any]) -> Parsed:
    """422 for a value docling itself refuses, 400 naming the first option we do not apply."""
    try:
        options = Options.model_validate(dict(raw))
    except ValidationError as error:
        raise CompatError(422, _validation_message(error)) from error
    given = set(raw) & set(Options.model_fields)
    for name in sorted(given - APPLIED):
        _check_default(name, getattr(options, name))
    unproduced = [f for f in options.to_formats if f not in PRODUCED_FORMATS]
    if unproduced:
        raise CompatError(
            400,
            f"Option 'to_formats': docling-jobs does not produce {', '.join(unproduced)}; "
            f"choose from {', '.join(PRODUCED_FORMATS)}.",
        )
    return Parsed(tuple(dict.fromkeys(options.to_formats)), options.model_dump())


def _check_default(name: str, value: Any) -> None:
    default = Options.model_fields[name].default
    accepted = DEFAULT_ALIASES.get(name, {default}) if isinstance(default, str) else [default]
    if (name == "ocr_lang" and not value) or any(value == a for a in accepted):
        return
    raise CompatError(
        400,
        f"Option '{name}' is not applied by docling-jobs: leave it at its default "
        f"({default!r}), got {value!r}.",
    )


def from_form(fields: Mapping[str, list[str]]) -> dict[str, Any]:
    """A multipart form's option fields as docling-serve reads them (lists repeat the field, nested
    values are JSON text)."""
    raw: dict[str, Any] = {}
    for name, values in fields.items():
        if name not in Options.model_fields:
            continue
        if name in LIST_FIELDS:
            raw[name] = [v for value in values for v in _split(value)]
        elif name == "page_range":
            raw[name] = values if len(values) == 2 else _json_or_text(values[-1])
        else:
            raw[name] = _json_or_text(values[-1]) if values[-1].startswith(("{", "[")) else values[-1]
    return raw


def _split(value: str) -> list[str]:
    """A list field may come as repeated fields or as one JSON list."""
    decoded = _json_or_text(value) if value.startswith("[") else value
    return [str(v) for v in decoded] if isinstance(decoded, list) else [value]


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "options"
        parts.append(f"Option '{where}': {item['msg']}")
    return "; ".join(parts)
