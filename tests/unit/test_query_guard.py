"""Query strings are text: a value with NUL, or bytes that are not UTF-8, is refused before any
route (or fast lane) sees it; every other value passes untouched."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from voltbook.api.body_guard import query_problem

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@given(before=_TEXT, after=_TEXT)
def test_a_value_with_nul_is_refused(before: str, after: str) -> None:
    query = f"q={quote_plus(before + chr(0) + after)}".encode()
    assert query_problem(query) is not None


@given(value=_TEXT)
def test_any_other_text_passes(value: str) -> None:
    assert query_problem(f"q={quote_plus(value)}&limit=5".encode()) is None


@given(value=st.binary(min_size=1).filter(lambda b: not _is_utf8(b)))
def test_bytes_that_are_not_utf8_are_refused(value: bytes) -> None:
    encoded = "".join(f"%{byte:02X}" for byte in value)
    assert query_problem(f"q={encoded}".encode()) is not None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
