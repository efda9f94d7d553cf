"""Every message type and version has a golden sample, and producers and consumers agree with it.

- consumer side: the sample parses into the message class (what a reader relies on is there);
- producer side: the class writes back exactly the sample's data (nothing renamed or dropped);
- change control: every field the class has is in the sample, so a new field means a new sample.
"""
import json
from pathlib import Path

import pytest
from taquilla_contracts import Envelope, message_class, registered_messages

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MESSAGES = sorted(registered_messages().items())


def load(type_: str, version: int) -> Envelope:
    return Envelope.model_validate(json.loads((SAMPLES / f"{type_}.v{version}.json").read_text()))


@pytest.mark.parametrize(("key", "model"), MESSAGES, ids=[f"{t}.v{v}" for (t, v), _ in MESSAGES])
def test_sample_round_trips_through_its_message_class(key, model):
    type_, version = key
    envelope = load(type_, version)
    assert (envelope.type, envelope.version, envelope.kind) == (type_, version, model.KIND)
    parsed = envelope.parse(model)
    assert parsed.model_dump(mode="json") == envelope.data
    assert set(model.model_fields) == set(envelope.data), "sample and class disagree on fields"


def test_no_sample_without_a_message_class():
    for path in SAMPLES.glob("*.json"):
        type_, _, version = path.stem.rpartition(".v")
        assert message_class(type_, int(version)) is not None, f"{path.name} has no message class"


def test_readers_ignore_fields_they_do_not_know():
    (type_, version), model = MESSAGES[0]
    envelope = load(type_, version)
    extended = envelope.data | {"added_in_a_later_release": {"any": "value"}}
    assert model.model_validate(extended).model_dump(mode="json") == envelope.data


def test_message_types_follow_the_naming_convention():
    for (type_, _), model in MESSAGES:
        parts = type_.split(".")
        if model.KIND == "event":
            assert len(parts) == 3, f"{type_}: events are <producer>.<aggregate>.<past-tense verb>"
        else:
            assert len(parts) == 2, f"{type_}: commands are <receiver>.<imperative>"
