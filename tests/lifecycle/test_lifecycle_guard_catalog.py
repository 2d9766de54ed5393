"""Guards by name: register_guard, guard(), entry points, and stored guards this process lacks."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InputError, LifecycleDefinitionError, TransitionRejected
from modelyard.lifecycle import (
    GuardContext,
    GuardResult,
    GuardSpec,
    Lifecycle,
    MissingGuard,
    ModelStatus,
    TransitionRequest,
    VersionStatus,
    _catalog,
    as_guard,
    decide,
    guard,
    guard_from_spec,
    metric_at_least,
    register_guard,
)

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def isolated_catalog() -> Iterator[None]:
    """Each test starts with the registrations it found and leaves none behind."""
    saved = dict(_catalog._registered)
    yield
    _catalog._registered.clear()
    _catalog._registered.update(saved)


def min_rows(rows: int) -> Any:
    def check(ctx: GuardContext) -> GuardResult:
        seen = int(ctx.version.tags.get("rows", "0"))
        if seen >= rows:
            return GuardResult.passed(f"{seen} rows >= {rows}")
        return GuardResult.failed(f"{seen} rows < {rows}")

    return as_guard(check, name=f"rows >= {rows}")


def promote(lc: Lifecycle, rows: str) -> Any:
    status = ModelStatus.of("churn", [VersionStatus(1, "staging", tags={"rows": rows})])
    return decide(lc, status, TransitionRequest(1, "production", "ana", AT))


def test_a_registered_guard_is_built_by_name_stored_and_read_back() -> None:
    register_guard("acme.min_rows", min_rows)
    g = guard("acme.min_rows", rows=1000)
    assert g.name == "rows >= 1000"
    assert g.spec == GuardSpec("acme.min_rows", {"rows": 1000})  # type: ignore[attr-defined]
    lc = Lifecycle.default().with_guards("staging", "production", g)
    back = Lifecycle.from_dict(json.loads(json.dumps(lc.to_dict())))
    assert back == lc
    assert promote(back, "5000").changes[0].target == "production"
    with pytest.raises(TransitionRejected, match=r"\[rows >= 1000\] 10 rows < 1000"):
        promote(back, "10")
    assert pickle.loads(pickle.dumps(g)) == g


def test_registration_rules() -> None:
    with pytest.raises(InputError, match=r"dotted.*'metric_at_least' is reserved"):
        register_guard("metric_at_least", min_rows)
    with pytest.raises(InputError, match="custom guard names are dotted"):
        register_guard("min_rows", min_rows)
    with pytest.raises(InputError, match="dotted label"):
        register_guard("acme.min rows", min_rows)
    with pytest.raises(InputError, match="must be callable"):
        register_guard("acme.min_rows", "min_rows")  # type: ignore[arg-type]
    register_guard("acme.min_rows", min_rows)
    register_guard("acme.min_rows", min_rows)  # the same factory again: nothing happens
    with pytest.raises(InputError, match=r"already registered.*replace=True"):
        register_guard("acme.min_rows", lambda rows: min_rows(rows * 2))
    register_guard("acme.min_rows", lambda rows: min_rows(rows * 2), replace=True)
    assert guard("acme.min_rows", rows=5).name == "rows >= 10"


def test_guard_refuses_unknown_names_and_parameters() -> None:
    with pytest.raises(
        LifecycleDefinitionError, match=r"no guard named 'acme.nope'.*register_guard"
    ):
        guard("acme.nope")
    with pytest.raises(LifecycleDefinitionError, match="does not take the parameters"):
        guard("metric_at_least", metric="auc", minimum=0.8)
    with pytest.raises(LifecycleDefinitionError, match="needs n >= 1"):
        guard("require_approvals", n=0)
    with pytest.raises(InputError, match="not JSON-able"):
        guard("metric_at_least", metric="auc", threshold=object())
    register_guard("acme.min_rows", min_rows)
    with pytest.raises(LifecycleDefinitionError, match="does not take the parameters"):
        guard("acme.min_rows", rows=1, extra=2)


def test_built_ins_by_name_equal_the_functions() -> None:
    assert guard("metric_at_least", metric="auc", threshold=0.8) == metric_at_least("auc", 0.8)
    assert guard("require_tags", keys=["owner"], values={"ok": "yes"}).name == "tags owner, ok=yes"
    assert guard("require_role", roles=["admin"]).name == "role admin"
    assert guard("drift_clean").name == "drift clean"
    assert guard("require_approvals", n=1, max_age_seconds=3600).name == "1 approval within 1 hour"
    with pytest.raises(LifecycleDefinitionError, match="not the string"):
        guard("require_tags", keys="owner")


def test_a_stored_guard_this_process_lacks_fails_closed_and_keeps_its_spec() -> None:
    register_guard("acme.min_rows", min_rows)
    stored = (
        Lifecycle.default()
        .with_guards("staging", "production", guard("acme.min_rows", rows=1000))
        .to_dict()
    )
    _catalog._registered.clear()  # a process that never registered it

    lacking = Lifecycle.from_dict(stored)
    (missing,) = lacking.transition("staging", "production").guards  # type: ignore[union-attr]
    assert isinstance(missing, MissingGuard)
    assert missing.spec == GuardSpec("acme.min_rows", {"rows": 1000})
    with pytest.raises(TransitionRejected) as info:
        promote(lacking, "5000")  # the data would pass; the guard's code is not here
    (result,) = info.value.results
    assert not result.ok and result.guard == "acme.min_rows"
    assert "not available in this process" in result.reason
    assert "register_guard('acme.min_rows', factory)" in result.reason
    assert result.details["params"] == {"rows": 1000}
    # Writing the definition back from here keeps the guard for processes that have it.
    assert lacking.to_dict() == stored
    assert pickle.loads(pickle.dumps(lacking)) == lacking
    register_guard("acme.min_rows", min_rows)
    assert promote(Lifecycle.from_dict(lacking.to_dict()), "5000").changes


def test_a_factory_that_fails_on_stored_parameters_gives_a_failing_guard() -> None:
    def strict(rows: int) -> Any:
        raise RuntimeError("rows must be a power of ten")

    register_guard("acme.strict", strict)
    missing = guard_from_spec(GuardSpec("acme.strict", {"rows": 3}))
    assert isinstance(missing, MissingGuard)
    result = missing(GuardContext.for_test())
    assert not result.ok and "rows must be a power of ten" in result.reason


def test_a_registered_guard_passes_on_the_evidence_it_reads() -> None:
    class Reads:
        name = "reads"
        context_evidence: ClassVar[dict[str, str]] = {"report": "evaluation"}

        def __call__(self, ctx: GuardContext) -> GuardResult:
            return GuardResult.passed("ok")

    register_guard("acme.reads", lambda: Reads())
    assert guard("acme.reads").context_evidence == {"report": "evaluation"}  # type: ignore[attr-defined]
    register_guard("acme.plain", lambda: min_rows(1))
    assert guard("acme.plain").context_evidence is None  # type: ignore[attr-defined]


def test_concurrent_registration_of_one_name_has_one_winner() -> None:
    factories = [lambda rows, n=n: min_rows(rows + n) for n in range(16)]
    barrier = threading.Barrier(len(factories))
    outcomes: list[str] = []

    def register(factory: Any) -> None:
        barrier.wait()
        try:
            register_guard("acme.race", factory)
            outcomes.append("won")
        except InputError:
            outcomes.append("refused")

    threads = [threading.Thread(target=register, args=(f,)) for f in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 15 + ["won"]


# A real installed plugin: a module and a *.dist-info with entry_points.txt on sys.path.
PLUGIN = """
from modelyard.lifecycle import GuardResult, as_guard

