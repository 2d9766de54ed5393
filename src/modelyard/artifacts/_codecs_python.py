"""Codecs for Python objects: scikit-learn estimators, self-describing objects, pickle, joblib.

Unpickling runs code chosen by whoever wrote the bytes, so the codecs that unpickle refuse to load
unless the caller passes ``trusted=True``. scikit-learn estimators use skops (a format that loads
only allow-listed types) when it is installed.
"""

from __future__ import annotations

import io
import pickle
from typing import IO, Any

from modelyard.artifacts._codec import Encoded, Payload
from modelyard.artifacts._types import (
    TYPE_ENTRY_POINT_GROUP,
    import_path,
    is_self_describing,
    registered_types,
    type_for_path,
    type_name_of,
    type_named,
)
from modelyard.errors import CodecError, UnsupportedObjectError, UntrustedLoadError

__all__ = ["JoblibCodec", "PickleCodec", "SelfDescribingCodec", "SklearnCodec"]

PICKLE_MEDIA_TYPE = "application/vnd.python.pickle"
SKOPS_MEDIA_TYPE = "application/vnd.skops"


def _untrusted(payload: Payload, why: str) -> UntrustedLoadError:
    ref = payload.ref
    return UntrustedLoadError(
        f"artifact {ref.spec} ({ref.id}) {why}; loading it can execute arbitrary code. If you "
        "trust where it came from, call get(ref, trusted=True)",
        ref=ref.id,
        codec=payload.manifest.codec,
    )


class PickleCodec:
    """Any picklable object, with the standard library's pickle. Used only when named
    (``put(obj, codec="pickle")``); loading needs ``trusted=True``."""

    name = "pickle"

    def can_encode(self, obj: Any) -> bool:
        return False

    def encode(self, obj: Any) -> Encoded:
        def write(sink: IO[bytes]) -> None:
            pickle.dump(obj, sink, protocol=pickle.HIGHEST_PROTOCOL)

        return Encoded(PICKLE_MEDIA_TYPE, write)

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        if not trusted:
            raise _untrusted(payload, "is a pickle")
        return pickle.loads(payload.read())


class JoblibCodec:
    """Any object joblib can dump (large NumPy buffers efficiently). Used only when named
    (``codec="joblib"``); loading needs ``trusted=True``."""

    name = "joblib"

    def can_encode(self, obj: Any) -> bool:
        return False

    def encode(self, obj: Any) -> Encoded:
        import joblib

        def write(sink: IO[bytes]) -> None:
            joblib.dump(obj, sink)

        return Encoded("application/vnd.joblib", write, packages=("joblib",))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        if not trusted:
            raise _untrusted(payload, "is a joblib pickle")
        import joblib

        return joblib.load(io.BytesIO(payload.read()))


def _is_sklearn(obj: Any) -> bool:
    if not any(k.__module__.split(".", 1)[0] == "sklearn" for k in type(obj).__mro__):
        return False
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)


class SklearnCodec:
    """scikit-learn estimators and pipelines.

    With skops installed (``pip install skops``, the ``skops`` extra) they are stored in the
    skops format, which loads without unpickling; types outside skops' allow-list still need
    ``trusted=True``.
    Without skops they are pickled, and loading needs ``trusted=True``.
    """

    name = "sklearn"

    def can_encode(self, obj: Any) -> bool:
        return _is_sklearn(obj)

    def encode(self, obj: Any) -> Encoded:
        try:
            import skops.io as sio
        except ImportError:
            return Encoded(
                PICKLE_MEDIA_TYPE,
                pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL),
                params={"format": "pickle"},
                packages=("scikit-learn",),
            )
        try:
            data = sio.dumps(obj)
        except Exception as exc:
            raise CodecError(
                f"skops cannot store this {type(obj).__name__} ({exc}); store it with "
                "codec='pickle' if every reader can trust it",
                codec=self.name,
            ) from exc
        return Encoded(
            SKOPS_MEDIA_TYPE, data, params={"format": "skops"}, packages=("scikit-learn", "skops")
        )

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        data = payload.read()
        if payload.manifest.codec_params.get("format") != "skops":
            if not trusted:
                raise _untrusted(
                    payload, "is a pickled scikit-learn object (skops was not installed)"
                )
            return pickle.loads(data)
        try:
            import skops.io as sio
        except ImportError as exc:
            raise CodecError(
                f"artifact {payload.ref.spec} is in the skops format: "
                "pip install skops (modelyard's 'skops' extra) to read it",
                codec=self.name,
            ) from exc
        _check_arrays(payload, data)
        unknown = sio.get_untrusted_types(data=data)
        if unknown and not trusted:
            raise _untrusted(
                payload, f"contains types outside skops' allow-list ({', '.join(unknown)})"
            )
        return sio.loads(data, trusted=unknown)


