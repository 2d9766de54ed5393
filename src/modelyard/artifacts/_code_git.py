"""Finding the code that runs: git in the working directory, else CI environment variables.

The working directory, not the ``__main__`` module's folder, is where git is asked: it is what a
pipeline step, a notebook (which has no ``__main__`` file) and the ``modelyard`` command itself
(whose ``__main__`` lives in the virtual environment, not in the project) have in common.

Recording never fails and never waits long: git absent, not a repository, a repository git refuses
(another owner), a broken git or one slower than :data:`TIMEOUT` all mean "not known", and then CI
variables are read, else nothing is recorded. git runs with optional locks off (never taking the
index lock a user's own git may want), no terminal prompt, no filesystem monitor and no external
diff or textconv program (a repository's config must not run code of its choosing here).

What is cached, per process and working directory: the remote URL and a negative answer (no git,
no repository, too slow), which do not change while a process runs, for good; the commit, branch
and dirty state for :data:`FRESH` seconds only, because they do change: a notebook user edits and
commits between two puts, and a stale "clean" would be a false claim of reproducibility. Asking
git costs a ``git status`` (and a ``git diff`` on a dirty tree), milliseconds that would dominate a
put of a small object; a loop of puts pays it once per :data:`FRESH` seconds instead, and a person
who edits between two cells is slower than that.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

from modelyard.artifacts._code import CodeRecord
from modelyard.artifacts._code_redact import redact_argv, strip_credentials

__all__ = ["FRESH", "TIMEOUT", "code_record"]

#: Seconds one git command may take before the code is treated as unknown.
TIMEOUT = 2.0
#: Seconds for which git's answer about the commit and the dirty state is reused.
FRESH = 2.0

# CI systems that name the commit they build: (commit, branch, remote URL) variables.
_CI: tuple[tuple[str, str | None, str | None], ...] = (
    ("GITHUB_SHA", "GITHUB_REF_NAME", None),
    ("CI_COMMIT_SHA", "CI_COMMIT_BRANCH", "CI_REPOSITORY_URL"),
    ("BUILDKITE_COMMIT", "BUILDKITE_BRANCH", "BUILDKITE_REPO"),
    ("CIRCLE_SHA1", "CIRCLE_BRANCH", "CIRCLE_REPOSITORY_URL"),
    ("BITBUCKET_COMMIT", "BITBUCKET_BRANCH", "BITBUCKET_GIT_HTTP_ORIGIN"),
    ("GIT_COMMIT", "GIT_BRANCH", "GIT_URL"),
)

_lock = threading.Lock()
_unknown: set[str] = set()
_remotes: dict[str, str | None] = {}
_recent: dict[str, tuple[float, CodeRecord]] = {}


class _Unknown(Exception):
    """git cannot say (absent, not a repository, refused, too slow)."""


def _git(cwd: str, *args: str) -> bytes:
    env = {
        **os.environ,
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    command = ["git", "-c", "core.fsmonitor=false", *args]
    try:
        # In a session of its own, so that a timeout ends git and anything it started (a child
        # that kept our pipes open would make the wait outlast the timeout).
        with subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        ) as process:
            try:
                out, err = process.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                _kill(process)
                process.communicate()
                raise _Unknown(f"git took longer than {TIMEOUT} s") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise _Unknown(str(exc)) from exc
    if process.returncode != 0:
        raise _Unknown(err.decode("utf-8", "replace"))
    return out


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass  # already gone


def _remote(cwd: str) -> str | None:
    if cwd in _remotes:
        return _remotes[cwd]
    try:
        out = _git(cwd, "config", "-z", "--get-regexp", r"^remote\..*\.url$")
    except _Unknown:
        out = b""  # exit 1: no remote configured
    urls: dict[str, str] = {}
    for item in out.decode("utf-8", "replace").split("\0"):
        key, _, url = item.partition("\n")
        if url:
            urls[key[len("remote.") : -len(".url")]] = url
    chosen = urls.get("origin", next(iter(urls.values()), None))
    found = strip_credentials(chosen) if chosen else None
    with _lock:
        _remotes[cwd] = found
    return found


def _from_git(cwd: str, argv: tuple[str, ...]) -> CodeRecord | None:
    status = _git(cwd, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
    commit = branch = None
    changed = False
    untracked: list[bytes] = []
    for entry in status.split(b"\0"):
        if entry.startswith(b"# branch.oid "):
            commit = entry[len(b"# branch.oid ") :].decode("ascii", "replace")
        elif entry.startswith(b"# branch.head "):
            branch = entry[len(b"# branch.head ") :].decode("utf-8", "replace")
        elif entry and not entry.startswith(b"#"):
            changed = True
            if entry.startswith(b"? "):
                untracked.append(entry[2:])
    if commit is None or commit == "(initial)":
        return None  # a repository without a commit yet
    digest = None
    if changed:
        diff = _git(cwd, "diff", "HEAD", "--binary", "--no-ext-diff", "--no-textconv")
        hasher = hashlib.sha256(diff)
        hasher.update(b"\0untracked\0" + b"\0".join(sorted(untracked)))
        digest = f"sha256:{hasher.hexdigest()}"
    return CodeRecord(
        commit=commit,
        dirty=changed,
        diff_digest=digest,
        remote=_remote(cwd),
        branch=None if branch in (None, "(detached)") else branch,
        argv=argv,
        source="git",
    )


def _from_environment(environ: Mapping[str, str], argv: tuple[str, ...]) -> CodeRecord | None:
    for commit_var, branch_var, remote_var in _CI:
        commit = environ.get(commit_var, "").strip().lower()
        if not commit:
            continue
        remote = environ.get(remote_var or "", "").strip() or None
        if commit_var == "GITHUB_SHA" and environ.get("GITHUB_REPOSITORY"):
            server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            remote = f"{server}/{environ['GITHUB_REPOSITORY']}"
        branch = environ.get(branch_var or "", "").strip() or None
        try:
            return CodeRecord(
                commit=commit,
                remote=strip_credentials(remote) if remote else None,
                branch=branch,
                argv=argv,
                source="environment",
            )
        except ValueError:
            continue  # not a commit id (or an unusable branch name): try the next system
    return None


def code_record(cwd: str | None = None) -> CodeRecord | None:
    """The code this process runs, or None when it is not known. Never raises."""
    try:
        where = os.path.realpath(cwd if cwd is not None else os.getcwd())
        argv = redact_argv(list(getattr(sys, "argv", None) or ()))
        if where not in _unknown:
            recent = _recent.get(where)
            if recent is not None and time.monotonic() - recent[0] < FRESH:
                return recent[1].model_copy(update={"argv": argv})
            try:
                found = _from_git(where, argv)
            except (_Unknown, ValueError):
                found = None
            if found is not None:
                with _lock:
                    _recent[where] = (time.monotonic(), found)
                return found
            with _lock:
                _unknown.add(where)
        return _from_environment(os.environ, argv)
    except Exception:
        # Recording the code is a courtesy to the reader of the lineage: it never stops a put.
        return None
