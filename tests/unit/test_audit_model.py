"""What an audit entry keeps of a request and its answer: secrets out, text both databases
store, bounded; and the outcome in a word."""

from __future__ import annotations

import json

from voltbook.audit.model import MAX_TEXT, clean_text, outcome_of, storable


def test_secrets_are_taken_out_of_what_is_kept() -> None:
    kept = clean_text(
        json.dumps(
            {
                "station_id": "S-1",
                "password": "the station secret",
                "response": {"key": "AuthorizationKey", "value": "41424344"},
            }
        ).encode()
    )
    assert kept is not None
    assert "the station secret" not in kept
    assert "41424344" not in kept
    assert json.loads(kept) == {
        "station_id": "S-1",
        "password": "***",
        "response": {"key": "AuthorizationKey", "value": "***"},
    }


def test_what_is_kept_is_bounded_and_storable_and_only_json() -> None:
    long = clean_text(json.dumps({"note": "x" * 10_000}).encode())
    assert long is not None
    assert len(long) == MAX_TEXT
    odd = clean_text(b'{"a": "\\ud800 and \\u0000"}')
    assert odd == '{"a":"? and \\u0000"}'
    assert clean_text(b"") is None
    assert clean_text(b"not json") is None
    assert storable("a\x00b") == "a?b"


def test_the_outcome_is_the_stations_word_or_the_problems_title() -> None:
    assert outcome_of(200, b'{"action": "Reset", "status": "Rejected"}') == "Rejected"
    assert outcome_of(409, b'{"title": "Station offline", "status": 409}') == "Station offline"
    assert outcome_of(201, b'{"station_id": "S-1", "password": "p"}') is None
    assert outcome_of(204, b"") is None
