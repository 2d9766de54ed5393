"""The code record: its redaction rules, its shape on read, and how manifests carry it."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore, CodeRecord, Environment, Manifest, _code_git
from modelyard.artifacts._code_redact import redact_argv, strip_credentials
from modelyard.artifacts._layout import manifest_key
from modelyard.errors import InputError, IntegrityError
from modelyard.storage import MemoryStore

from ._crafted import plant

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    for cache in (_code_git._unknown, _code_git._remotes, _code_git._recent):
        cache.clear()
    yield
    for cache in (_code_git._unknown, _code_git._remotes, _code_git._recent):
        cache.clear()


# -- keeping secrets out ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r", "https://github.com/o/r"),
        ("https://gitlab-ci-token:glcbt-xyz@gitlab.com/o/r.git", "https://gitlab.com/o/r.git"),
        ("ssh://git@host.example:2222/org/repo.git", "ssh://host.example:2222/org/repo.git"),
        ("ssh://host.example/org/repo.git", "ssh://host.example/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("deploy:hunter2@host.example:org/repo.git", "deploy@host.example:org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
        ("file:///srv/git/repo.git", "file:///srv/git/repo.git"),
    ],
)
def test_a_remote_loses_its_credentials(url: str, stored: str) -> None:
    assert strip_credentials(url) == stored


@pytest.mark.parametrize(
    ("argv", "recorded"),
    [
        (["train.py", "--epochs", "3"], ["train.py", "--epochs", "3"]),
        (["t", "--api-key", "abc", "--lr", "0.1"], ["t", "--api-key", "***", "--lr", "0.1"]),
        (["t", "--db-password=pw"], ["t", "--db-password=***"]),
        (["t", "--TOKEN", "x"], ["t", "--TOKEN", "***"]),
        (["t", "--client_secret", "x"], ["t", "--client_secret", "***"]),
        (["t", "--ssh-passphrase", "x"], ["t", "--ssh-passphrase", "***"]),
        (["t", "-p", "x"], ["t", "-p", "x"]),  # no name, no secret: kept
        (["t", "--token", "--verbose"], ["t", "--token", "--verbose"]),  # a flag, not a value
        (["t", "HF_TOKEN=abc", "SEED=1"], ["t", "HF_TOKEN=***", "SEED=1"]),
        (["t", "s3://k:v@bucket/x"], ["t", "s3://bucket/x"]),
        (["t", "--url=https://me:pw@example.com/a"], ["t", "--url=https://example.com/a"]),
        (["t", "ghp_" + "a" * 36], ["t", "***"]),
        (["t", "--note", "AKIAABCDEFGHIJKLMNOP"], ["t", "--note", "***"]),
    ],
)
def test_secret_looking_arguments_are_redacted(argv: list[str], recorded: list[str]) -> None:
    assert redact_argv(argv) == tuple(recorded)


def test_a_huge_command_line_is_cut_to_a_bounded_size() -> None:
    recorded = redact_argv(["x" * 10_000] + ["a"] * 1000)
    assert len(recorded) == 257 and recorded[-1] == "... (745 more arguments)"
    assert len(recorded[0]) == 2048 + 3 and recorded[0].endswith("...")
    CodeRecord(commit=COMMIT, argv=recorded)  # what is recorded always fits the shape


# -- the shape, checked on read --------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        {"commit": 123},
        {"commit": "not-a-commit"},
        {"commit": COMMIT, "dirty": "yes"},
        {"commit": COMMIT, "dirty": 1},
        {"commit": COMMIT, "remote": "h" * 1_000_000},
        {"commit": COMMIT, "branch": "main\n#2 forged line"},
        {"commit": COMMIT, "argv": ["a"] * 100_000},
        {"commit": COMMIT, "argv": "train.py"},
        {"commit": COMMIT, "diff_digest": "md5:00"},
        {"commit": COMMIT, "source": "shell"},
        {"commit": COMMIT, "run": "rm -rf /"},
    ],
)
def test_a_hostile_code_record_in_a_manifest_is_refused_on_read(code: dict[str, object]) -> None:
    store = MemoryStore()
    good = plant(store, b"content", codec="bytes", code=CodeRecord(commit=COMMIT), schema_version=2)
    doc = json.loads(store.read(manifest_key(good)))
    doc["code"] = code
    data = json.dumps(doc, sort_keys=True).encode()
    import hashlib

    forged = "sha256:" + hashlib.sha256(data).hexdigest()
    store.create(manifest_key(forged), data)
    with pytest.raises(IntegrityError, match="does not parse") as info:
        ArtifactStore(store).manifest(forged)
    assert len(str(info.value)) < 5000  # a huge value is not echoed back


def test_the_schema_says_whether_a_manifest_has_code() -> None:
    fields = dict(
        digest="sha256:" + "0" * 64,
        size=1,
        media_type="application/octet-stream",
        codec="bytes",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        environment=Environment(python="3.11.7"),
    )
    with pytest.raises(ValueError, match=r"lowest schema that holds it.*says 1"):
        Manifest(**fields, code=CodeRecord(commit=COMMIT))  # schema 1 with code
    with pytest.raises(ValueError, match=r"lowest schema that holds it.*says 2"):
        Manifest(**fields, schema_version=2)
    earlier = Manifest(**fields)
    # Without code the stored bytes are those the release before wrote, field for field.
    assert b'"code"' not in earlier.canonical_bytes()
    assert json.loads(earlier.canonical_bytes())["schema_version"] == 1


def test_a_manifest_written_before_code_records_still_reads() -> None:
    store = MemoryStore()
    artifact_id = plant(store, b"old", codec="bytes")
    assert b'"code"' not in store.read(manifest_key(artifact_id))
    manifest = ArtifactStore(store).manifest(artifact_id)
    assert manifest.code is None and manifest.schema_version == 1


# -- the switch ------------------------------------------------------------------------------------


def test_the_switch_turns_it_off_by_argument_and_by_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = CodeRecord(commit=COMMIT, dirty=False)
    monkeypatch.setattr(_code_git, "code_record", lambda: found)
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "1")
    on = ArtifactStore(MemoryStore())
    assert on.manifest(on.put(b"x")).code == found
    off = ArtifactStore(MemoryStore(), code_lineage=False)
    assert off.manifest(off.put(b"x")).code is None
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "0")
    by_variable = ArtifactStore(MemoryStore())
    manifest = by_variable.manifest(by_variable.put(b"x"))
    assert manifest.code is None and manifest.schema_version == 1
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "maybe")
    with pytest.raises(InputError, match="MODELYARD_CODE_LINEAGE='maybe' is not understood"):
        ArtifactStore(MemoryStore())
    with pytest.raises(InputError, match="code_lineage must be True, False or None"):
        ArtifactStore(MemoryStore(), code_lineage="no")  # type: ignore[arg-type]


# -- never failing ---------------------------------------------------------------------------------


def _fake_git(folder: Path, body: str) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / "git"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for git")
@pytest.mark.parametrize(
    "body",
    [
        "sleep 30; echo late",  # slow, through a child that holds the output open
        "exit 128",  # not a repository, or one git refuses
        "echo '# branch.oid zzz'; echo",  # broken output
        "printf '# branch.oid (initial)\\0'",  # no commit yet
        "kill -9 $$",  # crashes
    ],
)
def test_a_slow_or_broken_git_records_nothing_and_never_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    _fake_git(tmp_path / "bin", body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BITBUCKET_COMMIT", raising=False)
    monkeypatch.setattr(_code_git, "TIMEOUT", 0.3)
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    assert _code_git.code_record() is None
    assert _code_git.code_record() is None  # the second time from the cache, without waiting
    assert time.monotonic() - started < 5
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "1")
    store = ArtifactStore(MemoryStore())
    assert store.manifest(store.put(b"x")).code is None


def test_ci_variables_name_the_commit_when_git_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setenv("CI_COMMIT_SHA", COMMIT.upper())
    monkeypatch.setenv("CI_COMMIT_BRANCH", "main")
    monkeypatch.setenv(
        "CI_REPOSITORY_URL", "https://gitlab-ci-token:glcbt-secret@gitlab.com/o/r.git"
    )
    monkeypatch.setattr("sys.argv", ["train.py", "--token", "t0"])
    record = _code_git.code_record()
    assert record == CodeRecord(
        commit=COMMIT,
        dirty=None,
        remote="https://gitlab.com/o/r.git",
        branch="main",
        argv=("train.py", "--token", "***"),
        source="environment",
    )
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_REF_NAME", "release")
    github = _code_git.code_record()
    assert github is not None and github.commit == "f" * 40
    assert (github.remote, github.branch) == ("https://github.com/org/repo", "release")
    monkeypatch.setenv("GITHUB_SHA", "not a commit")  # unusable: the next system is asked
    assert _code_git.code_record() == record


def test_a_manifest_with_code_keeps_its_bytes_and_id_when_copied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        _code_git, "code_record", lambda: CodeRecord(commit=COMMIT, argv=("t",), dirty=None)
    )
    source = ArtifactStore(MemoryStore(), code_lineage=True)
    parent = source.put(b"data")
    child = source.put(b"model", parents=[parent])
    dest = ArtifactStore(MemoryStore(), code_lineage=False)
    source.copy_to(dest, child)
    for ref in (parent, child):
        assert dest.store.read(manifest_key(ref.id)) == source.store.read(manifest_key(ref.id))
        assert dest.manifest(ref.id).code == CodeRecord(commit=COMMIT, argv=("t",))
    assert dest.verify().ok


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for git")
def test_git_is_asked_again_once_its_answer_is_older_than_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    status = f"# branch.oid {COMMIT}\\0# branch.head main\\0"
    _fake_git(
        tmp_path / "bin",
        f'echo "$3" >> {calls}\nif [ "$3" = status ]; then printf "{status}"; else exit 1; fi',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["first"])
    first = _code_git.code_record()
    monkeypatch.setattr("sys.argv", ["second"])
    second = _code_git.code_record()
    assert first is not None and second is not None
    assert (first.commit, first.branch, first.dirty) == (COMMIT, "main", False)
    assert (first.argv, second.argv) == (("first",), ("second",))  # the command line is current
    assert calls.read_text().split().count("status") == 1  # one git status within FRESH
    monkeypatch.setattr(_code_git, "FRESH", 0.0)
    _code_git.code_record()
    assert calls.read_text().split().count("status") == 2


def test_the_repr_is_one_short_line_however_long_the_command_line() -> None:
    record = CodeRecord(commit=COMMIT, branch="main", argv=["train.py", *["--x=" + "y" * 500] * 3])
    text = repr(record)
    assert "\n" not in text and len(text) <= 200
    assert text.startswith("CodeRecord(") and text.endswith("...')")
