"""The code record: which code produced an artifact or a model version.

It is data read back from a store that anyone with write access can edit, so its shape is checked
on every read (types, patterns and sizes), and nothing in it ever decides what code runs: it is
shown, never executed or checked out.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from modelyard._internal.reprs import WIDTH

__all__ = ["MAX_ARGS", "MAX_ARG_CHARS", "CodeRecord"]

#: At most this many command-line arguments are kept (longer command lines end with a marker).
MAX_ARGS = 256
#: At most this many characters of one argument are kept (a longer one ends with ``...``).
MAX_ARG_CHARS = 2048

# No control characters in what is printed on one line (a branch, a remote, a source).
_LINE = r"^[^\x00-\x1f\x7f]*$"
_Commit = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")]
_Digest = Annotated[str, StringConstraints(strict=True, pattern=r"^sha256:[0-9a-f]{64}$")]
_Remote = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=2048, pattern=_LINE)
]
_Branch = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=256, pattern=_LINE)
]
_Arg = Annotated[str, StringConstraints(strict=True, max_length=MAX_ARG_CHARS + 3)]


class CodeRecord(BaseModel):
    """The code that produced an artifact or a model version, when it was known.

    Attributes:
        commit: the git commit checked out (40 hex digits, or 64 for a sha256 repository).
        dirty: whether the work tree had changes not in ``commit`` (None: not known, as when the
            commit was read from a CI environment variable).
        diff_digest: ``sha256:`` of those changes (``git diff HEAD`` plus the names of untracked
            files) when ``dirty``; two records with the same commit and digest ran the same code.
            The changes themselves are never stored.
        remote: the URL of the repository's remote, without any credentials.
        branch: the branch checked out (None on a detached head).
        argv: the process's command line, with the values of secret-looking arguments replaced
            by ``***``.
        source: ``"git"`` (asked of git in the working directory) or ``"environment"`` (read
            from CI variables such as ``GITHUB_SHA``).

    >>> record = CodeRecord(commit="a" * 40, dirty=False, branch="main", argv=("train.py",))
    >>> record.short
    'aaaaaaaaaaaa'
    >>> record.summary(), record.command()
    ('aaaaaaaaaaaa (main) clean', 'train.py')
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    commit: _Commit
    dirty: StrictBool | None = None
    diff_digest: _Digest | None = None
    remote: _Remote | None = None
    branch: _Branch | None = None
    argv: tuple[_Arg, ...] = Field(default=(), max_length=MAX_ARGS + 1)
    source: Literal["git", "environment"] = "git"

    @classmethod
    def current(cls) -> CodeRecord | None:
        """The code this process runs, found from the working directory (see
        ``docs/artifacts.md``), or None when it is not known. Never raises."""
        from modelyard.artifacts._code_git import code_record

        return code_record()

    @property
    def short(self) -> str:
        """The first 12 hex digits of the commit."""
        return self.commit[:12]

    def command(self) -> str:
        """The command line as a shell would read it."""
        import shlex

        return shlex.join(self.argv)

    def summary(self) -> str:
        """A few words: the commit, its branch, whether the tree was dirty (and the start of the
        diff's digest)."""
        text = self.short
        if self.branch is not None:
            text += f" ({self.branch})"
        if self.dirty is not None:
            text += " dirty" if self.dirty else " clean"
        if self.diff_digest is not None:
            text += f" {self.diff_digest[7:19]}"
        return text

    def __repr__(self) -> str:
        # One line, however long the command line was.
        text = f"CodeRecord({self.summary()!r}, argv={self.command()!r})"
        return text if len(text) <= WIDTH else text[: WIDTH - 5] + "...')"

    def to_dict(self) -> dict[str, object]:
        """A JSON-able dict: the stored form (fields that are not known are left out)."""
        return self.model_dump(mode="json", exclude_none=True)
