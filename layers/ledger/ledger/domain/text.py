"""What text the ledger stores: checked before any write, so that no stored item can stop the history.

Metadata, descriptions and operations travel from a request into the account's item, the stream and the
history entries. A value DynamoDB or a reader cannot take (an empty map key, a string that is not valid
Unicode, an unbounded size) would commit with the write and then fail every reader after it, so each is
refused here, as an ``InvalidRequest``, before the write."""

from __future__ import annotations

import re
from typing import Any

from ledger.domain.errors import InvalidRequest

MAX_METADATA_ENTRIES = 10
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 256
MAX_DESCRIPTION = 200
OPERATION_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:\-]{0,63}$")


def is_text(value: object, min_length: int = 0, max_length: int | None = None) -> bool:
    """A str of valid Unicode (encodable as UTF-8: no lone surrogate) within the given length."""
    if not isinstance(value, str) or len(value) < min_length:
        return False
    if max_length is not None and len(value) > max_length:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def check_metadata(metadata: Any) -> dict[str, str] | None:
    """Metadata as stored: at most 10 entries; keys of 1 to 40 characters; values of at most 256."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be an object of strings")
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise InvalidRequest(f"metadata may have at most {MAX_METADATA_ENTRIES} entries")
    for key, value in metadata.items():
        if not is_text(key, 1, MAX_METADATA_KEY):
            raise InvalidRequest(f"metadata keys must be 1 to {MAX_METADATA_KEY} characters of valid text")
        if not is_text(value, 0, MAX_METADATA_VALUE):
            raise InvalidRequest(
                f"metadata values must be strings of at most {MAX_METADATA_VALUE} characters of valid text"
            )
    return metadata


def check_description(description: Any, max_length: int = MAX_DESCRIPTION) -> str | None:
    if description is not None and not is_text(description, 0, max_length):
        raise InvalidRequest(f"description must be at most {max_length} characters of valid text")
    return description


def check_operation(operation: Any) -> str | None:
    if operation is not None and not (isinstance(operation, str) and OPERATION_PATTERN.match(operation)):
        raise InvalidRequest(
            "operation must be 1-64 characters of a-z 0-9 _ . : - starting with a letter or digit"
        )
    return operation
