"""Instance id rules shared by the client, the stores and the CLI."""

from __future__ import annotations

import hashlib
import uuid

from durableflow.core.errors import InvalidInstanceIdError

MAX_INSTANCE_ID_LENGTH = 256


def validate_instance_id(instance_id: object) -> str:
    """Return ``instance_id`` if it is a usable id, else raise :class:`InvalidInstanceIdError`.

    An id is a non-empty ``str`` of at most 256 characters with no control characters.
    """
    if not isinstance(instance_id, str):
        raise InvalidInstanceIdError(f"instance id must be a str, got {type(instance_id).__name__}")
    if not instance_id:
        raise InvalidInstanceIdError("instance id must not be empty")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise InvalidInstanceIdError(
            f"instance id is {len(instance_id)} characters; the limit is {MAX_INSTANCE_ID_LENGTH}"
        )
    for pos, ch in enumerate(instance_id):
        if ord(ch) < 32 or ord(ch) == 127:
            raise InvalidInstanceIdError(
                f"instance id contains control character {ch!r} at position {pos}; "
                "use printable characters only"
            )
    return instance_id


def new_instance_id() -> str:
    """A fresh random instance id (the client's default)."""
    return uuid.uuid4().hex


_DIGEST_CHARS = 32


def child_instance_id(parent_id: str, seq: int) -> str:
    """The default id of the sub-orchestration a parent starts at sequence number ``seq``.

    ``"<parent id>:<seq>"`` while that fits in 256 characters. Beyond, the parent part is
    cut and followed by ``~`` and 32 hex digits of the SHA-256 of the whole parent id, so
    the id stays within the limit at any depth, is the same on every replay, and stays
    distinct for distinct parents (two parents sharing the cut prefix differ in the digest).
    """
    child = f"{parent_id}:{seq}"
    if len(child) <= MAX_INSTANCE_ID_LENGTH:
        return child
    suffix = f":{seq}"
    digest = hashlib.sha256(parent_id.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    keep = MAX_INSTANCE_ID_LENGTH - len(suffix) - _DIGEST_CHARS - 1
    return f"{parent_id[:keep]}~{digest}{suffix}"
