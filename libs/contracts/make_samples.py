"""Write a golden sample for every message type and version that has none yet (never overwrites).

    python libs/contracts/make_samples.py

A sample is a whole envelope with realistic values. Review it before committing: from then on it is
the contract that producers and consumers are tested against.
"""
from __future__ import annotations

import json
import types
import typing
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from taquilla_contracts import Envelope, registered_messages

SAMPLES = Path(__file__).parent / "samples"
TENANT = uuid.UUID("0192f5a0-0000-7000-8000-00000000a001")
WHEN = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)


def example(annotation, name: str, seed: int):
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return example(next(a for a in typing.get_args(annotation) if a is not type(None)), name, seed)
    if origin is list:
        return [example(typing.get_args(annotation)[0], name, seed + i) for i in range(2)]
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {f: example(info.annotation, f, seed + i) for i, (f, info) in enumerate(annotation.model_fields.items())}
    if annotation is uuid.UUID:
        return str(uuid.UUID(int=(0x0192F5A0 << 96) | (0x7 << 76) | (0b10 << 62) | seed))
    if annotation is datetime:
        return WHEN.isoformat()
    if annotation is int:
        return {"quantity": 2, "capacity": 500, "number": 1}.get(name, 2500)
    if annotation is str:
        return {"currency": "USD", "email": "ana.perez@example.com", "country": "VE", "time_zone":
                "America/Caracas", "kind": "general", "channel": "email"}.get(name, f"{name}-example")
    if annotation is bool:
        return True
    raise TypeError(f"no example for {annotation!r} ({name})")


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    for (type_, version), model in sorted(registered_messages().items()):
        path = SAMPLES / f"{type_}.v{version}.json"
        if path.exists():
            continue
        data = model.model_validate(example(model, type_, 1))
        envelope = Envelope.wrap(data, source=type_.split(".")[0], tenant_id=TENANT, correlation_id="order-example")
        body = envelope.model_dump(mode="json") | {"id": "0192f5a0-0000-7000-8000-0000000000e1",
                                                   "occurred_at": WHEN.isoformat()}
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {path.name}")


if __name__ == "__main__":
    main()
