import pytest

from services.api.compat.options import CompatError, from_form, parse


def refused(raw: dict) -> CompatError:
    with pytest.raises(CompatError) as caught:
        parse(raw)
    return caught.value


def test_what_docling_s_client_sends_by_default_is_accepted() -> None:
    form = from_form(
        {"to_formats": ["md", "json"], "page_range": ["1", "9223372036854775807"], "target_type": ["inbody"]}
    )
    assert parse(form).to_formats == ("md", "json")


def test_no_options_mean_markdown() -> None:
    assert parse({}).to_formats == ("md",)


def test_an_option_not_applied_is_a_400_naming_it_unless_at_its_default() -> None:
    error = refused({"table_mode": "fast"})
    assert error.status == 400 and "'table_mode'" in error.detail and "'accurate'" in error.detail
    assert parse({"table_mode": "accurate", "pdf_backend": "docling_parse", "ocr_lang": []}).to_formats == (
        "md",
    )


def test_a_value_docling_refuses_is_a_422_naming_the_option() -> None:
    error = refused({"to_formats": ["md", "pdfx"]})
    assert error.status == 422 and "to_formats.1" in error.detail


def test_a_format_docling_has_but_we_do_not_produce_is_a_400() -> None:
    error = refused({"to_formats": ["yaml"]})
    assert error.status == 400 and "yaml" in error.detail


def test_applied_options_take_any_valid_value_and_unknown_names_are_ignored() -> None:
    parsed = parse({"do_ocr": False, "abort_on_error": True, "to_formats": "text", "no_such_option": 1})
    assert parsed.to_formats == ("text",)


def test_form_lists_may_repeat_or_be_one_json_list() -> None:
    assert from_form({"to_formats": ['["md", "html"]']})["to_formats"] == ["md", "html"]
    assert from_form({"to_formats": ["md", "html"]})["to_formats"] == ["md", "html"]
    assert from_form({"do_ocr": ["false"]})["do_ocr"] == "false"
    assert parse(from_form({"do_ocr": ["false"]})).values["do_ocr"] is False


def test_a_chunk_form_is_read_by_its_prefixes_and_ignores_to_formats() -> None:
    from services.api.compat import chunking

    asked = chunking.from_form(
        "hierarchical",
        {
            "convert_to_formats": ["doclang"],  # docling-serve ignores it on the chunk routes
            "convert_do_ocr": ["false"],
            "chunking_use_markdown_tables": ["true"],
            "chunking_max_tokens": ["128"],  # a hybrid option: ignored here, as by docling-serve
            "include_converted_doc": ["true"],
        },
    )
    assert asked.chunking.use_markdown_tables and not asked.chunking.include_raw_text
    assert asked.include_converted_doc and asked.target == "inbody"
    assert asked.convert.values["do_ocr"] is False
    assert asked.spec()["options"]["use_markdown_tables"] is True


def test_a_chunk_request_refuses_a_convert_option_not_applied_and_a_bad_chunker() -> None:
    from services.api.compat import chunking

    with pytest.raises(CompatError) as caught:
        chunking.request("hierarchical", {"table_mode": "fast"}, {}, False, "inbody")
    assert caught.value.status == 400 and "'table_mode'" in caught.value.detail
    with pytest.raises(CompatError) as caught:
        chunking.request("hierarchical", {}, {"chunker": "hybrid"}, False, "inbody")
    assert caught.value.status == 422 and "'chunking_options.chunker'" in caught.value.detail


def test_a_hybrid_request_takes_its_options_and_refuses_a_tokenizer_it_does_not_ship() -> None:
    from services.api.compat import chunking

    asked = chunking.from_form("hybrid", {"chunking_max_tokens": ["64"], "chunking_merge_peers": ["false"]})
    assert (asked.chunking.chunker, asked.chunking.max_tokens, asked.chunking.merge_peers) == (
        "hybrid",
        64,
        False,
    )
    assert asked.spec()["options"]["chunker"] == "hybrid"
    with pytest.raises(CompatError) as caught:
        chunking.request("hybrid", {}, {"tokenizer": "Qwen/Qwen3-Embedding-0.6B"}, False, "inbody")
    assert caught.value.status == 400 and "'chunking_options.tokenizer'" in caught.value.detail
    assert "Qwen/Qwen3-Embedding-0.6B" in caught.value.detail
    with pytest.raises(CompatError) as caught:
        chunking.request("hybrid", {}, {"max_tokens": 0}, False, "inbody")
    assert caught.value.status == 422 and "'chunking_options.max_tokens'" in caught.value.detail
