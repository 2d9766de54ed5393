"""``yard.verify()`` joins the three checks: artifacts, the registry's chains, and references."""

from __future__ import annotations

from modelyard import Yard
from modelyard.storage import MemoryStore


def _yard() -> tuple[Yard, MemoryStore]:
    store = MemoryStore()
    yard = Yard(store, actor="ana")
    yard.registry.register("churn", b"v1")
    yard.registry.register("churn", b"v2")
    yard.registry.set_alias("churn", "champion", 2)
    return yard, store


def test_a_clean_yard_verifies() -> None:
    yard, _ = _yard()
    report = yard.verify()
    assert report.ok
    assert report.artifacts.ok and report.registry.ok and report.versions == ()
    assert [check.name for check in report.registry.models] == ["churn"]


def test_a_hole_in_a_log_makes_the_yard_report_fail() -> None:
    yard, store = _yard()
    store.delete("models/churn/log/000000000002.json")
    report = yard.verify()
    assert not report.ok
    assert report.artifacts.ok  # the artifacts are all there
    assert [(p.kind, p.key) for p in report.registry.problems] == [
        ("hole", "models/churn/log/000000000002.json")
    ]
    # What the model refers to cannot be told either, so gc keeps everything: said once more.
    assert [(p.model, p.kind) for p in report.versions] == [("churn", "unreadable-model")]


def test_an_edited_event_makes_the_yard_report_fail() -> None:
    yard, store = _yard()
    key = "models/churn/log/000000000001.json"
    store.write(key, store.read(key).replace(b'"ana"', b'"eve"'))
    report = yard.verify()
    assert not report.ok
    # The edit is seen where the chain breaks: the next event names another predecessor.
    assert [(p.kind, p.key) for p in report.registry.problems] == [
        ("chain", "models/churn/log/000000000002.json")
    ]
