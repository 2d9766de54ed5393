"""The modelyard exception tree.

Every error modelyard raises on purpose derives from :class:`ModelyardError`, and each one also
derives from the builtin exception a caller would already catch for that kind of problem::

    ModelyardError (Exception)
    ├── InputError (ValueError) ................ bad input; raised before anything is written
    │   ├── InvalidKeyError ..................... a storage key that is not a clean relative path
    │   ├── InvalidNameError .................... a model or artifact name that cannot be used
    │   ├── InvalidReferenceError ............... an unparsable reference ("name@alias")
    │   ├── UnsupportedURLError ................. no store is registered for a URL's scheme
    │   ├── UnsupportedObjectError (TypeError) .. no codec can store this object
    │   ├── LifecycleDefinitionError ............ a lifecycle that is not a valid state machine
    │   ├── LifecycleMismatchError .............. code opened a yard with another lifecycle than
    │   │                                          the one stored in it
    │   └── DriftInputError ..................... data that drift statistics cannot be computed on
    │       ├── ColumnMismatchError ............. a column present on one side only
    │       ├── EmptyDataError .................. no rows to compare
    │       └── ColumnTypeError (TypeError) ..... a column of the wrong kind for a statistic
    ├── NotFoundError (LookupError) ............. a key, artifact, model, version or alias is absent
    ├── KeyExistsError (FileExistsError) ........ an exclusive create lost: the key already exists
    ├── IntegrityError .......................... stored data is damaged, forged or from a newer
    │                                              modelyard: nothing wrong is returned
    ├── ConcurrentModificationError ............. another writer won; retries ran out or a
    │                                              compare-and-set found a different value
    ├── CapabilityError ......................... a store cannot give a guarantee the caller needs
    ├── StoreError (OSError) .................... the store cannot be used: unreachable, missing,
    │   │                                          refusing access, not a folder
    │   └── StoreFullError ...................... no space left on the store (errno ENOSPC)
    ├── UntrustedLoadError (PermissionError) .... loading would run pickled code; pass trusted=True
    ├── NotAuthorizedError (PermissionError) .... the actor does not hold the role the yard's
    │                                              governance requires for this change
    ├── CodecError .............................. a codec failed to encode or decode
    ├── TransitionRejected ...................... a lifecycle transition was refused; carries every
    │                                              guard's result
    └── PluginError (ImportError) ............... a plugin named by an entry point failed to load

Errors carry the context they are about as attributes (``key``, ``name``, ``available``, ...), and
their messages say what was wrong and what to do about it.

Example:
    >>> from modelyard.errors import NotFoundError, ModelyardError
    >>> try:
    ...     raise NotFoundError("no model 'churn'", name="churn", available=["fraud"])
    ... except LookupError as exc:
    ...     (isinstance(exc, ModelyardError), exc.name, exc.available)
    (True, 'churn', ['fraud'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CapabilityError",
    "CodecError",
    "ColumnMismatchError",
    "ColumnTypeError",
    "ConcurrentModificationError",
    "DriftInputError",
    "EmptyDataError",
    "InputError",
    "IntegrityError",
    "InvalidKeyError",
    "InvalidNameError",
    "InvalidReferenceError",
    "KeyExistsError",
    "LifecycleDefinitionError",
    "LifecycleMismatchError",
    "ModelyardError",
    "NotAuthorizedError",
    "NotFoundError",
    "PluginError",
    "StoreError",
    "StoreFullError",
    "TransitionRejected",
    "UnsupportedObjectError",
    "UnsupportedURLError",
    "UntrustedLoadError",
]


class ModelyardError(Exception):
    """Root of every error modelyard raises on purpose.

    Keyword arguments become attributes, so handlers can inspect the context without parsing the
    message: ``NotFoundError("...", key="a/b").key == "a/b"``.
    """

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = dict(context)
        for attribute, value in context.items():
            setattr(self, attribute, value)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (multiprocessing workers report them back), so they
        # must pickle with their context intact.
        return (_rebuild_error, (type(self), self.message, self.context))


def _rebuild_error(cls: type[ModelyardError], message: str, context: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    ModelyardError.__init__(error, message, **context)
    return error


class InputError(ModelyardError, ValueError):
    """Input that modelyard refuses before doing any work or writing anything."""


class InvalidKeyError(InputError):
    """A storage key that is not a clean, relative, ``/``-separated path.

    Attributes: ``key`` (the rejected key), ``reason``.
    """


class InvalidNameError(InputError):
    """A model, artifact, alias, tag or state name that cannot be used.

    Attributes: ``name``, ``reason``.
    """


class InvalidReferenceError(InputError):
    """A reference string (``name@alias``, ``name/3``, ``sha256:...``) that does not parse, or
    that cannot name one version (``name@staging``: a stage several versions may be in)."""


class UnsupportedURLError(InputError):
    """No store is registered for a URL's scheme. Attributes: ``url``, ``scheme``, ``available``."""