def max_age_days(days):
    def check(ctx):
        age = int(ctx.version.tags.get("age_days", "0"))
        if age <= days:
            return GuardResult.passed(f"trained {age} days ago")
        return GuardResult.failed(f"trained {age} days ago, more than {days}")
    return as_guard(check, name=f"age <= {days}d")
"""


def install_plugin(root: Path, module: str, body: str, entries: dict[str, str]) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(body), "utf-8")
    info = root / f"{module.replace('_', '-')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[modelyard.guards]\n{lines}", "utf-8")


def stored_with(name: str, params: dict[str, Any]) -> dict[str, Any]:
    stored = Lifecycle.default().to_dict()
    edge = next(t for t in stored["transitions"] if t["target"] == "production")
    edge["guards"] = [{"name": name, "params": params}]
    return stored


def test_an_entry_point_guard_is_loaded_only_when_a_stored_name_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"acme_guards_{tmp_path.name.replace('-', '_')}"
    install_plugin(tmp_path, module, PLUGIN, {"acme.max_age": f"{module}:max_age_days"})
    monkeypatch.syspath_prepend(str(tmp_path))

    Lifecycle.from_dict(Lifecycle.default().with_guards(
        "staging", "production", metric_at_least("auc", 0.8)).to_dict())  # fmt: skip
    assert isinstance(guard_from_spec(GuardSpec("acme.other")), MissingGuard)
    assert module not in sys.modules  # nothing needed it yet

    lc = Lifecycle.from_dict(stored_with("acme.max_age", {"days": 30}))
    assert module in sys.modules
    status = ModelStatus.of("churn", [VersionStatus(1, "staging", tags={"age_days": "45"})])
    with pytest.raises(TransitionRejected, match=r"\[age <= 30d\] trained 45 days ago"):
        decide(lc, status, TransitionRequest(1, "production", "ana", AT))
    assert guard("acme.max_age", days=60).name == "age <= 60d"
    assert lc.to_dict() == stored_with("acme.max_age", {"days": 30})


def test_an_entry_point_that_fails_to_load_gives_a_failing_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"broken_guards_{tmp_path.name.replace('-', '_')}"
    install_plugin(
        tmp_path, module, "raise ImportError('needs acme-core')\n", {"acme.broken": f"{module}:g"}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    missing = guard_from_spec(GuardSpec("acme.broken"))
    assert isinstance(missing, MissingGuard)
    result = missing(GuardContext.for_test())
    assert not result.ok and "failed to load" in result.reason and "acme-core" in result.reason
    with pytest.raises(LifecycleDefinitionError, match=r"failed to load.*reinstall"):
        guard("acme.broken")


DECIDE_IN_ANOTHER_PROCESS = """
import json, sys
from datetime import datetime, timezone
from modelyard.errors import TransitionRejected
from modelyard.lifecycle import Lifecycle, ModelStatus, TransitionRequest, VersionStatus, decide

