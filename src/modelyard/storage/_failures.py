"""Operating-system and network failures of a store, as modelyard errors that say what to do.

A raw ``OSError`` from deep inside a write names a temp file the caller never asked for; the same
failure as a :class:`~modelyard.errors.StoreError` names the store's location and the key, says what
went wrong in the operator's terms (a full disk, a read-only folder, an endpoint that does not
answer) and what to change. The ``errno`` of the original error is kept, so code that inspects it
keeps working, and the original stays attached as ``__cause__``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

from modelyard.errors import ModelyardError, StoreError, StoreFullError

__all__ = ["os_failures", "store_error"]

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def store_error(exc: OSError, *, location: str, key: str | None, action: str) -> StoreError:
    """The :class:`StoreError` for ``exc``, raised while ``action`` (``"write"``, ...) ``key``."""
    what = f"{action} key {key!r} in {location}" if key else f"{action} {location}"
    code = exc.errno
    if code in _FULL:
        return StoreFullError(
            f"cannot {what}: no space left on the store (the disk or the quota is full). Nothing "
            "was left half-written; free space (yard.gc() deletes unreferenced artifacts) and "
            "retry.",
            location=location,
            key=key,
            errno=errno.ENOSPC,
            reason="no space left",
        )
    if code in _DENIED or isinstance(exc, PermissionError):
        readonly = " (the file system is mounted read-only)" if code == errno.EROFS else ""
        return StoreError(
            f"cannot {what}: permission denied{readonly}. The folder is not writable (or "
            "readable) for this user: fix its permissions, or open the yard from a location you "
            "may write to.",
            location=location,
            key=key,
            errno=code if code is not None else errno.EACCES,
            reason="permission denied",
        )
    detail = exc.strerror or str(exc) or type(exc).__name__
    return StoreError(
        f"cannot {what}: {detail}. Nothing was left half-written; check the store's health "
        "(disk, mount, network) and retry.",
        location=location,
        key=key,
        errno=code,
        reason=detail,
    )


class os_failures:  # lower case: it reads as a function, ``with os_failures(...):``
    """Turn a raw ``OSError`` raised inside the block into a :class:`StoreError`.

    modelyard's own errors pass through untouched: ``KeyExistsError`` is an ``OSError`` too. A
    class rather than a generator: it wraps every read of a local store, a hot path.
    """

    __slots__ = ("action", "key", "location")

    def __init__(self, *, location: str, key: str | None, action: str) -> None:
        self.location, self.key, self.action = location, key, action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        if isinstance(exc, OSError) and not isinstance(exc, ModelyardError):
            error = store_error(exc, location=self.location, key=self.key, action=self.action)
            raise error from exc


# -- object stores ---------------------------------------------------------------------------------


def _class_names(exc: BaseException) -> set[str]:
    # Matched by name so that this module never imports botocore (an optional dependency).
    return {cls.__name__ for cls in type(exc).__mro__}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _s3_code(exc: BaseException) -> str | None:
    """The S3 error code (``NoSuchBucket``, ``AccessDenied``...) behind an s3fs error, if any."""
    for link in _chain(exc):
        response = getattr(link, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
    return None


_NO_ANSWER = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "ReadTimeoutError",
    "ProxyConnectionError",
    "FSTimeoutError",
}
_REFUSED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says that no answer came from the endpoint (as opposed to a refusal)."""
    names = set().union(*(_class_names(link) for link in _chain(exc)))
    return bool(names & _NO_ANSWER)


def remote_error(
    exc: BaseException, *, location: str, endpoint: str, bucket: str, key: str | None, action: str
) -> StoreError | None:
    """The :class:`StoreError` for a failure of an object store, or None to let ``exc`` through.

    Plain "no such key" errors are left to the caller, which turns them into ``NotFoundError``.
    """
    what = f"{action} key {key!r} in {location}" if key else f"{action} {location}"
    context = {"location": location, "key": key, "endpoint": endpoint}
    if unreachable(exc):
        return StoreError(
            f"cannot {what}: no answer from the S3 endpoint {endpoint} ({exc}). Check "
            "endpoint_url, the network and that the service is running.",
            errno=errno.EHOSTUNREACH,
            reason="endpoint unreachable",
            **context,
        )
    names = _class_names(exc)
    if names & {"NoCredentialsError", "PartialCredentialsError"}:
        return StoreError(
            f"cannot {what}: no credentials for {endpoint}. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or pass key= and secret= to open_yard().",
            errno=errno.EACCES,
            reason="no credentials",
            **context,
        )
    code = _s3_code(exc)
    if code == "NoSuchBucket":
        return StoreError(
            f"cannot {what}: the bucket {bucket!r} does not exist at {endpoint}. Check the name "
            "in the URL (s3://<bucket>/<prefix>) and the endpoint, or create the bucket first: "
            "modelyard never creates buckets.",
            errno=errno.ENOENT,
            reason="no such bucket",
            **context,
        )
    if isinstance(exc, PermissionError) or code in _REFUSED:
        return StoreError(
            f"cannot {what}: access denied by {endpoint} ({code or exc}). Check the credentials "
            "in use and that the bucket policy lets them read, write and list this prefix.",
            errno=errno.EACCES,
            reason="access denied",
            **context,
        )
    if "BotoCoreError" in names:
        return StoreError(
            f"cannot {what}: {exc}. Check the S3 options passed to open_yard().",
            errno=errno.EIO,
            reason=str(exc),
            **context,
        )
    return None
