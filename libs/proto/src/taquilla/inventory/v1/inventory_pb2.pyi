import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HoldStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOLD_STATUS_UNSPECIFIED: _ClassVar[HoldStatus]
    HOLD_STATUS_HELD: _ClassVar[HoldStatus]
    HOLD_STATUS_CONFIRMED: _ClassVar[HoldStatus]
    HOLD_STATUS_RELEASED: _ClassVar[HoldStatus]
    HOLD_STATUS_EXPIRED: _ClassVar[HoldStatus]
    HOLD_STATUS_VOIDED: _ClassVar[HoldStatus]

class SeatStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEAT_STATUS_UNSPECIFIED: _ClassVar[SeatStatus]
    SEAT_STATUS_AVAILABLE: _ClassVar[SeatStatus]
    SEAT_STATUS_HELD: _ClassVar[SeatStatus]
    SEAT_STATUS_SOLD: _ClassVar[SeatStatus]
    SEAT_STATUS_BLOCKED: _ClassVar[SeatStatus]

class WaitlistStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAITLIST_STATUS_UNSPECIFIED: _ClassVar[WaitlistStatus]
    WAITLIST_STATUS_WAITING: _ClassVar[WaitlistStatus]
    WAITLIST_STATUS_OFFERED: _ClassVar[WaitlistStatus]
    WAITLIST_STATUS_LEFT: _ClassVar[WaitlistStatus]
    WAITLIST_STATUS_LAPSED: _ClassVar[WaitlistStatus]
    WAITLIST_STATUS_ACCEPTED: _ClassVar[WaitlistStatus]
HOLD_STATUS_UNSPECIFIED: HoldStatus
HOLD_STATUS_HELD: HoldStatus
HOLD_STATUS_CONFIRMED: HoldStatus
HOLD_STATUS_RELEASED: HoldStatus
HOLD_STATUS_EXPIRED: HoldStatus
HOLD_STATUS_VOIDED: HoldStatus
SEAT_STATUS_UNSPECIFIED: SeatStatus
SEAT_STATUS_AVAILABLE: SeatStatus
SEAT_STATUS_HELD: SeatStatus
SEAT_STATUS_SOLD: SeatStatus
SEAT_STATUS_BLOCKED: SeatStatus
WAITLIST_STATUS_UNSPECIFIED: WaitlistStatus
WAITLIST_STATUS_WAITING: WaitlistStatus
WAITLIST_STATUS_OFFERED: WaitlistStatus
WAITLIST_STATUS_LEFT: WaitlistStatus
WAITLIST_STATUS_LAPSED: WaitlistStatus
WAITLIST_STATUS_ACCEPTED: WaitlistStatus

class GeneralAdmission(_message.Message):
    __slots__ = ("zone_id", "quantity")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    quantity: int
    def __init__(self, zone_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class HoldRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "session_id", "owner_id", "buyer_id", "ttl_seconds", "general", "seats", "best_available")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GENERAL_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    BEST_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    session_id: str
    owner_id: str
    buyer_id: str
    ttl_seconds: int
    general: GeneralAdmission
    seats: SpecificSeats
    best_available: BestAvailable
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., buyer_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., general: _Optional[_Union[GeneralAdmission, _Mapping]] = ..., seats: _Optional[_Union[SpecificSeats, _Mapping]] = ..., best_available: _Optional[_Union[BestAvailable, _Mapping]] = ...) -> None: ...

