"""Keeping secrets out of the code record: remote URLs without credentials, a command line
with the values of secret-looking arguments replaced.

The rule for the command line, applied to each argument:

- an option whose name mentions a secret (``token``, ``secret``, ``password``, ``passwd``,
  ``passphrase``, ``pwd``, ``key``, ``credential``, ``auth``, ``cookie``, ``private``; any case,
  ``-``/``_`` ignored) has its value replaced by ``***``: in ``--api-key=v``, ``--token v`` (the
  next argument) and ``PASSWORD=v`` alike;
- credentials inside a URL (``https://user:pw@host``) are removed, as for the remote;
- a value shaped like a well-known token (GitHub, GitLab, AWS access key ids, Slack, ``sk-``
  API keys, JSON web tokens) is replaced wherever it appears.

Over-redacting (``--key-column id`` loses ``id``) is the accepted cost of never storing a secret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from modelyard.artifacts._code import MAX_ARG_CHARS, MAX_ARGS

__all__ = ["redact_argv", "strip_credentials"]

HIDDEN = "***"

_SECRET_NAME = re.compile(
    r"token|secret|passw(or)?d|passphrase|pwd|key|credential|auth|cookie|private", re.IGNORECASE
)
_OPTION = re.compile(r"^(-{1,2}[A-Za-z0-9][\w.-]*)(=(.*))?$", re.DOTALL)
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)
_TOKEN = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|AKIA[0-9A-Z]{16}"
    r"|xox[abposr]-[\w-]{10,}|sk-[\w-]{20,}|eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@]+@")


def strip_credentials(url: str) -> str:
    """``url`` without user or password, for URLs with a scheme; scp-like remotes keep their
    user (``git@host:org/repo`` names an account, not a secret) but lose a password.

    >>> strip_credentials("https://user:token@github.com/org/repo.git")
    'https://github.com/org/repo.git'
    >>> strip_credentials("ssh://git@host:2222/org/repo.git")
    'ssh://host:2222/org/repo.git'
    >>> strip_credentials("git@github.com:org/repo.git")
    'git@github.com:org/repo.git'
    """
    if "://" in url:
        try:
            parts = urlsplit(url)
        except ValueError:
            return _URL.sub(lambda m: m.group(0).split("//", 1)[0] + "//", url)
        if "@" not in parts.netloc:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    scp = re.match(r"^([^@/:]+):[^@/]*@([^/:]+:.*)$", url)
    if scp:  # user:password@host:path
        return f"{scp.group(1)}@{scp.group(2)}"
    return url


def _clean(value: str) -> str:
    value = _URL.sub(lambda m: strip_credentials(m.group(0) + "x")[:-1], value)
    return _TOKEN.sub(HIDDEN, value)


def _secret(name: str) -> bool:
    return bool(_SECRET_NAME.search(name.replace("-", "").replace("_", "")))


def redact_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """The command line as recorded: secrets replaced (see the module docstring), at most
    :data:`MAX_ARGS` arguments of at most :data:`MAX_ARG_CHARS` characters each.

    >>> redact_argv(["train.py", "--api-key", "abc", "--db-password=pw", "--epochs", "3"])
    ('train.py', '--api-key', '***', '--db-password=***', '--epochs', '3')
    >>> redact_argv(["push", "https://me:hunter2@example.com/x", "HF_TOKEN=abc"])
    ('push', 'https://example.com/x', 'HF_TOKEN=***')
    """
    out: list[str] = []
    hide_next = False
    for raw in argv:
        arg = str(raw)
        if hide_next:
            hide_next = False
            if not arg.startswith("-"):
                out.append(HIDDEN)
                continue
        option = _OPTION.match(arg)
        assignment = _ASSIGNMENT.match(arg)
        if option and _secret(option.group(1)):
            if option.group(2) is None:
                hide_next = True
                out.append(arg)
            else:
                out.append(f"{option.group(1)}={HIDDEN}")
            continue
        if assignment and _secret(assignment.group(1)):
            out.append(f"{assignment.group(1)}={HIDDEN}")
            continue
        out.append(_clean(arg))
    kept = [a if len(a) <= MAX_ARG_CHARS else a[:MAX_ARG_CHARS] + "..." for a in out]
    if len(kept) > MAX_ARGS:
        kept = [*kept[:MAX_ARGS], f"... ({len(kept) - MAX_ARGS} more arguments)"]
    return tuple(kept)
