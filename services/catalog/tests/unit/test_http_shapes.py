"""The request schema, the cursor and the mapping of domain errors to problems (no I/O)."""
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from catalog_service.application.pagination import InvalidCursor, decode_cursor, encode_cursor
from catalog_service.domain.errors import EventAlreadyPublished, NumberedZonesUnavailable, OrganizerNotReady
from catalog_service.entrypoints.http.problems import as_problem
from catalog_service.entrypoints.http.schemas import CreateEventRequest
from pydantic import ValidationError

BODY = {
    "title": "Salsa al Parque", "venue_name": "Teatro Teresa Carreño", "time_zone": "America/Caracas",
    "starts_at": "2030-05-01T20:00:00-04:00", "currency": "usd",
    "zones": [{"name": "General", "capacity": 100, "price_minor": 2500}],
}


def error_locations(body: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as excinfo:
        CreateEventRequest.model_validate(body)
    return [e["loc"] for e in excinfo.value.errors()]


def test_a_valid_body_becomes_a_draft_with_defaults():
    draft = CreateEventRequest.model_validate(BODY).to_draft()
    assert draft.currency == "USD"
    assert draft.starts_at == datetime(2030, 5, 2, 0, 0, tzinfo=UTC)
    assert (draft.hold_ttl_seconds, draft.max_tickets_per_order) == (600, 10)
    assert draft.zones[0].kind == "general" and draft.zones[0].currency is None


@pytest.mark.parametrize(("change", "location"), [
    ({"starts_at": "2030-05-01T20:00:00"}, ("starts_at",)),
    ({"currency": "XYZ"}, ("currency",)),
    ({"time_zone": "Caracas"}, ("time_zone",)),
    ({"zones": [{"name": "General", "capacity": 0, "price_minor": 1}]}, ("zones", 0, "capacity")),
    ({"zones": [{"name": "General", "kind": "vip", "capacity": 1, "price_minor": 1}]}, ("zones", 0, "kind")),
    ({"zones": []}, ("zones",)),
    ({"hold_ttl_seconds": 4}, ("hold_ttl_seconds",)),
    ({"title": "   "}, ("title",)),
    ({"start": "2030-05-01T20:00:00Z"}, ("start",)),  # a misspelt field is an error, not silently ignored
])
def test_bad_bodies_name_the_field(change, location):
    assert error_locations({**BODY, **change}) == [location]


def test_cursors_round_trip_and_garbage_is_refused():
    event_id, starts_at = uuid.uuid4(), datetime(2030, 5, 2, tzinfo=UTC)
    assert decode_cursor(encode_cursor(starts_at, event_id)) == (starts_at, event_id)
    for garbage in ("", "not-a-cursor", "W10", encode_cursor(starts_at, event_id)[:-3]):
        with pytest.raises(InvalidCursor):
            decode_cursor(garbage)


def test_domain_errors_become_precise_problems():
    not_ready = as_problem(OrganizerNotReady("t"))
    assert (not_ready.status, not_ready.type, not_ready.headers) == (409, "organizer-not-ready", {"Retry-After": "1"})
    assert as_problem(EventAlreadyPublished("e")).type == "event-already-published"
    numbered = as_problem(NumberedZonesUnavailable("zones.0.kind", "Platea"))
    assert numbered.status == 422 and numbered.errors == [{"field": "zones.0.kind", "detail": numbered.detail}]
    assert "not available yet" in numbered.title


def test_numbered_zones_recurrences_and_images_are_read_from_the_body():
    body = {**BODY, "category": "music", "tags": [" Salsa ", "salsa", "BAILE"],
            "recurrence": {"starts_on": "2030-05-08", "at": "20:00", "weekdays": ["friday"], "count": 8},
            "images": [{"url": "https://cdn.example.com/a.jpg", "role": "cover"}],
            "zones": [{"name": "Platea", "kind": "numbered", "price_minor": 100, "row_adjustments": {"A": "12.5"},
                       "layout": {"rows": 2, "seats_per_row": 4, "numbering": "rtl", "prefix": "P",
                                  "tables": [{"label": "M1", "seats": 4}]}}]}
    draft = CreateEventRequest.model_validate(body).to_draft()
    assert draft.tags == ("salsa", "baile")
    assert len(draft.session_starts()) == 9
    zone = draft.zones[0]
    assert zone.sellable_capacity() == 12 and zone.row_adjustments[0][1] == Decimal("12.5")
    assert [s.label for s in zone.seats()[:4]] == ["PA-4", "PA-3", "PA-2", "PA-1"]
    assert error_locations({**BODY, "images": [{"url": "not a url"}]}) == [("images", 0, "url")]
    assert error_locations({**BODY, "recurrence": {"starts_on": "2030-05-08", "at": "20:00",
                                                   "weekdays": ["viernes"], "count": 2}}) == [
        ("recurrence", "weekdays", 0)]
    assert error_locations({**BODY, "zones": [{"name": "P", "kind": "numbered", "price_minor": 1,
                                               "layout": {"rows": 201, "seats_per_row": 1}}]}) == [
        ("zones", 0, "layout", "rows")]