class SpecificSeats(_message.Message):
    __slots__ = ("seat_ids",)
    SEAT_IDS_FIELD_NUMBER: _ClassVar[int]
    seat_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, seat_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BestAvailable(_message.Message):
    __slots__ = ("zone_id", "quantity")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    quantity: int
    def __init__(self, zone_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class HeldUnit(_message.Message):
    __slots__ = ("unit_id", "zone_id", "label", "seat_id", "row", "number")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SEAT_ID_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    zone_id: str
    label: str
    seat_id: str
    row: str
    number: str
    def __init__(self, unit_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., label: _Optional[str] = ..., seat_id: _Optional[str] = ..., row: _Optional[str] = ..., number: _Optional[str] = ...) -> None: ...

class HoldDetails(_message.Message):
    __slots__ = ("hold_id", "session_id", "status", "expires_at", "units")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    session_id: str
    status: HoldStatus
    expires_at: _timestamp_pb2.Timestamp
    units: _containers.RepeatedCompositeFieldContainer[HeldUnit]
    def __init__(self, hold_id: _Optional[str] = ..., session_id: _Optional[str] = ..., status: _Optional[_Union[HoldStatus, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., units: _Optional[_Iterable[_Union[HeldUnit, _Mapping]]] = ...) -> None: ...

class ExtendRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "owner_id", "ttl_seconds")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    owner_id: str
    ttl_seconds: int
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "owner_id", "reason")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    owner_id: str
    reason: str
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ConfirmRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "owner_id")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    owner_id: str
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner_id: _Optional[str] = ...) -> None: ...

class GetAvailabilityRequest(_message.Message):
    __slots__ = ("tenant_id", "session_id", "include_seats")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SEATS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    session_id: str
    include_seats: bool
    def __init__(self, tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., include_seats: _Optional[bool] = ...) -> None: ...

class ZoneAvailability(_message.Message):
    __slots__ = ("zone_id", "capacity", "available", "held", "sold", "blocked")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    SOLD_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    capacity: int
    available: int
    held: int
    sold: int
    blocked: int
    def __init__(self, zone_id: _Optional[str] = ..., capacity: _Optional[int] = ..., available: _Optional[int] = ..., held: _Optional[int] = ..., sold: _Optional[int] = ..., blocked: _Optional[int] = ...) -> None: ...

class SeatAvailability(_message.Message):
    __slots__ = ("unit_id", "seat_id", "zone_id", "label", "row", "number", "status")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    SEAT_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    seat_id: str
    zone_id: str
    label: str
    row: str
    number: str
    status: SeatStatus
    def __init__(self, unit_id: _Optional[str] = ..., seat_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., label: _Optional[str] = ..., row: _Optional[str] = ..., number: _Optional[str] = ..., status: _Optional[_Union[SeatStatus, str]] = ...) -> None: ...

class Availability(_message.Message):
    __slots__ = ("session_id", "zones", "seats")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    zones: _containers.RepeatedCompositeFieldContainer[ZoneAvailability]
    seats: _containers.RepeatedCompositeFieldContainer[SeatAvailability]
    def __init__(self, session_id: _Optional[str] = ..., zones: _Optional[_Iterable[_Union[ZoneAvailability, _Mapping]]] = ..., seats: _Optional[_Iterable[_Union[SeatAvailability, _Mapping]]] = ...) -> None: ...

class VoidRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "owner_id", "unit_ids", "reason")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    owner_id: str
    unit_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., unit_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchAvailabilityRequest(_message.Message):
    __slots__ = ("tenant_id", "session_id", "include_seats")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SEATS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    session_id: str
    include_seats: bool
    def __init__(self, tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., include_seats: _Optional[bool] = ...) -> None: ...

