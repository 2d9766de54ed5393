"""``modelyard drift ...``: the drift commands."""

from __future__ import annotations

from modelyard.cli._app import Group

__all__ = ["add"]


def add(group: Group) -> None:
    """Declare the commands of this group."""
