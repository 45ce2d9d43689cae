"""Draw and the playground accept the same picture formats and state the same true limit."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import images

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page, state", [("playground.py", {"pg_source": "Upload"}),
                                         ("draw.py", {"draw_source": "Upload a picture"})])
def test_upload_fields_accept_every_format_and_state_the_limit(page, state):
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    (field,) = at.get("file_uploader")
    assert [t.lstrip(".") for t in field.proto.type] == list(images.UPLOAD_TYPES)
    assert "webp" in images.UPLOAD_TYPES and field.proto.help == images.UPLOAD_HELP