lc = Lifecycle.from_dict(json.loads(sys.stdin.read()))
status = ModelStatus.of("churn", [VersionStatus(1, "staging", tags={"age_days": "3"})])
try:
    decide(lc, status, TransitionRequest(1, "production", "ana", datetime.now(timezone.utc)))
    print("moved")
except TransitionRejected as exc:
    print("refused:", exc.results[0].guard)
"""


def test_a_process_without_the_guards_code_refuses_and_one_with_it_decides(
    tmp_path: Path,
) -> None:
    module = f"acme_guards_{tmp_path.name.replace('-', '_')}"
    install_plugin(tmp_path, module, PLUGIN, {"acme.max_age": f"{module}:max_age_days"})
    stored = json.dumps(stored_with("acme.max_age", {"days": 30}))

    def run(path: str) -> str:
        env_path = [path] if path else []
        code = f"import sys; sys.path[:0] = {env_path!r}\n" + DECIDE_IN_ANOTHER_PROCESS
        done = subprocess.run(
            [sys.executable, "-c", code], input=stored, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert run("") == "refused: acme.max_age"
    assert run(str(tmp_path)) == "moved"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=80, deadline=None)
@given(
    name=st.from_regex(r"zz[a-z]{1,6}\.[a-z_][a-z0-9_-]{0,8}", fullmatch=True),
    params=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=4),
)
@pytest.mark.slow
def test_an_unknown_stored_guard_keeps_any_spec_exactly(name: str, params: dict[str, Any]) -> None:
    stored = stored_with(name, params)
    lacking = Lifecycle.from_dict(json.loads(json.dumps(stored)))
    (missing,) = lacking.transition("staging", "production").guards  # type: ignore[union-attr]
    assert isinstance(missing, MissingGuard) and not missing(GuardContext.for_test()).ok
    assert json.dumps(lacking.to_dict(), sort_keys=True) == json.dumps(stored, sort_keys=True)
