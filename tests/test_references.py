"""One grammar for references: the same string means the same thing in every layer."""

from __future__ import annotations

import doctest
import re
import warnings
from pathlib import Path

import pytest

import modelyard as my
from modelyard._internal.references import Reference, parse_reference
from modelyard.errors import InvalidReferenceError

ID = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("artifacts:/" + ID, Reference("artifact", id=ID, scheme=True)),
        ("artifacts:/churn-data@latest", Reference("artifact", name="churn-data", scheme=True)),
        ("artifacts:/churn-data:1a2b",
         Reference("artifact", name="churn-data", short="1a2b", scheme=True)),
        ("models:/churn/3", Reference("model", name="churn", version=3, scheme=True)),
        ("models:/churn@production",
         Reference("model", name="churn", alias="production", scheme=True)),
        (ID, Reference("artifact", id=ID)),
        ("churn-data:1a2b", Reference("artifact", name="churn-data", short="1a2b")),
        ("churn/3", Reference("model", name="churn", version=3)),
        ("churn@champion", Reference("model", name="churn", alias="champion")),
    ],
)  # fmt: skip
def test_every_form_parses_to_one_kind_and_prints_with_its_scheme(
    text: str, expected: Reference
) -> None:
    parsed = parse_reference(text)
    assert parsed == expected
    assert parse_reference(str(parsed)) == parsed.__class__(**{**vars(parsed), "scheme": True})


@pytest.mark.parametrize(
    ("text", "expect", "hint"),
    [
        ("churn@latest", None, "'artifacts:/churn@latest' or 'models:/churn@latest'"),
        ("model:/churn/3", None, "'artifacts:/' and 'models:/'"),
        ("models://churn/3", "model", "one slash"),
        ("models:/churn", "model", "'churn@latest'"),
        ("models:/churn/03", "model", "as in 'churn/3'"),
        ("artifacts:/churn@prod", "artifact", "'models:/churn@prod'"),
        ("artifacts:/churn:xyz", "artifact", "'churn-data:1a2b3c'"),
        ("models:/churn/3", "artifact", "resolve it with the registry"),
        ("artifacts:/churn@latest", "model", "register it as a model version"),
        ("", None, "'models:/churn/3'"),
        ("churn/x", None, "expected an artifact"),
    ],
)
def test_typos_say_what_was_expected_with_an_example(
    text: str, expect: str | None, hint: str
) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text, expect=expect)  # type: ignore[arg-type]
    assert hint in str(info.value)


@pytest.fixture
def yard() -> my.Yard:
    return my.open_yard("memory://references-test")


def test_the_artifact_store_takes_the_artifacts_scheme_and_refuses_models(yard: my.Yard) -> None:
    ref = yard.artifacts.put(b"rows", name="churn-data")
    for text in (f"artifacts:/{ref.id}", "artifacts:/churn-data@latest", f"artifacts:/{ref.spec}"):
        assert yard.artifacts.resolve(text) == ref
        assert yard.artifacts.get(text) == b"rows"
    with pytest.raises(InvalidReferenceError, match="names a model version"):
        yard.artifacts.get("models:/churn-data/1")
    with pytest.raises(InvalidReferenceError, match="names a model version"):
        yard.artifacts.put(b"more", name="churn-data", parents=["models:/churn/1"])
    assert yard.artifacts.resolve("churn-data@latest") == ref  # unchanged: nothing was written


def test_the_registry_takes_the_models_scheme_and_refuses_artifacts(yard: my.Yard) -> None:
    registry = yard.registry
    registry.register("churn", b"weights", actor="ana")
    assert registry.resolve("models:/churn/1") == registry.resolve("churn/1")
    assert registry.load("models:/churn@latest") == b"weights"
    with pytest.raises(InvalidReferenceError, match="names an artifact"):
        registry.load("artifacts:/churn@latest")
    with pytest.raises(InvalidReferenceError, match="names a model version"):
        registry.register("churn", "models:/churn/1", actor="ana")
    assert [v.version for v in registry.versions("churn")] == [1]


def test_an_ambiguous_bare_artifact_reference_in_register_warns_and_still_works(
    yard: my.Yard,
) -> None:
    ref = yard.artifacts.put(b"weights", name="churn-model")
    with pytest.warns(DeprecationWarning, match="'artifacts:/churn-model@latest'") as caught:
        version = yard.registry.register("churn", "churn-model@latest", actor="ana")
    assert version.artifact == ref.id
    assert caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ("artifacts:/churn-model@latest", ref.spec, ref.id):
            assert yard.registry.register("churn", text, actor="ana").artifact == ref.id


def test_the_record_getter_is_version_and_get_is_deprecated(yard: my.Yard) -> None:
    registry = yard.registry
    registry.register("churn", b"weights", actor="ana")
    record = registry.version("churn", 1)
    assert record.ref == "churn/1"
    assert record == registry.resolve("models:/churn/1")
    with pytest.warns(DeprecationWarning, match=r"Registry\.version"):
        assert registry.get("churn", 1) == record


def test_the_references_guide_runs() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "references.md"
    blocks = re.findall(r"^```pycon\n(.*?)^```$", doc.read_text("utf-8"), re.M | re.S)
    assert blocks
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for number, body in enumerate(blocks):
        test = doctest.DocTestParser().get_doctest(body, {}, f"block {number}", str(doc), 0)
        runner.run(test)
    assert runner.failures == 0
    assert runner.tries >= 5
