"""The rules a hold obeys, without a database."""
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from inventory_service.domain.holds import (
    AlreadyWaiting,
    ConfirmedHold,
    ExpiredHold,
    HeldUnit,
    Hold,
    HoldRequest,
    HoldStatus,
    InvalidRequest,
    LimitExceeded,
    NotOwner,
    NotSold,
    ReleasedHold,
    SeatTaken,
    SoldOut,
    UnknownEntry,
    UnknownSeat,
    check_buyer_limit,
    check_enough,
    check_extendable,
    check_quantity,
    check_ttl,
    must_confirm,
    must_release,
    must_void,
    unit_label,
)
from inventory_service.entrypoints.grpc.errors import parse_id, status_code, trailing_metadata

NOW = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
OWNER = uuid.uuid4()


def hold(status: HoldStatus = HoldStatus.HELD, expires_in: float = 60) -> Hold:
    return Hold(hold_id=uuid.uuid4(), session_id=uuid.uuid4(), zone_id=uuid.uuid4(), quantity=2, owner_id=OWNER,
                status=status, expires_at=NOW + timedelta(seconds=expires_in))


@pytest.mark.parametrize("ttl", [0, -1, 3601])
def test_a_ttl_outside_one_second_to_the_maximum_is_refused(ttl):
    with pytest.raises(InvalidRequest) as refused:
        check_ttl(ttl, 3600)
    assert refused.value.field == "ttl_seconds"


def test_ttls_at_the_bounds_are_accepted():
    check_ttl(1, 3600)
    check_ttl(3600, 3600)


def test_the_per_order_limit_and_sold_out_say_what_is_possible():
    check_quantity(10, 10)
    with pytest.raises(LimitExceeded, match="at most 10"):
        check_quantity(11, 10)
    with pytest.raises(InvalidRequest):
        check_quantity(0, 10)
    check_enough(3, 3)
    with pytest.raises(SoldOut) as sold_out:
        check_enough(4, 3)
    assert sold_out.value.details == {"available": 3}
    assert "3 available" in sold_out.value.message


def test_only_the_owner_confirms_and_only_before_expiry():
    assert must_confirm(hold(), OWNER, NOW) is True
    with pytest.raises(NotOwner):
        must_confirm(hold(), uuid.uuid4(), NOW)
    with pytest.raises(ExpiredHold):
        must_confirm(hold(expires_in=0), OWNER, NOW)  # expiry is the last instant it is not valid
    with pytest.raises(ExpiredHold):
        must_confirm(hold(expires_in=-30), OWNER, NOW)  # lapsed, not yet swept
    with pytest.raises(ExpiredHold):
        must_confirm(hold(HoldStatus.EXPIRED, expires_in=30), OWNER, NOW)
    with pytest.raises(ReleasedHold):
        must_confirm(hold(HoldStatus.RELEASED), OWNER, NOW)
    assert must_confirm(hold(HoldStatus.CONFIRMED, expires_in=-600), OWNER, NOW) is False  # a repeat


def test_release_frees_held_units_once_and_never_sold_ones():
    assert must_release(hold(), OWNER) is True
    assert must_release(hold(HoldStatus.RELEASED), OWNER) is False
    assert must_release(hold(HoldStatus.EXPIRED), OWNER) is False
    with pytest.raises(ConfirmedHold):
        must_release(hold(HoldStatus.CONFIRMED), OWNER)
    with pytest.raises(NotOwner):
        must_release(hold(), uuid.uuid4())


def test_only_a_live_hold_is_extended():
    check_extendable(hold(), OWNER, NOW)
    with pytest.raises(ExpiredHold):
        check_extendable(hold(expires_in=-1), OWNER, NOW)
    with pytest.raises(ConfirmedHold):
        check_extendable(hold(HoldStatus.CONFIRMED), OWNER, NOW)


def test_a_retry_is_the_same_request_and_nothing_else():
    existing = hold()
    same = HoldRequest(existing.hold_id, existing.session_id, existing.zone_id, 2, OWNER, None, 300)
    assert existing.is_retry_of(same)
    assert not existing.is_retry_of(HoldRequest(existing.hold_id, existing.session_id, existing.zone_id, 3, OWNER,
                                                None, 300))
    assert not existing.is_retry_of(HoldRequest(existing.hold_id, existing.session_id, existing.zone_id, 2,
                                                uuid.uuid4(), None, 300))


def test_unit_labels_carry_the_zone_and_a_padded_number():
    assert unit_label("GA", 1, 25) == "GA-0001"
    assert unit_label("Pista", 12345, 20000) == "Pista-12345"


