"""The web page's file picker offers exactly what the API accepts."""

from __future__ import annotations

import re
from pathlib import Path

from contracts.formats import INPUT_TYPES

PAGE = Path(__file__).parents[2] / "services" / "api" / "static" / "index.html"


def test_the_file_picker_accepts_every_input_type_and_no_other() -> None:
    accept = re.search(r'<input type="file"[^>]* accept="([^"]+)"', PAGE.read_text()).group(1)
    assert sorted(accept.split(",")) == sorted(INPUT_TYPES)
