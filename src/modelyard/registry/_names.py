"""Model names are unique under case folding and Unicode normalisation.

On a case-insensitive filesystem (macOS, Windows) ``models/Churn`` and ``models/churn`` are one
folder, so two names that differ only in case would share one log. Every model name therefore
claims its folded form (NFKC, then case folded) with an exclusive ``create`` of
``models/_names/<folded>``, which holds the name that owns it. The store's exclusive create is the
arbiter: of any number of writers racing to create ``churn`` and ``Churn``, exactly one claim
lands, and every other writer reads the owner and is refused with an error that names it.

A writer claims a name before the model's first chained event. Models registered before claims
existed own no claim yet; their index entry (``models/_index/<name>``) decides who gets the
folded name the first time a new writer claims it, so they keep their name.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading

from modelyard._internal.canonical import canonical_json
from modelyard._internal.text import fold
from modelyard.errors import InputError, IntegrityError, KeyExistsError, NotFoundError
from modelyard.registry._layout import INDEX, NAMES
from modelyard.storage import Store

__all__ = ["NameClaims", "claim_key", "fold", "name_taken"]

CLAIM_SCHEMA_VERSION = 1
_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def claim_key(name: str) -> str:
    """The key of the claim on ``name``'s folded form."""
    folded = fold(name)
    if _SAFE.match(folded):
        return NAMES + folded
    # A folded form that is not a plain key segment (NFKC can turn a character into "/") is
    # stored under its digest, which cannot leave the folder.
    return NAMES + "sha256-" + hashlib.sha256(folded.encode()).hexdigest()


def name_taken(name: str, owner: str) -> InputError:
    """The error for writing ``name`` when ``owner`` owns its folded form."""
    return InputError(
        f"cannot write model {name!r}: model {owner!r} exists, and model names are unique "
        "ignoring case and Unicode form (they share storage on case-insensitive filesystems). "
        f"Use {owner!r}, or pick a distinct name",
        name=name,
        existing=owner,
    )


class NameClaims:
    """Reads and makes claims on folded model names (thread-safe; claims never change)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._owners: dict[str, str] = {}
        self._listed_by_fold: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def owner(self, name: str) -> str | None:
        """The model that owns ``name``'s folded form, or None if nobody claimed it yet."""
        key = claim_key(name)
        with self._lock:
            known = self._owners.get(key)
        if known is not None:
            return known
        try:
            raw = self.store.read(key)
        except NotFoundError:
            return None
        try:
            doc = json.loads(raw)
            schema, owner = doc["schema_version"], doc["name"]
        except (ValueError, KeyError, TypeError):
            schema = owner = None
        if isinstance(schema, int) and schema > CLAIM_SCHEMA_VERSION:
            raise IntegrityError(
                f"{key} was written by a newer modelyard (schema_version {schema}): upgrade "
                "modelyard to write to this model",
                key=key,
                schema_version=schema,
            )
        if not isinstance(owner, str) or fold(owner) != fold(name):
            raise IntegrityError(
                f"{key} is not a valid name claim; the registry was edited or damaged. "
                "registry.verify() lists every problem",
                key=key,
            )
        with self._lock:
            self._owners[key] = owner
        return owner

    def claim(self, name: str) -> None:
        """Make ``name`` the owner of its folded form; :class:`InputError` naming the owner if
        another name has it."""
        owner = self.owner(name)
        if owner is None:
            key, owner = claim_key(name), self._listed_owner(name) or name
            try:
                self.store.create(
                    key, canonical_json({"schema_version": CLAIM_SCHEMA_VERSION, "name": owner})
                )
            except KeyExistsError:
                owner = self.owner(name) or owner  # another writer claimed it first: it decides
            else:
                with self._lock:
                    self._owners[key] = owner
        if owner != name:
            raise name_taken(name, owner)

    def listed(self, name: str) -> bool:
        """Whether ``name`` itself (in this exact spelling) has an index entry."""
        return INDEX + name in self.store.list(INDEX + name)

    def listed_alike(self, name: str) -> list[str]:
        """Indexed names other than ``name`` that fold like it."""
        folded = fold(name)
        names = (key[len(INDEX) :] for key in self.store.list(INDEX))
        return [other for other in names if other != name and fold(other) == folded]

    def _listed_owner(self, name: str) -> str | None:
        # Models registered before claims existed keep their name: the indexed spelling wins.
        # Only a modelyard from before claims lists a name without claiming it, so one listing
        # per process finds them all; names listed since then were claimed.
        with self._lock:
            by_fold = self._listed_by_fold
        if by_fold is None:
            by_fold = {}
            for key in self.store.list(INDEX):
                by_fold.setdefault(fold(key[len(INDEX) :]), []).append(key[len(INDEX) :])
            with self._lock:
                self._listed_by_fold = by_fold
        spellings = by_fold.get(fold(name), [])
        if name in spellings:
            return name
        return spellings[0] if spellings else None
