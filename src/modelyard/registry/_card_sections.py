"""A model card as plain rows: one list of sections that both renderers draw.

Markdown and HTML differ only in how they draw a heading, a key/value list, a table and a
paragraph, so what a card says (which sections, which columns, the words for an empty section)
is decided here once. Values stay raw text; each renderer escapes them for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from modelyard._internal.canonical import canonical_json

if TYPE_CHECKING:
    from modelyard.artifacts import CodeRecord
    from modelyard.registry._card import ModelCard

__all__ = ["Section", "sections", "when"]


@dataclass(frozen=True)
class Section:
    """A heading, then optional paragraphs, key/value pairs and one table (``header`` + ``rows``);
    ``empty`` is said when the section has nothing else to show."""

    title: str
    paragraphs: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    empty: str = ""


def when(at: datetime | None) -> str:
    """A time as the card prints it: UTC offset kept, seconds precision."""
    return at.isoformat(timespec="seconds") if at is not None else ""


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "TiB":
            break
    return f"{scaled:.1f} {unit} ({size} bytes)"


def _value(value: object) -> str:
    return value if isinstance(value, str) else canonical_json(value).decode()


def sections(card: ModelCard) -> list[Section]:
    """Every section of ``card``, in reading order."""
    v = card.version
    out = [
        Section(
            "Model",
            paragraphs=tuple(p for p in (card.model_description,) if p),
            pairs=(
                ("Model", v.name),
                ("Version", str(v.version)),
                ("Stage", v.state),
                ("Aliases", ", ".join(v.aliases) or "none"),
                ("Registered", f"{when(v.created_at)} by {v.created_by}"),
                ("Deleted", "yes" if v.deleted else "no"),
                *((f"Model tag {k}", t) for k, t in sorted(card.model_tags.items())),
                ("Log event", f"#{card.head}"),
                ("Log event digest", card.head_digest or "(written before the log was chained)"),
            ),
        ),
        Section(
            "Description",
            paragraphs=(v.description,) if v.description else (),
            empty="No description was recorded for this version.",
        ),
        Section(
            "Metrics",
            header=("Metric", "Value"),
            rows=tuple((k, f"{m:g}") for k, m in sorted(v.metrics.items())),
            empty="No metrics were recorded.",
        ),
        Section(
            "Parameters",
            header=("Parameter", "Value"),
            rows=tuple((k, _value(p)) for k, p in sorted(v.params.items())),
            empty="No parameters were recorded.",
        ),
        Section(
            "Tags",
            header=("Tag", "Value"),
            rows=tuple(sorted(v.tags.items())),
            empty="No tags were recorded.",
        ),
        Section(
            "Artifact",
            pairs=(
                ("Id", card.artifact.id),
                ("Name", card.artifact.name or ""),
                ("Size", _size(card.artifact.size)),
                ("Media type", card.artifact.media_type),
                ("Codec", card.codec),
                ("Content digest", card.artifact.digest),
                ("Stored", when(card.artifact_created_at)),
            ),
        ),
        Section(
            "Lineage",
            paragraphs=("The artifacts this version's artifact was made from, nearest first.",)
            if card.lineage
            else (),
            header=("Name", "Id", "Media type", "Size"),
            rows=tuple((a.name or "", a.id, a.media_type, _size(a.size)) for a in card.lineage),
            empty="The artifact was stored without parents: no lineage was recorded.",
        ),
        _code_section(card),
        Section(
            "Environment",
            pairs=(("Python", card.python),),
            header=("Package", "Version"),
            rows=tuple(sorted(card.packages.items())),
        ),
        Section(
            "Approvals",
            header=("When", "Actor", "Role", "For stage", "Comment"),
            rows=tuple(
                (when(a.at), a.actor, a.role or "", a.target, a.comment) for a in card.approvals
            ),
            empty="No approvals were recorded for this version.",
        ),
        Section(
            "Transitions",
            header=("When", "Actor", "Change", "Reason", "Guards"),
            rows=tuple(
                (
                    when(e.at),
                    e.actor,
                    "; ".join(
                        f"v{c.version} {c.source} → {c.target}"
                        + (f" ({c.cause})" if c.cause != "requested" else "")
                        for c in e.changes
                    )
                    + (" [rollback]" if e.kind == "rollback" else ""),
                    e.reason,
                    "; ".join(
                        f"{'passed' if r.ok else 'FAILED'} {r.guard}: {r.reason}" for r in e.results
                    )
                    or ("none (a rollback runs no guards)" if e.kind == "rollback" else "none"),
                )
                for e in card.transitions
            ),
            empty="This version has not changed stage since it was registered.",
        ),
        Section(
            "Evidence",
            header=("When", "Kind", "Actor", "Artifact", "Id", "Media type", "Note"),
            rows=tuple(_evidence_row(card, i) for i in range(len(card.evidence))),
            empty="No evidence is attached to this version.",
        ),
    ]
    return out


def _code_pairs(code: CodeRecord, prefix: str) -> tuple[tuple[str, str], ...]:
    if code.dirty is None:
        tree = "not known"
    elif code.dirty:
        tree = f"dirty (changes {code.diff_digest})" if code.diff_digest else "dirty"
    else:
        tree = "clean"
    found = "git" if code.source == "git" else "CI environment variables"
    pairs = [
        (f"{prefix}commit", code.commit),
        (f"{prefix}branch", code.branch or "(none)"),
        (f"{prefix}work tree", tree),
        (f"{prefix}remote", code.remote or "(none)"),
        (f"{prefix}command", code.command()),
        (f"{prefix}found by", found),
    ]
    return tuple((key[:1].upper() + key[1:], value) for key, value in pairs)


def _code_section(card: ModelCard) -> Section:
    registered, stored = card.version.code, card.artifact_code
    pairs: tuple[tuple[str, str], ...] = ()
    if registered is not None:
        pairs += _code_pairs(registered, "")
    if stored is not None and (registered is None or stored.to_dict() != registered.to_dict()):
        pairs += _code_pairs(stored, "artifact " if registered is not None else "")
    paragraphs: tuple[str, ...] = ()
    if registered is not None and len(pairs) > 6:
        paragraphs = (
            "The code that registered the version, then the code that stored its artifact.",
        )
    elif registered is None and stored is not None:
        paragraphs = ("The code that stored the artifact (none was recorded at registration).",)
    return Section(
        "Code",
        paragraphs=paragraphs,
        pairs=pairs,
        empty="No code was recorded: git was not found, or code lineage was switched off.",
    )


def _evidence_row(card: ModelCard, index: int) -> tuple[str, ...]:
    e = card.evidence[index]
    ref = card.evidence_artifacts.get(e.artifact)
    name = (ref.name or "") if ref is not None else "(not readable)"
    media = ref.media_type if ref is not None else ""
    return (when(e.at), e.kind, e.actor, name, e.artifact, media, e.note)