class AvailabilityChange(_message.Message):
    __slots__ = ("availability", "sequence")
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    availability: Availability
    sequence: int
    def __init__(self, availability: _Optional[_Union[Availability, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class JoinWaitlistRequest(_message.Message):
    __slots__ = ("entry_id", "tenant_id", "session_id", "zone_id", "buyer_id", "quantity", "contact_email")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    tenant_id: str
    session_id: str
    zone_id: str
    buyer_id: str
    quantity: int
    contact_email: str
    def __init__(self, entry_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., buyer_id: _Optional[str] = ..., quantity: _Optional[int] = ..., contact_email: _Optional[str] = ...) -> None: ...

class WaitlistEntryRequest(_message.Message):
    __slots__ = ("entry_id", "tenant_id", "buyer_id")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_ID_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    tenant_id: str
    buyer_id: str
    def __init__(self, entry_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., buyer_id: _Optional[str] = ...) -> None: ...

class WaitlistEntry(_message.Message):
    __slots__ = ("entry_id", "session_id", "zone_id", "quantity", "status", "position", "offer_hold_id", "offer_expires_at")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    OFFER_HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    OFFER_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    session_id: str
    zone_id: str
    quantity: int
    status: WaitlistStatus
    position: int
    offer_hold_id: str
    offer_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, entry_id: _Optional[str] = ..., session_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., quantity: _Optional[int] = ..., status: _Optional[_Union[WaitlistStatus, str]] = ..., position: _Optional[int] = ..., offer_hold_id: _Optional[str] = ..., offer_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnitSelection(_message.Message):
    __slots__ = ("units",)
    UNITS_FIELD_NUMBER: _ClassVar[int]
    units: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, units: _Optional[_Iterable[str]] = ...) -> None: ...

class BlockUnitsRequest(_message.Message):
    __slots__ = ("block_id", "tenant_id", "session_id", "label", "note", "actor_id", "general", "units")
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    GENERAL_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    block_id: str
    tenant_id: str
    session_id: str
    label: str
    note: str
    actor_id: str
    general: GeneralAdmission
    units: UnitSelection
    def __init__(self, block_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., label: _Optional[str] = ..., note: _Optional[str] = ..., actor_id: _Optional[str] = ..., general: _Optional[_Union[GeneralAdmission, _Mapping]] = ..., units: _Optional[_Union[UnitSelection, _Mapping]] = ...) -> None: ...

class BlockedUnit(_message.Message):
    __slots__ = ("unit_id", "label", "seat_id", "row", "number")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SEAT_ID_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    label: str
    seat_id: str
    row: str
    number: str
    def __init__(self, unit_id: _Optional[str] = ..., label: _Optional[str] = ..., seat_id: _Optional[str] = ..., row: _Optional[str] = ..., number: _Optional[str] = ...) -> None: ...

class Block(_message.Message):
    __slots__ = ("block_id", "session_id", "zone_id", "label", "note", "created_by", "created_at", "closed_at", "units", "released", "taken_by_holds", "hold_ids")
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    TAKEN_BY_HOLDS_FIELD_NUMBER: _ClassVar[int]
    HOLD_IDS_FIELD_NUMBER: _ClassVar[int]
    block_id: str
    session_id: str
    zone_id: str
    label: str
    note: str
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    units: _containers.RepeatedCompositeFieldContainer[BlockedUnit]
    released: int
    taken_by_holds: int
    hold_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, block_id: _Optional[str] = ..., session_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., label: _Optional[str] = ..., note: _Optional[str] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., units: _Optional[_Iterable[_Union[BlockedUnit, _Mapping]]] = ..., released: _Optional[int] = ..., taken_by_holds: _Optional[int] = ..., hold_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListBlocksRequest(_message.Message):
    __slots__ = ("tenant_id", "session_id", "include_closed")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    session_id: str
    include_closed: bool
    def __init__(self, tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class ListBlocksResponse(_message.Message):
    __slots__ = ("blocks",)
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    blocks: _containers.RepeatedCompositeFieldContainer[Block]
    def __init__(self, blocks: _Optional[_Iterable[_Union[Block, _Mapping]]] = ...) -> None: ...

class ReleaseBlockRequest(_message.Message):
    __slots__ = ("block_id", "tenant_id", "units", "quantity")
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    block_id: str
    tenant_id: str
    units: _containers.RepeatedScalarFieldContainer[str]
    quantity: int
    def __init__(self, block_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., units: _Optional[_Iterable[str]] = ..., quantity: _Optional[int] = ...) -> None: ...

class HoldFromBlockRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "block_id", "owner_id", "buyer_id", "ttl_seconds", "quantity", "units")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    block_id: str
    owner_id: str
    buyer_id: str
    ttl_seconds: int
    quantity: int
    units: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., block_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., buyer_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., quantity: _Optional[int] = ..., units: _Optional[_Iterable[str]] = ...) -> None: ...
