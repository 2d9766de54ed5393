"""Codecs for Python objects: scikit-learn estimators, self-describing objects, pickle, joblib.

Unpickling runs code chosen by whoever wrote the bytes, so the codecs that unpickle refuse to load
unless the caller passes ``trusted=True``. scikit-learn estimators use skops (a format that loads
only allow-listed types) when it is installed.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import IO, Any

from modelyard.artifacts._codec import Encoded, Payload
from modelyard.errors import CodecError, UntrustedLoadError

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

    With skops installed (``pip install 'modelyard[skops]'``) they are stored in the skops format,
    which loads without unpickling; types outside skops' allow-list still need ``trusted=True``.
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
                "pip install 'modelyard[skops]'",
                codec=self.name,
            ) from exc
        unknown = sio.get_untrusted_types(data=data)
        if unknown and not trusted:
            raise _untrusted(
                payload, f"contains types outside skops' allow-list ({', '.join(unknown)})"
            )
        return sio.loads(data, trusted=unknown)


def _self_describing_class(obj_type: type[Any]) -> bool:
    return (
        isinstance(getattr(obj_type, "media_type", None), str)
        and callable(getattr(obj_type, "to_bytes", None))
        and callable(getattr(obj_type, "from_bytes", None))
    )


class SelfDescribingCodec:
    """Objects that follow :class:`~modelyard.artifacts.SelfDescribing` (e.g. drift profiles).

    The manifest records the class as ``"module:QualName"``; ``get`` imports it, checks that it
    still has ``to_bytes``, ``from_bytes`` and ``media_type``, and calls ``from_bytes``.
    """

    name = "self-describing"

    def can_encode(self, obj: Any) -> bool:
        return not isinstance(obj, type) and _self_describing_class(type(obj))

    def encode(self, obj: Any) -> Encoded:
        cls = type(obj)
        if "<locals>" in cls.__qualname__:
            raise CodecError(
                f"{cls.__qualname__} is defined inside a function, so it cannot be imported to "
                "read the artifact back; define it at module level",
                codec=self.name,
            )
        data = obj.to_bytes()
        if not isinstance(data, (bytes, bytearray)):
            raise CodecError(
                f"{cls.__qualname__}.to_bytes() returned {type(data).__name__}, not bytes",
                codec=self.name,
            )
        package = cls.__module__.split(".", 1)[0]
        return Encoded(
            cls.media_type,
            bytes(data),
            params={"type": f"{cls.__module__}:{cls.__qualname__}"},
            packages=(package,),
        )

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        path = payload.manifest.codec_params.get("type")
        cls = _import_class(path, payload)
        obj = cls.from_bytes(payload.read())
        if not isinstance(obj, cls):
            raise CodecError(
                f"{path}.from_bytes() returned {type(obj).__name__}, not {cls.__qualname__}",
                codec=self.name,
            )
        return obj


def _import_class(path: Any, payload: Payload) -> type[Any]:
    ref = payload.ref
    if not isinstance(path, str) or ":" not in path:
        raise CodecError(f"artifact {ref.spec} does not record its class", ref=ref.id)
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise CodecError(
            f"artifact {ref.spec} needs the class {path}, which cannot be imported ({exc}); "
            "install the package that defines it",
            ref=ref.id,
        ) from exc
    # Only a real class that still speaks the protocol is called; anything else (a function, a
    # module attribute that changed meaning) is refused rather than executed.
    if not isinstance(target, type) or not _self_describing_class(target):
        raise CodecError(
            f"artifact {ref.spec} names {path}, which is not a class with to_bytes(), "
            "from_bytes() and media_type",
            ref=ref.id,
        )
    return target