def test_refusals_map_to_precise_grpc_statuses_with_a_reason():
    sold_out = SoldOut("sold out: 4 asked, 3 available", available=3)
    assert status_code(sold_out) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert trailing_metadata(sold_out) == (("taquilla-error-reason", "sold_out"), ("taquilla-available", "3"))
    assert status_code(ExpiredHold("expired")) == grpc.StatusCode.FAILED_PRECONDITION
    assert status_code(NotOwner("no")) == grpc.StatusCode.PERMISSION_DENIED
    assert status_code(LimitExceeded("limit exceeded")) == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_ids_must_be_uuids():
    assert parse_id("0192f0c4-7a4e-7cc3-8f5e-6b1c6f1a2b3c", "hold_id") == uuid.UUID(
        "0192f0c4-7a4e-7cc3-8f5e-6b1c6f1a2b3c")
    assert parse_id("", "buyer_id", required=False) is None
    with pytest.raises(InvalidRequest) as refused:
        parse_id("", "hold_id")
    assert refused.value.field == "hold_id"
    with pytest.raises(InvalidRequest):
        parse_id("42", "session_id")


def test_a_buyer_limit_counts_what_they_already_hold_or_bought():
    check_buyer_limit(4, 6, 10)
    with pytest.raises(LimitExceeded) as refused:
        check_buyer_limit(5, 6, 10)
    assert refused.value.details == {"limit": 10, "already": 6}
    assert "per buyer" in refused.value.message


def test_only_the_owner_voids_and_only_what_was_sold():
    must_void(hold(HoldStatus.CONFIRMED), OWNER)
    must_void(hold(HoldStatus.VOIDED), OWNER)  # a repeat is harmless
    with pytest.raises(NotSold):
        must_void(hold(HoldStatus.HELD), OWNER)
    with pytest.raises(NotSold):
        must_void(hold(HoldStatus.EXPIRED), OWNER)
    with pytest.raises(NotOwner):
        must_void(hold(HoldStatus.CONFIRMED), uuid.uuid4())


def test_a_retry_of_seats_by_id_names_the_same_seats():
    seat_a, seat_b = uuid.uuid4(), uuid.uuid4()
    existing = Hold(hold_id=uuid.uuid4(), session_id=uuid.uuid4(), zone_id=uuid.uuid4(), quantity=2, owner_id=OWNER,
                    status=HoldStatus.HELD, expires_at=NOW,
                    units=(HeldUnit(uuid.uuid4(), uuid.uuid4(), "PLA-A1", seat_a, "A", "1"),
                           HeldUnit(uuid.uuid4(), uuid.uuid4(), "PLA-A2", seat_b, "A", "2")))

    def asking(*seats):
        return HoldRequest(existing.hold_id, existing.session_id, None, len(seats), OWNER, None, 300,
                           seat_ids=tuple(seats))

    assert existing.is_retry_of(asking(seat_a, seat_b))
    assert existing.is_retry_of(asking(existing.units[0].unit_id, seat_b))  # unit ids name the same seats
    assert not existing.is_retry_of(asking(seat_a, uuid.uuid4()))
    assert not existing.is_retry_of(asking(seat_a))


def test_seat_refusals_have_their_own_statuses():
    assert status_code(SeatTaken("seat taken: PLA-A1", seats="PLA-A1")) == grpc.StatusCode.FAILED_PRECONDITION
    assert trailing_metadata(SeatTaken("taken", seats="PLA-A1"))[0] == ("taquilla-error-reason", "seat_taken")
    assert status_code(UnknownSeat("no")) == grpc.StatusCode.NOT_FOUND
    assert status_code(NotSold("no")) == grpc.StatusCode.FAILED_PRECONDITION
    assert status_code(AlreadyWaiting("no")) == grpc.StatusCode.ALREADY_EXISTS
    assert status_code(UnknownEntry("no")) == grpc.StatusCode.NOT_FOUND


def test_a_voided_hold_was_sold_once_so_a_late_confirm_is_a_repeat_and_it_cannot_be_extended():
    assert must_confirm(hold(HoldStatus.VOIDED, expires_in=-60), OWNER, NOW) is False
    with pytest.raises(ConfirmedHold):
        check_extendable(hold(HoldStatus.VOIDED), OWNER, NOW)


def test_block_refusals_have_their_own_statuses():
    from inventory_service.domain.holds import BlockIdReused, NotInBlock, UnknownBlock

    assert status_code(UnknownBlock("no")) == grpc.StatusCode.NOT_FOUND
    assert status_code(BlockIdReused("no")) == grpc.StatusCode.ALREADY_EXISTS
    assert status_code(NotInBlock("no", units="GA-0001")) == grpc.StatusCode.FAILED_PRECONDITION
    assert trailing_metadata(NotInBlock("no", units="GA-0001")) == (
        ("taquilla-error-reason", "not_in_block"), ("taquilla-units", "GA-0001"))