def _check_arrays(payload: Payload, data: bytes) -> None:
    """skops keeps arrays as ``.npy`` members of a zip file and ``np.load``s them, which allocates
    what each header describes: check every header against its member's bytes first."""
    import zipfile

    from modelyard.artifacts._codecs_data import check_npy

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith(".npy"):
                    check_npy(archive.read(name))
    except (CodecError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise CodecError(
            f"artifact {payload.ref.spec} is not a valid skops file: {exc}", ref=payload.ref.id
        ) from None


class SelfDescribingCodec:
    """Objects that follow :class:`~modelyard.artifacts.SelfDescribing` (e.g. drift profiles).

    Only registered types are stored and loaded (see ``_types.py``): the manifest records the
    type's registered name, and ``get`` looks that name up among the registered types, checks that
    the class still has ``to_bytes``, ``from_bytes`` and ``media_type``, and calls ``from_bytes``.
    Nothing named by a manifest is ever imported.
    """

    name = "self-describing"

    def can_encode(self, obj: Any) -> bool:
        return not isinstance(obj, type) and is_self_describing(type(obj))

    def encode(self, obj: Any) -> Encoded:
        cls = type(obj)
        type_name = type_name_of(cls)
        if type_name is None:
            kind = import_path(cls)
            raise UnsupportedObjectError(
                f"{kind} describes itself (to_bytes/from_bytes/media_type) but is not a "
                "registered type, so get() would refuse to load it. Register it first: "
                f"modelyard.artifacts.register_type({cls.__qualname__}), or advertise it under "
                f"the '{TYPE_ENTRY_POINT_GROUP}' entry point group",
                type_name=kind,
                available=sorted(registered_types()),
            )
        data = obj.to_bytes()
        if not isinstance(data, (bytes, bytearray)):
            raise CodecError(
                f"{cls.__qualname__}.to_bytes() returned {type(data).__name__}, not bytes",
                codec=self.name,
            )
        package = cls.__module__.split(".", 1)[0]
        return Encoded(cls.media_type, bytes(data), params={"type": type_name}, packages=(package,))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        cls = _registered_class(payload)
        obj = cls.from_bytes(payload.read())
        if not isinstance(obj, cls):
            raise CodecError(
                f"{import_path(cls)}.from_bytes() returned {type(obj).__name__}, not "
                f"{cls.__qualname__}",
                codec=self.name,
            )
        return obj


def _registered_class(payload: Payload) -> type[Any]:
    ref = payload.ref
    recorded = payload.manifest.codec_params.get("type")
    if not isinstance(recorded, str) or not recorded:
        raise CodecError(f"artifact {ref.spec} does not record its type", ref=ref.id)
    # Artifacts from before registration record "module:QualName"; those are matched against the
    # registered classes' own paths. Either way, only a registered class can come back.
    cls = type_named(recorded) if ":" not in recorded else type_for_path(recorded)
    if cls is None:
        raise CodecError(
            f"artifact {ref.spec} ({ref.id}) is of the type {recorded!r}, which is not registered "
            "in this process. modelyard loads only registered types and never imports what a "
            "manifest names. If you trust this type, install the package that advertises it "
            f"under the '{TYPE_ENTRY_POINT_GROUP}' entry point group, or register the class "
            "with modelyard.artifacts.register_type(cls"
            + (")" if ":" in recorded else f", name={recorded!r})"),
            ref=ref.id,
            type_name=recorded,
            available=sorted(registered_types()),
        )
    # A registration made the class loadable; it must still speak the protocol to be called.
    if not is_self_describing(cls):
        raise CodecError(
            f"artifact {ref.spec} is of the type {recorded!r}, whose class no longer has "
            "to_bytes(), from_bytes() and media_type",
            ref=ref.id,
        )
    return cls