class UnsupportedObjectError(InputError, TypeError):
    """No codec can store an object. Attributes: ``type_name``, ``available`` (codec names)."""


class LifecycleDefinitionError(InputError):
    """A lifecycle definition that is not a valid state machine (unknown or unreachable states,
    no initial state, duplicate transitions, ...). ``problem`` names the rule that was broken."""

    problem: str


class LifecycleMismatchError(InputError):
    """A registry opened with a lifecycle in code that differs from the one stored in the yard.

    The stored lifecycle governs every writer; open the registry without ``lifecycle=`` to use
    it, or change it with ``registry.set_lifecycle(...)`` (an audited, possibly approved change).
    """


class DriftInputError(InputError):
    """Data that drift statistics cannot be computed on."""


class ColumnMismatchError(DriftInputError):
    """A column present in one dataset but not the other.

    Attributes: ``missing``, ``unexpected``.
    """


class EmptyDataError(DriftInputError):
    """A dataset with no rows (or no usable values) where some are needed."""


class ColumnTypeError(DriftInputError, TypeError):
    """A column whose type does not fit the statistic asked of it (e.g. strings forced into KS)."""


class NotFoundError(ModelyardError, LookupError):
    """Something that was asked for does not exist.

    Where it helps, the error lists what does exist in ``available``.
    """

    available: list[Any]

    def __init__(
        self, message: str, *, available: Sequence[Any] | None = None, **context: Any
    ) -> None:
        if available is not None:
            context["available"] = list(available)
            if available and "exist" not in message:
                shown = ", ".join(repr(item) for item in list(available)[:20])
                more = "" if len(available) <= 20 else f" and {len(available) - 20} more"
                message = f"{message}; available: {shown}{more}"
        super().__init__(message, **context)


class KeyExistsError(ModelyardError, FileExistsError):
    """An exclusive create found the key already present; the stored bytes were left as they were.

    Attributes: ``key``.
    """


class IntegrityError(ModelyardError):
    """Stored data cannot be trusted, and nothing of it is returned.

    Raised when bytes no longer match the digest they were stored under, when a registry event or
    snapshot does not fit its log's chain (edited, missing, reordered or copied from another
    model), and when a stored format comes from a newer modelyard (``schema_version``). The
    attributes name what was found (``key``, ``id``, ``model``, ``problem``, ...); the message
    says what to do.
    """


class ConcurrentModificationError(ModelyardError):
    """Another writer changed the same thing first.

    Raised when optimistic retries run out, or when a compare-and-set finds a value other than the
    expected one (then ``expected`` and ``actual`` say what was found). Re-read the current state
    and decide again.
    """


class CapabilityError(ModelyardError):
    """A store cannot give a guarantee the operation needs (for example an atomic ``create``)."""


class StoreError(ModelyardError, OSError):
    """The store cannot do what was asked, for a reason outside modelyard: its endpoint cannot be
    reached, its bucket or folder is missing, it refuses access, or the location is not a folder.

    Attributes: ``location`` (the store's root or URL), ``key`` (when one key was involved),
    ``errno`` (as on the :class:`OSError` it replaces, so ``except OSError`` handlers keep working)
    and ``reason``. Nothing half-written is left behind when a write raises it.
    """


class StoreFullError(StoreError):
    """The store has no space left (a full disk or an exhausted quota; ``errno`` is ``ENOSPC``).

    The write that raised it left nothing behind. Free space (``yard.gc()`` frees unreferenced
    artifacts) and retry.
    """


class UntrustedLoadError(ModelyardError, PermissionError):
    """Loading this object would unpickle it, which can execute arbitrary code.

    Pass ``trusted=True`` only for artifacts from a source you trust.
    """


class NotAuthorizedError(ModelyardError, PermissionError):
    """The actor does not hold the role the yard's stored governance requires for this change.

    Roles are stored in the yard (``registry.grant_role``). Every modelyard writer enforces them;
    the store's own permissions are the hard boundary (see docs/trust.md).
    """


class CodecError(ModelyardError):
    """A codec failed to encode or decode an object."""


class TransitionRejected(ModelyardError):
    """A lifecycle transition was refused.

    Attributes: ``version``, ``source``, ``target``, and ``results``: the result of every guard that
    was evaluated (not only the first that failed), so the caller sees everything that must change.
    """

    version: int
    source: str
    target: str
    results: tuple[Any, ...]


class PluginError(ModelyardError, ImportError):
    """A plugin advertised through an entry point could not be loaded."""
