"""The built-in `test` provider: the caller chooses the outcome, no money moves."""
from __future__ import annotations

from typing import Literal

from .base import ChargeRequest, ChargeResult, ChargeStatus

TestOutcome = Literal["succeed", "decline"]
TEST_OUTCOMES: tuple[TestOutcome, ...] = ("succeed", "decline")


class TestProvider:
    __test__ = False  # not a pytest test class
    name = "test"

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        outcome = request.instructions.get("outcome", "succeed")
        if outcome not in TEST_OUTCOMES:
            raise ValueError(f"the test provider has no outcome {outcome!r}")
        reference = f"test_{request.payment_id.hex}"
        if outcome == "decline":
            return ChargeResult(ChargeStatus.DECLINED, reference, method="test",
                                reason="declined by the test provider, as the request asked")
        return ChargeResult(ChargeStatus.CAPTURED, reference, method="test")
