"""Code lineage end to end: a put and a register run inside a real git repository record its
commit, dirty state, diff digest, remote (without credentials) and command line; and the
registry's stored form of it (events, snapshots, cards, history)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import modelyard as my
from modelyard.artifacts import ArtifactStore, CodeRecord
from modelyard.errors import IntegrityError
from modelyard.registry import Registry, SnapshotWarning, _events, _snapshots
from modelyard.storage import MemoryStore, Store

from ._tamper import edit_json, event_key

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CODE = CodeRecord(commit=COMMIT, dirty=False, branch="main", argv=("train.py",))

# Run in a child with the repository as its working directory, so this process's own working
# directory (a checkout of modelyard) cannot leak into what is recorded.
SCRIPT = """
import sys, modelyard as my
yard = my.open_yard(sys.argv[1], actor="ci")
ref = yard.artifacts.put([1, 2, 3], name="churn-model")
print(yard.registry.register("churn", ref).version)
"""
CI_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT")


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env=_git_env()
    ).stdout


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Ana",
        GIT_AUTHOR_EMAIL="ana@example.com",
        GIT_COMMITTER_NAME="Ana",
        GIT_COMMITTER_EMAIL="ana@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        HOME=os.environ.get("HOME", "/tmp"),
    )
    return env


def _child_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env.pop("BITBUCKET_COMMIT", None)
    env.pop("MODELYARD_CODE_LINEAGE", None)  # on, by default
    env.update(changes)
    return env


def _run(repo: Path, yard: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-c", SCRIPT, str(yard), *extra],
        cwd=repo,
        env=env if env is not None else _child_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "checkout", "-q", "-b", "main")
    (repo / "train.py").write_text("print('train')\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "remote", "add", "origin", "https://ana:s3cr3t-t0ken@git.example.com/org/churn.git")
    return repo


@pytest.mark.slow
@needs_git
def test_a_put_and_a_register_in_a_git_repository_record_its_code(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "train.py").write_text("print('train harder')\n")  # a change not committed
    (repo / "notes.txt").write_text("untracked\n")
    yard_path = tmp_path / "yard"
    _run(repo, yard_path, "--api-key", "hunter2", "--epochs", "3")

    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    diff = _git(repo, "diff", "HEAD", "--binary")
    assert b"train harder" in diff
    expected_digest = "sha256:" + hashlib.sha256(diff + b"\0untracked\0notes.txt").hexdigest()
    expected = CodeRecord(
        commit=head,
        dirty=True,
        diff_digest=expected_digest,
        remote="https://git.example.com/org/churn.git",
        branch="main",
        argv=("-c", str(yard_path), "--api-key", "***", "--epochs", "3"),
        source="git",
    )
    yard = my.open_yard(yard_path, create=False)
    manifest = yard.artifacts.manifest("churn-model@latest")
    assert manifest.code == expected and manifest.schema_version == 2
    version = yard.registry.version("churn", 1)
    assert version.code == expected
    assert version.to_dict()["code"]["commit"] == head
    entry = yard.registry.history("churn")[0]
    assert entry.code == expected and f"from {head[:12]} (main) dirty" in str(entry)
    card = yard.registry.card("churn/1")
    markdown, html = card.to_markdown(), card.to_html()
    assert head in markdown and "https://git.example.com/org/churn.git" in markdown
    assert expected_digest in markdown and "--api-key" in markdown
    assert head in html
    # The secrets went nowhere: not in the manifests, the log, nor the card.
    stored = b"".join(p.read_bytes() for p in yard_path.rglob("*") if p.is_file())
    for secret in (b"hunter2", b"s3cr3t-t0ken"):
        assert secret not in stored
        assert secret.decode() not in markdown and secret.decode() not in html

    # Commit the change: the next run is clean, with the new commit and no digest.
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "second")
    _run(repo, yard_path)
    again = my.open_yard(yard_path, create=False).registry.version("churn", 2).code
    assert again is not None and again.dirty is False and again.diff_digest is None
    assert again.commit == _git(repo, "rev-parse", "HEAD").decode().strip() != head


@needs_git
def test_without_git_on_the_path_nothing_is_recorded_and_nothing_fails(
    repo: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    _run(repo, tmp_path / "yard", env=_child_env(PATH=str(empty)))
    yard = my.open_yard(tmp_path / "yard", create=False)
    manifest = yard.artifacts.manifest("churn-model@latest")
    assert manifest.code is None and manifest.schema_version == 1
    assert yard.registry.version("churn", 1).code is None
    event = json.loads(yard.store.read(event_key("churn", 1)))
    assert "code" not in event["data"] and event["schema_version"] == 2
    assert "No code was recorded" in yard.registry.card("churn/1").to_markdown()


@needs_git
def test_outside_a_repository_nothing_is_recorded(tmp_path: Path) -> None:
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    _run(elsewhere, tmp_path / "yard", env=_child_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))
    yard = my.open_yard(tmp_path / "yard", create=False)
    assert yard.artifacts.manifest("churn-model@latest").code is None
    assert yard.registry.version("churn", 1).code is None


@needs_git
def test_the_switch_turns_it_off(repo: Path, tmp_path: Path) -> None:
    _run(repo, tmp_path / "yard", env=_child_env(MODELYARD_CODE_LINEAGE="0"))
    yard = my.open_yard(tmp_path / "yard", create=False)
    assert yard.artifacts.manifest("churn-model@latest").code is None
    assert yard.registry.version("churn", 1).code is None
    off = my.open_yard("memory://code-lineage-off", code_lineage=False)
    assert not off.artifacts.code_lineage and not off.registry.code_lineage


# -- the stored form in the registry ---------------------------------------------------------------


@pytest.fixture
def coded(monkeypatch: pytest.MonkeyPatch) -> CodeRecord:
    from modelyard.artifacts import _code_git

    monkeypatch.setattr(_code_git, "code_record", lambda: CODE)
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "1")
    return CODE


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ({"commit": 7}, "(commit: Input should be a valid string"),
        ({"commit": COMMIT, "remote": "x" * 1_000_000}, "(remote: String should have at most"),
        ({"commit": COMMIT, "argv": ["a"] * 100_000}, "(argv: Tuple should have at most"),
        ({"commit": COMMIT, "dirty": "no"}, "(dirty: Input should be a valid boolean"),
        ({"commit": COMMIT, "exec": "import os"}, "(exec: Extra inputs are not permitted"),
        ("0123", "'code' must be an object, got str"),
    ],
)
def test_a_hostile_code_record_in_the_log_is_refused_with_a_clear_error(
    store: Store, coded: CodeRecord, code: object, message: str
) -> None:
    registry = Registry(store, actor="ana")
    registry.register("churn", b"weights")
    edit_json(store, event_key("churn", 1), lambda doc: doc["data"].update(code=code))
    with pytest.raises(IntegrityError, match=r"not a valid 'version\.registered' event") as info:
        Registry(store).version("churn", 1)
    assert message in str(info.value)
    assert len(str(info.value)) < 2000  # a huge value is not echoed back


def test_code_in_an_event_of_an_older_schema_is_refused(store: Store, coded: CodeRecord) -> None:
    registry = Registry(store, actor="ana")
    registry.register("churn", b"weights")
    edit_json(store, event_key("churn", 1), lambda doc: doc.update(schema_version=3))
    with pytest.raises(IntegrityError, match="fields of schema 4 in a schema 3 event"):
        Registry(store).version("churn", 1)


def test_only_code_needs_the_new_schemas_and_snapshots_keep_it(
    store: Store, coded: CodeRecord
) -> None:
    registry = Registry(store, actor="ana", snapshot_every=2, code_lineage=True)
    registry.register("churn", b"weights")
    registry.set_tag("churn", "team", "risk")
    plain = Registry(store, actor="ana", snapshot_every=2, code_lineage=False)
    plain.register("fraud", b"weights")
    plain.set_tag("fraud", "team", "risk")
    schemas = [json.loads(store.read(event_key("churn", n)))["schema_version"] for n in (1, 2)]
    assert schemas == [4, 2]
    assert json.loads(store.read(event_key("fraud", 1)))["schema_version"] == 2
    docs = {k: json.loads(store.read(k)) for k in store.list("models/") if "/snapshots/" in k}
    by_model = {k.split("/")[1]: d["schema_version"] for k, d in docs.items()}
    assert by_model == {"churn": 4, "fraud": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error", SnapshotWarning)  # the snapshot is used, not skipped
        fresh = Registry(store)
        assert fresh.version("churn", 1).code == CODE
        assert fresh.version("fraud", 1).code is None
        assert fresh.verify().ok


def test_the_release_before_refuses_a_model_with_code_and_reads_the_others(
    store: Store, coded: CodeRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    Registry(store, actor="ana", snapshot_every=2).register("churn", b"weights")
    Registry(store, actor="ana", snapshot_every=2).set_tag("churn", "team", "risk")
    Registry(store, actor="ana", code_lineage=False).register("fraud", b"weights")
    # The release before read events up to schema 3 and snapshots up to schema 3.
    monkeypatch.setattr(_events, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(_snapshots, "SNAPSHOT_SCHEMA_VERSION", 3)
    old = Registry(store)
    assert old.resolve("fraud@latest").version == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapshotWarning)
        with pytest.raises(IntegrityError, match="upgrade modelyard"):
            old.resolve("churn@latest")


def test_a_copy_keeps_the_code_of_the_source_version(coded: CodeRecord) -> None:
    source = Registry(MemoryStore(), actor="ana")
    source.register("churn", b"weights")
    dest = Registry(MemoryStore(), actor="bob", code_lineage=False)
    copied = source.copy("churn/1", to=dest).version
    assert copied.code == CODE and copied.provenance is not None


def test_the_card_shows_the_code_escaped(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelyard.artifacts import _code_git

    hostile = CodeRecord(
        commit=COMMIT,
        dirty=True,
        diff_digest="sha256:" + "ab" * 32,
        branch="<script>alert(1)</script>",
        remote="https://example.com/<b>org</b>|x",
        argv=("train.py", "--name", "<img src=x>|*a*"),
    )
    monkeypatch.setattr(_code_git, "code_record", lambda: hostile)
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "1")
    registry = Registry(store, ArtifactStore(store), actor="ana")
    registry.register("churn", b"weights")
    card = registry.card("churn/1")
    html = card.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    markdown = card.to_markdown()
    assert "## Code" in markdown and COMMIT in markdown
    assert "dirty (changes sha256:" in markdown
    # Stored and registered by the same code: shown once.
    assert markdown.count(COMMIT) == 1


def test_the_card_shows_both_records_when_another_process_registered(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.artifacts import _code_git

    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "1")
    trained = CodeRecord(commit="a" * 40, dirty=False, argv=("train.py",))
    ci = CodeRecord(commit="b" * 40, dirty=None, argv=("register",), source="environment")
    monkeypatch.setattr(_code_git, "code_record", lambda: trained)
    ref = ArtifactStore(store).put(b"weights", name="churn-model")
    monkeypatch.setattr(_code_git, "code_record", lambda: ci)
    version = Registry(store, actor="ci").register("churn", ref)
    assert version.code == ci
    markdown = Registry(store).card("churn/1").to_markdown()
    code = markdown[markdown.index("## Code") : markdown.index("## Environment")]
    assert "- **Commit:** " + "b" * 40 in code and "- **Found by:** CI environment" in code
    assert "- **Work tree:** not known" in code
    assert (
        "- **Artifact commit:** " + "a" * 40 in code and "- **Artifact command:** train.py" in code
    )
    assert "then the code that stored its artifact" in code
