"""Each kind of refusal has its HTTP status, and the ones that say "later" say when."""

from __future__ import annotations

import json

from voltbook.api.problems import domain_problem
from voltbook.core.errors import Conflict, RateLimited, StorageBusy, Unavailable


def test_busy_storage_is_503_with_retry_after_and_a_problem_body() -> None:
    answer = domain_problem(StorageBusy(), "/api/v1/reservations")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.media_type == "application/problem+json"
    body = json.loads(answer.body)
    assert body["type"] == "urn:voltbook:problem:storage-busy"
    assert "nothing was changed" in body["detail"]


def test_rate_limits_say_when_to_come_back_and_conflicts_do_not() -> None:
    assert domain_problem(RateLimited("slow down", 42), "/x").headers["Retry-After"] == "42"
    for error in (Conflict("taken"), Unavailable("station offline")):
        answer = domain_problem(error, "/x")
        assert answer.status_code == 409
        assert "Retry-After" not in answer.headers
