"""API fuzzing at volume: schemathesis over /openapi.json, 50 generated cases of every
documented operation as a driver and as an operator (over 1,000 cases each; a share of them
with VOLTBOOK_LONG_SHARE). Promise: 0 answers 5xx and 0 answers that contradict the document
(status codes, content types, bodies, `Allow` headers). The short variant is
tests/e2e/test_openapi_contract.py."""

from __future__ import annotations

import pytest

from tests.e2e.test_openapi_contract import (
    DRIVER,
    OPERATOR,
    fuzz_api,
    served_in_a_thread,
    sign_in,
)
from tests.reliability.volume import long_share

__all__ = ["served_in_a_thread"]
PER_OPERATION = long_share(50)


@pytest.mark.long
@pytest.mark.parametrize("who", [DRIVER, OPERATOR])
def test_a_thousand_cases_and_more_per_role_answer_within_the_contract(
    served_in_a_thread: str, who: str
) -> None:
    sent = fuzz_api(served_in_a_thread, sign_in(served_in_a_thread, who), PER_OPERATION)
    print(f"{who}: {sent} cases, every answer within the contract")
    assert sent >= 1_000
