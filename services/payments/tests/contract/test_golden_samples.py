"""What payments consumes and publishes agrees with the golden samples in libs/contracts."""
import json
from pathlib import Path

import taquilla_contracts
from payments_service.entrypoints.messaging.subscriptions import subscriptions
from taquilla_contracts import Envelope

SAMPLES = Path(taquilla_contracts.__file__).resolve().parents[2] / "samples"
CONSUMED = ("orders.order.placed.v1", "orders.order.cancelled.v1", "payments.refund_payment.v1")


def sample(name: str) -> Envelope:
    return Envelope.model_validate(json.loads((SAMPLES / f"{name}.json").read_text()))


def test_every_consumed_sample_has_a_handler_that_can_read_it():
    subs = subscriptions(None)
    for name in CONSUMED:
        golden = sample(name)
        handled = subs.by_type[(golden.type, golden.version)]
        assert handled.model.model_validate(golden.data).model_dump(mode="json") == golden.data
    assert subs.commands == ["payments.refund_payment"]
