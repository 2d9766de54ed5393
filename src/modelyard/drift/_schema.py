"""The schema version every stored drift result carries, and the check its readers make."""

from __future__ import annotations

from typing import Any

from modelyard.errors import IntegrityError

__all__ = ["refuse_unreadable"]


def refuse_unreadable(data: Any, current: int, what: str) -> Any:
    """``data`` (the fields of a stored ``what``) if this modelyard reads its schema version;
    :class:`IntegrityError` for a newer or malformed one. A missing version is the current one."""
    if isinstance(data, dict):
        version = data.get("schema_version", current)
        if not isinstance(version, int) or isinstance(version, bool) or version > current:
            raise IntegrityError(
                f"this {what} has schema version {version!r}, which this modelyard does not read "
                f"(it reads up to {current}); upgrade modelyard to read it"
            )
    return data
