"""Lifecycle state machines: guarded, approved, explainable stage transitions, as pure logic.

A :class:`Lifecycle` is data: states, an initial state, allowed :class:`Transition` objects with
guards, and exclusive states (held by at most one version of a model at a time). It is validated
when built. :func:`decide` takes a model's :class:`ModelStatus` and a :class:`TransitionRequest` and
returns the :class:`StateChange` objects to commit, or raises
:class:`~modelyard.errors.TransitionRejected` carrying every guard's :class:`GuardResult`.
:func:`decide_rollback` restores the previous holder of an exclusive state from the history.
A lifecycle is also data in the stored sense: :meth:`Lifecycle.to_dict` keeps each guard by name
and parameters (a :class:`GuardSpec`), custom guards are registered by name
(:func:`register_guard`, or entry points in the group ``modelyard.guards``), and a stored guard
whose code a process lacks becomes a :class:`MissingGuard` that refuses its transitions.
Nothing here does IO; the registry persists what these functions decide.

>>> from datetime import datetime, timezone
>>> from modelyard.lifecycle import (Lifecycle, ModelStatus, TransitionRequest, VersionStatus,
...     decide, metric_at_least)
>>> lc = Lifecycle.default().with_guards("staging", "production", metric_at_least("auc", 0.8))
>>> status = ModelStatus.of("churn", [VersionStatus(1, "staging", metrics={"auc": 0.74})])
>>> decide(lc, status, TransitionRequest(1, "production", "ana", datetime.now(timezone.utc)))
Traceback (most recent call last):
...
modelyard.errors.TransitionRejected: version 1 of 'churn' cannot move 'staging' -> 'production':
1 of 1 guards failed: [auc >= 0.8] auc = 0.74 < 0.8
"""

import modelyard._internal.public as _public
from modelyard._internal.actors import actor_key
from modelyard.lifecycle._approvals import require_approvals
from modelyard.lifecycle._catalog import MissingGuard, guard, guard_from_spec, register_guard
from modelyard.lifecycle._changes import (
    CAUSES,
    Cause,
    CommittedTransition,
    Decision,
    StateChange,
    TransitionListener,
    notify,
)
from modelyard.lifecycle._decide import decide, evaluate_guards, validate_request
from modelyard.lifecycle._definition import Lifecycle, Transition
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult, as_guard
from modelyard.lifecycle._guards import drift_clean, metric_at_least, metric_at_most, require_tags
from modelyard.lifecycle._monitoring_guard import monitoring_clean
from modelyard.lifecycle._roles import require_role
from modelyard.lifecycle._rollback import decide_rollback, holder_stack
from modelyard.lifecycle._spec import GuardSpec
from modelyard.lifecycle._status import Approval, ModelStatus, TransitionRequest, VersionStatus
from modelyard.lifecycle._stored import LIFECYCLE_SCHEMA

__all__ = [
    "Approval",
    "CAUSES",
    "Cause",
    "CommittedTransition",
    "Decision",
    "Guard",
    "GuardContext",
    "GuardResult",
    "GuardSpec",
    "LIFECYCLE_SCHEMA",
    "Lifecycle",
    "MissingGuard",
    "ModelStatus",
    "StateChange",
    "Transition",
    "TransitionListener",
    "TransitionRequest",
    "VersionStatus",
    "actor_key",
    "as_guard",
    "decide",
    "decide_rollback",
    "drift_clean",
    "evaluate_guards",
    "guard",
    "guard_from_spec",
    "holder_stack",
    "metric_at_least",
    "metric_at_most",
    "monitoring_clean",
    "notify",
    "register_guard",
    "require_approvals",
    "require_role",
    "require_tags",
    "validate_request",
]

_public.publish(__name__, globals(), __all__)
