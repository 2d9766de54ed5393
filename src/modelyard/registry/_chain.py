"""The chain: what makes a model's log detect edits, holes, reordering and foreign events.

Every chained event names the model it belongs to (its name as stored and a random id fixed by
its first chained event) and the sha256 of its predecessor's stored bytes. Reading event ``k``
after event ``k - 1`` checks that:

* the event says it is event ``k`` (a moved or reordered file holds another number);
* it belongs to this model (a file copied from another model's log, for example by copying
  ``models/churn`` to ``models/churn-v2`` by hand, names the other model);
* its ``prev`` is the digest of the bytes of event ``k - 1`` as read (an edited, replaced or
  removed predecessor breaks the link).

A removed event leaves a hole that a reader cannot see by reading forward, so the log also
looks one key past its end (see ``_log.py``). Events written before the chain existed carry none
of this; they are read as they are, and the chain starts at the first event written after them.
What the chain cannot see: a writer of the store who rewrites every event from an edit to the
head consistently. That needs an anchor kept outside the store, such as the head digest that
``registry.verify()`` reports.
"""

from __future__ import annotations

from modelyard.errors import IntegrityError, NotFoundError
from modelyard.registry._events import Event
from modelyard.registry._names import fold
from modelyard.registry._state import ModelState

__all__ = ["check_identity", "hole_error", "link"]


def link(state: ModelState, event: Event, key: str, digest: str) -> ModelState:
    """Check that ``event`` (stored under ``key``, whose bytes hash to ``digest``) follows
    ``state``, and fold it in."""
    if event.seq != state.head + 1:
        raise IntegrityError(
            f"{key} holds event {event.seq} of its log, not event {state.head + 1}: events were "
            "moved or reordered. registry.verify() lists every problem",
            key=key,
            model=state.name,
            problem="order",
        )
    if event.chained:
        check_identity(state.name, state.model_id, event, key)
        if event.prev != state.head_digest:
            raise IntegrityError(
                f"{key} does not follow the stored event {state.head} of model "
                f"{state.name!r}: its predecessor's digest differs, so an event before it was "
                "edited, replaced or removed. registry.verify() lists every problem",
                key=key,
                model=state.name,
                problem="chain",
            )
    elif state.model_id is not None:
        raise IntegrityError(
            f"{key} has the format written before the registry log was chained, but follows "
            "chained events: an older modelyard wrote to this log, or the event was replaced. "
            "Upgrade every process that writes to this yard",
            key=key,
            model=state.name,
            problem="chain",
        )
    return event.apply(state, digest=digest)


def check_identity(name: str, model_id: str | None, event: Event, key: str) -> None:
    """Refuse an event that belongs to another model than ``name`` (with id ``model_id``)."""
    if event.model is None:
        return
    found = event.model.name
    if found != name:
        if fold(found) == fold(name):
            # A case-insensitive filesystem maps both spellings to one folder.
            raise NotFoundError(
                f"no model named {name!r}: its folder is the one of model {found!r}, because "
                f"model names are unique ignoring case and Unicode form. Use {found!r}",
                name=name,
                available=[found],
                existing=found,
            )
        raise IntegrityError(
            f"{key} belongs to model {found!r}, not {name!r}: it was copied from another "
            "model's log. A model cannot be renamed by copying its folder; register its "
            "versions under the new name instead",
            key=key,
            model=name,
            found=found,
            problem="foreign",
        )
    if model_id is not None and event.model.id != model_id:
        raise IntegrityError(
            f"{key} belongs to another model that was also named {name!r} (model id "
            f"{event.model.id}, this log's is {model_id}): it was copied from another yard or "
            "from an earlier model of that name",
            key=key,
            model=name,
            problem="foreign",
        )


def hole_error(missing_key: str, later_key: str) -> IntegrityError:
    return IntegrityError(
        f"{missing_key} is missing, but {later_key} exists: an event was removed from the "
        "middle of the log. Restore it from a backup; nothing is written to this model until "
        "then. registry.verify() lists every problem",
        key=missing_key,
        problem="hole",
    )
