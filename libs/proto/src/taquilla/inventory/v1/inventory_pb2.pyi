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
HOLD_STATUS_UNSPECIFIED: HoldStatus
HOLD_STATUS_HELD: HoldStatus
HOLD_STATUS_CONFIRMED: HoldStatus
HOLD_STATUS_RELEASED: HoldStatus
HOLD_STATUS_EXPIRED: HoldStatus

class GeneralAdmission(_message.Message):
    __slots__ = ("zone_id", "quantity")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    quantity: int
    def __init__(self, zone_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class HoldRequest(_message.Message):
    __slots__ = ("hold_id", "tenant_id", "session_id", "owner_id", "buyer_id", "ttl_seconds", "general")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GENERAL_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    tenant_id: str
    session_id: str
    owner_id: str
    buyer_id: str
    ttl_seconds: int
    general: GeneralAdmission
    def __init__(self, hold_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., buyer_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., general: _Optional[_Union[GeneralAdmission, _Mapping]] = ...) -> None: ...

class HeldUnit(_message.Message):
    __slots__ = ("unit_id", "zone_id", "label")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    zone_id: str
    label: str
    def __init__(self, unit_id: _Optional[str] = ..., zone_id: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("tenant_id", "session_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    session_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class ZoneAvailability(_message.Message):
    __slots__ = ("zone_id", "capacity", "available", "held", "sold")
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    SOLD_FIELD_NUMBER: _ClassVar[int]
    zone_id: str
    capacity: int
    available: int
    held: int
    sold: int
    def __init__(self, zone_id: _Optional[str] = ..., capacity: _Optional[int] = ..., available: _Optional[int] = ..., held: _Optional[int] = ..., sold: _Optional[int] = ...) -> None: ...

class Availability(_message.Message):
    __slots__ = ("session_id", "zones")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    zones: _containers.RepeatedCompositeFieldContainer[ZoneAvailability]
    def __init__(self, session_id: _Optional[str] = ..., zones: _Optional[_Iterable[_Union[ZoneAvailability, _Mapping]]] = ...) -> None: ...
