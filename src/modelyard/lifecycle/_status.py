"""What a decision looks at: a model's versions, their states, approvals, and the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelyard._internal.names import validate_name
from modelyard.errors import ConcurrentModificationError, InputError, NotFoundError
from modelyard.lifecycle._values import (
    FrozenMap,
    freeze_mapping,
    require_aware,
    require_text,
    require_version,
)

if TYPE_CHECKING:
    from modelyard.lifecycle._changes import StateChange

__all__ = ["Approval", "ModelStatus", "TransitionRequest", "VersionStatus"]


@dataclass(frozen=True)
class VersionStatus:
    """One version of a model as the lifecycle sees it: its number, state, metrics and tags.

    >>> VersionStatus(3, "staging", metrics={"auc": 0.91}, tags={"team": "risk"})
    VersionStatus(version=3, state='staging', metrics={'auc': 0.91}, tags={'team': 'risk'})
    """

    version: int
    state: str
    metrics: Mapping[str, float] = field(default_factory=FrozenMap)
    tags: Mapping[str, str] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        require_version(self.version)
        validate_name(self.state, kind="state")
        metrics = freeze_mapping(self.metrics, what="metrics")
        for key, value in metrics.items():
            if (
                not isinstance(key, str)
                or isinstance(value, bool)
                or not isinstance(value, (int, float))
            ):
                raise InputError(
                    f"metric {key!r} of version {self.version} must be a number, got {value!r}",
                    what="metrics",
                )
        object.__setattr__(self, "metrics", FrozenMap({k: float(v) for k, v in metrics.items()}))
        tags = freeze_mapping(self.tags, what="tags")
        for tag, text in tags.items():
            if not isinstance(tag, str) or not isinstance(text, str):
                raise InputError(
                    f"tags of version {self.version} must map str to str, got {tag!r}: {text!r}",
                    what="tags",
                )
        object.__setattr__(self, "tags", tags)


@dataclass(frozen=True)
class Approval:
    """A sign-off by ``actor`` for moving exactly ``version`` to exactly ``target``.

    An approval never counts for another version or another target state. ``role`` is only checked
    by guards that name roles; ``at`` (timezone-aware) is checked by guards with a maximum age.

    >>> from datetime import datetime, timezone
    >>> a = Approval(3, "production", "lee", datetime(2025, 1, 2, tzinfo=timezone.utc), role="qa")
    >>> Approval.from_dict(a.to_dict()) == a
    True
    """

    version: int
    target: str
    actor: str
    at: datetime
    role: str | None = None
    comment: str = ""

    def __post_init__(self) -> None:
        require_version(self.version)
        validate_name(self.target, kind="state")
        require_text(self.actor, what="approval actor")
        require_aware(self.at, what="approval time")
        if self.role is not None:
            require_text(self.role, what="approval role")
        if not isinstance(self.comment, str):
            raise InputError(f"approval comment must be a string, got {self.comment!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; the time is an ISO 8601 string with its UTC offset."""
        return {
            "version": self.version,
            "target": self.target,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "role": self.role,
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        """Rebuild an approval from :meth:`to_dict` output."""
        at = data["at"]
        return cls(
            version=data["version"],
            target=data["target"],
            actor=data["actor"],
            at=datetime.fromisoformat(at) if isinstance(at, str) else at,
            role=data.get("role"),
            comment=data.get("comment", ""),
        )


@dataclass(frozen=True)
class TransitionRequest:
    """A request to move ``version`` to ``target``, made by ``actor`` at time ``at``.

    ``context`` carries whatever guards need that is not part of the model's stored state, for
    example ``{"drift_report": report}`` for :func:`~modelyard.lifecycle.drift_clean`. It is
    copied into a read-only mapping (the objects inside are not copied), and it makes the request
    unhashable when it holds unhashable objects. ``at`` must be timezone-aware.

    >>> from datetime import datetime, timezone
    >>> r = TransitionRequest(3, "production", "ana", datetime(2025, 1, 1, tzinfo=timezone.utc),
    ...                       reason="offline eval passed")
    >>> r.target, r.actor, dict(r.context)
    ('production', 'ana', {})
    >>> TransitionRequest(3, "production", "ana", datetime(2025, 1, 1))
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: request time must be timezone-aware ...
    """

    version: int
    target: str
    actor: str
    at: datetime
    reason: str = ""
    context: Mapping[str, Any] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        require_version(self.version)
        validate_name(self.target, kind="state")
        require_text(self.actor, what="actor")
        require_aware(self.at, what="request time")
        if not isinstance(self.reason, str):
            raise InputError(f"reason must be a string, got {self.reason!r}")
        object.__setattr__(self, "context", freeze_mapping(self.context, what="context"))


@dataclass(frozen=True)
class ModelStatus:
    """A model's current state as the lifecycle sees it: versions by number, and approvals.

    The registry builds this from its log; tests and notebooks build it by hand.

    >>> s = ModelStatus("churn", {1: VersionStatus(1, "production"),
    ...                           2: VersionStatus(2, "staging")})
    >>> s.holders("production"), s.in_state("staging")
    ((1,), (2,))
    """

    name: str
    versions: Mapping[int, VersionStatus]
    approvals: Sequence[Approval] = ()
    model_tags: Mapping[str, str] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        validate_name(self.name, kind="model name")
        versions = freeze_mapping(self.versions, what="versions")
        for number, version in versions.items():
            if not isinstance(version, VersionStatus):
                raise InputError(
                    f"versions must map numbers to VersionStatus, got {version!r} for {number!r}"
                )
            if number != version.version:
                raise InputError(
                    f"versions[{number!r}] holds version {version.version}; keys must be the "
                    "version numbers"
                )
        object.__setattr__(self, "versions", versions)
        approvals = tuple(self.approvals)
        for approval in approvals:
            if not isinstance(approval, Approval):
                raise InputError(f"approvals must be Approval objects, got {approval!r}")
        object.__setattr__(self, "approvals", approvals)
        object.__setattr__(self, "model_tags", freeze_mapping(self.model_tags, what="model_tags"))

    @classmethod
    def of(
        cls,
        name: str,
        versions: Iterable[VersionStatus],
        approvals: Sequence[Approval] = (),
        model_tags: Mapping[str, str] | None = None,
    ) -> ModelStatus:
        """Build a status from a list of versions instead of a mapping.

        >>> ModelStatus.of("churn", [VersionStatus(1, "development")]).versions[1].state
        'development'
        """
        return cls(name, {v.version: v for v in versions}, approvals, model_tags or {})

    def version(self, number: int) -> VersionStatus:
        """The status of one version; :class:`~modelyard.errors.NotFoundError` lists the others."""
        try:
            return self.versions[number]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"model {self.name!r} has no version {number!r}",
                available=sorted(self.versions),
                name=self.name,
                version=number,
            ) from None

    def in_state(self, state: str) -> tuple[int, ...]:
        """The numbers of the versions in ``state``, ascending."""
        return tuple(sorted(n for n, v in self.versions.items() if v.state == state))

    def holders(self, state: str) -> tuple[int, ...]:
        """Alias of :meth:`in_state`, read as "who holds this (exclusive) state"."""
        return self.in_state(state)

    def apply(self, changes: Iterable[StateChange]) -> ModelStatus:
        """Return a new status with ``changes`` applied (this status is left as it is).

        Each change must start from the state its version is in, otherwise the decision was made
        against an older status and :class:`~modelyard.errors.ConcurrentModificationError` is
        raised: decide again on the current status.
        """
        versions = dict(self.versions)
        for change in changes:
            current = versions.get(change.version)
            if current is None:
                raise NotFoundError(
                    f"model {self.name!r} has no version {change.version}",
                    available=sorted(versions),
                    name=self.name,
                    version=change.version,
                )
            if current.state != change.source:
                raise ConcurrentModificationError(
                    f"version {change.version} of {self.name!r} is in {current.state!r}, not "
                    f"{change.source!r} as the change assumes; decide again on the current status",
                    version=change.version,
                    expected=change.source,
                    actual=current.state,
                )
            versions[change.version] = replace(current, state=change.target)
        return replace(self, versions=versions)

    def with_version(self, version: VersionStatus) -> ModelStatus:
        """Return a new status with ``version`` added or replaced."""
        return replace(self, versions={**self.versions, version.version: version})

    def with_approval(self, approval: Approval) -> ModelStatus:
        """Return a new status with ``approval`` recorded."""
        return replace(self, approvals=(*self.approvals, approval))
