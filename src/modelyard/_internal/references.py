"""The one grammar of reference strings, shared by the artifact store and the registry.

=======================================  =========================================
``artifacts:/sha256:<64 hex>``           an artifact by id (``sha256:<64 hex>`` alone too)
``artifacts:/<name>@latest``             the newest artifact stored under a name
``artifacts:/<name>:<short id>``         an artifact of a name by an id prefix (4+ hex)
``models:/<name>/<version>``             a model version by number
``models:/<name>@<alias or stage>``      a model version by alias, ``latest`` or stage
=======================================  =========================================

The scheme may be left out where the place that reads the string takes only one kind (every
artifact store method takes artifacts, every registry method that names a version takes models).
Without it, ``name@latest`` is a valid spelling of both kinds, so a place that takes either (an
argument of ``register`` that may be an artifact, a command line) needs the scheme to tell them
apart. The layers map the result to their own objects; this module knows no store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modelyard._internal.hashing import DIGEST_PATTERN
from modelyard._internal.names import validate_name
from modelyard.errors import InvalidNameError, InvalidReferenceError

__all__ = [
    "ARTIFACT_SCHEME",
    "MIN_SHORT_ID",
    "MODEL_SCHEME",
    "Kind",
    "Reference",
    "parse_reference",
]

ARTIFACT_SCHEME = "artifacts:/"
MODEL_SCHEME = "models:/"
#: The fewest hex digits accepted in ``name:<short id>``.
MIN_SHORT_ID = 4

Kind = Literal["artifact", "model"]

_SCHEMES: tuple[tuple[str, Kind], ...] = ((ARTIFACT_SCHEME, "artifact"), (MODEL_SCHEME, "model"))
# Used with fullmatch only: "$" would also match before a trailing newline.
_SHORT = re.compile(r"[0-9a-f]+")
_VERSION = re.compile(r"[1-9][0-9]{0,17}")

_ARTIFACT_FORMS = "'sha256:<64 hex>', 'name@latest' or 'name:<short id>'"
_MODEL_FORMS = "'name/<version>' (e.g. 'churn/3') or 'name@alias' (e.g. 'churn@production')"


@dataclass(frozen=True)
class Reference:
    """A reference string taken apart.

    For an artifact exactly one of ``id`` and ``name`` is set (``short`` None means the newest);
    for a model ``name`` and exactly one of ``alias`` and ``version`` are set. ``scheme`` says
    whether the text carried its ``artifacts:/`` or ``models:/`` prefix. ``str()`` gives the
    spelling with the scheme, which reads the same everywhere.

    >>> str(parse_reference("churn/3", expect="model"))
    'models:/churn/3'
    """

    kind: Kind
    name: str | None = None
    id: str | None = None
    short: str | None = None
    alias: str | None = None
    version: int | None = None
    scheme: bool = False

    @property
    def ambiguous(self) -> bool:
        """Whether the text names "the newest" without a scheme (``name@latest``, also a valid
        model reference, or a bare artifact name): a reader that takes either kind, or a person
        used to ``load("churn@latest")``, may take it for a model."""
        if self.scheme:
            return False
        if self.kind == "artifact":
            return self.name is not None and self.short is None
        return self.alias == "latest"

    def __str__(self) -> str:
        if self.kind == "model":
            tail = f"@{self.alias}" if self.alias is not None else f"/{self.version}"
            return f"{MODEL_SCHEME}{self.name}{tail}"
        if self.id is not None:
            return f"{ARTIFACT_SCHEME}{self.id}"
        tail = f":{self.short}" if self.short is not None else "@latest"
        return f"{ARTIFACT_SCHEME}{self.name}{tail}"


def parse_reference(text: object, *, expect: Kind | None = None) -> Reference:
    """Parse a reference to an artifact or a model version (the grammar is in the module doc).

    ``expect`` is the kind the caller takes: a string of the other kind's scheme is refused, and
    a string without a scheme is read as that kind. With ``expect=None`` a string without a
    scheme must be valid as one kind only.

    >>> parse_reference("models:/churn@production")
    Reference(kind='model', name='churn', id=None, short=None, alias='production', version=None, scheme=True)
    >>> parse_reference("churn:1a2b3c").kind, parse_reference("churn/3").version
    ('artifact', 3)
    >>> parse_reference("churn@latest")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidReferenceError: 'churn@latest' may name an artifact or a model ...
    >>> parse_reference("artifacts:/churn@latest", expect="model")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidReferenceError: 'artifacts:/churn@latest' names an artifact, ...
    """  # noqa: E501
    if not isinstance(text, str) or not text:
        what = {"artifact": "an artifact", "model": "a model version", None: "a reference"}
        raise InvalidReferenceError(
            f"invalid reference {text!r}: expected a string naming {what[expect]}, e.g. "
            "'artifacts:/churn-data@latest' or 'models:/churn/3'",
            ref=text,
        )
    if text.startswith(("artifact:/", "model:/", "artifacts://", "models://")) or (
        "://" in text and expect is None
    ):
        raise InvalidReferenceError(
            f"invalid reference {text!r}: the schemes are 'artifacts:/' and 'models:/' "
            "(plural, one slash), e.g. 'artifacts:/churn-data@latest' or 'models:/churn/3'",
            ref=text,
        )
    for scheme, kind in _SCHEMES:
        if text.startswith(scheme):
            if expect is not None and expect != kind:
                raise _wrong_kind(text, kind, expect)
            body = text[len(scheme) :]
            if kind == "artifact":
                return _artifact(text, body, scheme=True)
            return _model(text, body, scheme=True)
    if expect == "artifact":
        return _artifact(text, text, scheme=False)
    if expect == "model":
        return _model(text, text, scheme=False)
    return _either(text)


def _either(text: str) -> Reference:
    try:
        artifact: Reference | None = _artifact(text, text, scheme=False)
    except InvalidReferenceError:
        artifact = None
    try:
        model: Reference | None = _model(text, text, scheme=False)
    except (InvalidReferenceError, InvalidNameError):
        model = None
    if artifact is not None and model is not None:
        raise InvalidReferenceError(
            f"{text!r} may name an artifact or a model version; write "
            f"'{ARTIFACT_SCHEME}{text}' or '{MODEL_SCHEME}{text}'",
            ref=text,
        )
    if artifact is not None:
        return artifact
    if model is not None:
        return model
    raise InvalidReferenceError(
        f"invalid reference {text!r}: expected an artifact ({ARTIFACT_SCHEME} then "
        f"{_ARTIFACT_FORMS}) or a model version ({MODEL_SCHEME} then {_MODEL_FORMS})",
        ref=text,
    )


def _wrong_kind(text: str, kind: Kind, expect: Kind) -> InvalidReferenceError:
    if kind == "model":
        hint = "resolve it with the registry first and pass the version's artifact id"
    else:
        hint = "register it as a model version first, or pass a 'models:/' reference"
    named = "an artifact" if kind == "artifact" else "a model version"
    wanted = "an artifact" if expect == "artifact" else "a model version"
    return InvalidReferenceError(
        f"{text!r} names {named}, but {wanted} is expected here: {hint}", ref=text
    )


def _artifact(text: str, body: str, *, scheme: bool) -> Reference:
    if body.startswith("sha256:"):
        if not DIGEST_PATTERN.fullmatch(body):
            raise InvalidReferenceError(
                f"invalid artifact id {text!r}: expected 'sha256:' and 64 lowercase hex digits",
                ref=text,
            )
        return Reference("artifact", id=body, scheme=scheme)
    name, short = body, None
    if "@" in body:
        name, _, alias = body.partition("@")
        if alias != "latest":
            raise InvalidReferenceError(
                f"invalid artifact reference {text!r}: artifacts support only '@latest' (use "
                "'name:<short id>' for a given version; a model version is "
                f"'{MODEL_SCHEME}{body}')",
                ref=text,
            )
    elif ":" in body:
        name, _, short = body.partition(":")
        if not _SHORT.fullmatch(short) or len(short) < MIN_SHORT_ID:
            raise InvalidReferenceError(
                f"invalid artifact reference {text!r}: after ':' give at least {MIN_SHORT_ID} "
                "lowercase hex digits of the artifact id, e.g. 'churn-data:1a2b3c'",
                ref=text,
            )
    try:
        validate_name(name, kind="artifact name")
    except InvalidNameError as exc:
        raise InvalidReferenceError(
            f"invalid artifact reference {text!r}: {exc}; expected {_ARTIFACT_FORMS}", ref=text
        ) from exc
    return Reference("artifact", name=name, short=short, scheme=scheme)


def _model(text: str, body: str, *, scheme: bool) -> Reference:
    # A bad model or alias name raises InvalidNameError, as the registry always has.
    if "@" in body:
        name, _, alias = body.partition("@")
        validate_name(name, kind="model name")
        validate_name(alias, kind="alias")
        return Reference("model", name=name, alias=alias, scheme=scheme)
    if "/" in body:
        name, _, number = body.partition("/")
        validate_name(name, kind="model name")
        if not _VERSION.fullmatch(number):
            raise InvalidReferenceError(
                f"invalid model reference {text!r}: the version after '/' must be a positive "
                "integer in ASCII digits without leading zeros, as in 'churn/3'",
                ref=text,
            )
        return Reference("model", name=name, version=int(number), scheme=scheme)
    raise InvalidReferenceError(
        f"invalid model reference {text!r}: use 'name@alias' (e.g. '{body}@latest') or "
        f"'name/<version>' (e.g. '{body}/1')",
        ref=text,
    )
