"""Taquilla's integration messages. Only these (and the .proto files) cross a service boundary."""
from .envelope import Command, Envelope, Event, Message, message_class, registered_messages

__all__ = ["Command", "Envelope", "Event", "Message", "message_class", "registered_messages"]
