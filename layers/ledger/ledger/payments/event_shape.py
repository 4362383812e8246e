"""The shape a signed Stripe event must have before we act on it.

A signature proves who sent a body, not that we can read it. An event of another shape (a list, no ``data``,
``object: null``, an amount or ``created`` given as a string, an ``account_id`` that is not a string) can
never be processed, however often Stripe retries it, so it is refused here with ``UnreadableEvent`` (400) and
parked for an operator; only what a retry can help answers 5xx."""

from __future__ import annotations

from typing import Any

from ledger.domain.errors import LedgerError

INTEGER_FIELDS = ("amount", "amount_received", "amount_total", "amount_refunded", "created")
TEXT_FIELDS = (
    "id",
    "object",
    "currency",
    "status",
    "payment_status",
    "payment_intent",
    "payment_method",
    "charge",
    "customer",
)
METADATA_KEYS = ("account_id", "purchase_id", "credits", "kind")


class UnreadableEvent(LedgerError):
    """A signed Stripe event whose shape we cannot act on."""

    code = "unreadable_event"


def _is_int(value: Any) -> bool:
    return type(value) is int


def check_envelope(event: Any) -> dict[str, Any]:
    """The event, if it is an object with a string ``type``, an integer ``created`` and an ``id``."""
    if not isinstance(event, dict):
        raise UnreadableEvent("the event is not a JSON object")
    if not isinstance(event.get("type"), str):
        raise UnreadableEvent("the event has no type")
    if not isinstance(event.get("id"), str):
        raise UnreadableEvent("the event has no id")
    if "created" in event and not _is_int(event["created"]):
        raise UnreadableEvent("the event's created is not an integer")
    return event


def check_object(event: dict[str, Any]) -> dict[str, Any]:
    """``data.object`` of an event we act on, if every field we read has the type Stripe gives it."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise UnreadableEvent("the event has no data.object")
    if not isinstance(obj.get("id"), str):
        raise UnreadableEvent("data.object has no id")
    for name in INTEGER_FIELDS:
        if obj.get(name) is not None and not _is_int(obj[name]):
            raise UnreadableEvent(f"data.object.{name} is not an integer")
    for name in TEXT_FIELDS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise UnreadableEvent(f"data.object.{name} is not a string")
    metadata = obj.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise UnreadableEvent("data.object.metadata is not an object")
        for key in METADATA_KEYS:
            if metadata.get(key) is not None and not isinstance(metadata[key], str):
                raise UnreadableEvent(f"data.object.metadata.{key} is not a string")
    error = obj.get("last_payment_error")
    if error is not None and not isinstance(error, dict):
        raise UnreadableEvent("data.object.last_payment_error is not an object")
    return obj
