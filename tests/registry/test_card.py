"""Model cards: every section with the right values, escaping, and a bare version's card."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.errors import NotFoundError
from modelyard.lifecycle import Lifecycle, metric_at_least
from modelyard.registry import ModelCard, Registry
from modelyard.storage import Store
from modelyard.testing import FakeClock

SCRIPT = "<script>alert('x')</script>"
_PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "span"}
_PAGE_TAGS |= {"section", "p", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td"}
_PAGE_TAGS |= {"code", "footer"}


@pytest.fixture
def governed(store: Store, clock: FakeClock) -> Registry:
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", metric_at_least("auc", 0.8)
    )
    return Registry(
        store, ArtifactStore(store, clock=clock), clock=clock, actor="ana", lifecycle=lifecycle
    )


def _story(registry: Registry, clock: FakeClock) -> ModelCard:
    artifacts = registry.artifacts
    train = artifacts.put({"rows": [[1, 2]]}, name="churn-train")
    code = artifacts.put(b"def features(df): ...", name="churn-features-code")
    model = artifacts.put({"weights": [0.1]}, name="churn-model", parents=[train, code])
    registry.register("churn", b"first")
    registry.register(
        "churn",
        model,
        metrics={"auc": 0.912},
        params={"max_depth": 6, "features": ["age", "tenure"]},
        tags={"team": "risk"},
        description="Gradient boosted trees",
    )
    registry.set_description("churn", "Predicts cancellations within 90 days")
    registry.set_alias("churn", "champion", 2)
    clock.advance(minutes=1)
    registry.transition("churn", 2, "staging", reason="offline eval passed")
    registry.approve("churn", 2, "production", actor="lee", role="risk-lead", comment="reviewed")
    registry.attach("churn/2", {"auc": 0.91}, kind="evaluation", note="holdout April")
    clock.advance(minutes=1)
    registry.transition("churn", 2, "production", actor="lee", reason="release CHG-1042")
    return registry.card("churn@champion")


def _section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match is not None, f"no section {title!r}"
    return match.group(1)


def test_the_markdown_card_has_every_section_with_the_right_values(
    governed: Registry, clock: FakeClock
) -> None:
    card = _story(governed, clock)
    text = card.to_markdown()
    version = governed.version("churn", 2)
    manifest = governed.artifacts.manifest(version.artifact)
    evidence = governed.evidence("churn/2")[0]

    assert text.startswith("# Model card: churn/2\n")
    model = _section(text, "Model")
    assert "Predicts cancellations within 90 days" in model
    assert "- **Stage:** production" in model
    assert "- **Aliases:** champion, latest" in model
    assert "- **Registered:** 2026-01-01T00:00:00+00:00 by ana" in model
    assert f"- **Log event digest:** {card.head_digest}" in model
    assert card.head == len(governed.history("churn"))
    assert "Gradient boosted trees" in _section(text, "Description")
    assert "| auc | 0.912 |" in _section(text, "Metrics")
    parameters = _section(text, "Parameters")
    assert '| features | \\["age","tenure"\\] |' in parameters
    assert "| max\\_depth | 6 |" in parameters
    assert "| team | risk |" in _section(text, "Tags")
    artifact = _section(text, "Artifact")
    assert f"- **Id:** {version.artifact}" in artifact
    assert f"- **Size:** {manifest.size} bytes" in artifact
    assert "- **Media type:** application/json" in artifact
    assert "- **Codec:** json" in artifact
    lineage = _section(text, "Lineage")
    assert "churn-train" in lineage and "churn-features-code" in lineage
    assert [ref.name for ref in card.lineage] == ["churn-train", "churn-features-code"]
    environment = _section(text, "Environment")
    assert f"- **Python:** {manifest.environment.python}" in environment
    for package, number in manifest.environment.packages.items():
        assert f"| {package} | {number} |" in environment
    approvals = _section(text, "Approvals")
    assert "| lee | risk-lead | production | reviewed |" in approvals
    transitions = _section(text, "Transitions").splitlines()
    moved = [line for line in transitions if "→" in line]
    assert len(moved) == 2
    assert "| ana | v2 development → staging | offline eval passed | none |" in moved[0]
    assert "| lee | v2 staging → production | release CHG-1042 |" in moved[1]
    assert "passed auc &gt;= 0.8: auc = 0.912 &gt;= 0.8" in moved[1]
    ev = _section(text, "Evidence")
    assert (
        f"| evaluation | ana | churn-evaluation | {evidence.artifact} | application/json "
        "| holdout April |"
    ) in ev


def test_a_displaced_version_lists_the_transition_that_moved_it(
    governed: Registry, clock: FakeClock
) -> None:
    _story(governed, clock)
    governed.register("churn", b"hotfix", metrics={"auc": 0.93})
    governed.transition("churn", 3, "staging")
    governed.transition("churn", 3, "production", actor="lee", reason="hotfix")
    card = governed.card("churn/2")
    assert card.version.state == "archived"
    assert "v3 staging → production; v2 production → archived (displaced)" in card.to_markdown()
    assert len(card.transitions) == 3


def test_html_renders_every_stored_value_inert(governed: Registry, clock: FakeClock) -> None:
    governed.register(
        "churn",
        b"weights",
        metrics={"auc": 0.9},
        tags={"team": SCRIPT, SCRIPT: "key"},
        params={"p": SCRIPT},
        description=f'{SCRIPT} <img src="http://example.com/x.png" onerror="alert(1)">',
    )
    governed.set_description("churn", SCRIPT)
    governed.transition("churn", 1, "staging", reason=SCRIPT)
    governed.approve("churn", 1, "production", actor="lee", comment=SCRIPT)
    governed.attach("churn/1", b"x", kind="evaluation", note=SCRIPT)
    page = governed.card("churn/1").to_html()

    tags = _Tags()
    tags.feed(page)
    # Only the page's own markup is markup: no script, image, link or handler, nothing fetched.
    assert tags.opened <= _PAGE_TAGS, tags.opened - _PAGE_TAGS
    assert tags.attributes <= {"lang", "charset", "http-equiv", "content", "name", "class"}
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    # Each stored value shows up as text: description, tag key and value, param, reason, note.
    assert page.count("&lt;script&gt;") >= 8

    markdown = governed.card("churn/1").to_markdown()
    assert "<script" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;" in markdown


def test_a_card_for_a_version_with_no_evidence_approvals_or_lineage(
    registry: Registry,
) -> None:
    registry.register("churn", b"weights")
    card = registry.card("churn/1")
    assert (card.evidence, card.approvals, card.transitions, card.lineage) == ((), (), (), ())
    text = card.to_markdown()
    assert "_No evidence is attached to this version._" in _section(text, "Evidence")
    assert "_No approvals were recorded for this version._" in _section(text, "Approvals")
    assert "has not changed stage" in _section(text, "Transitions")
    assert "no lineage was recorded" in _section(text, "Lineage")
    assert "_No metrics were recorded._" in _section(text, "Metrics")
    assert "No description was recorded" in _section(text, "Description")
    page = card.to_html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "No evidence is attached to this version." in page


def test_a_deleted_version_has_a_card_and_a_missing_one_does_not(registry: Registry) -> None:
    registry.register("churn", b"one")
    registry.register("churn", b"two")
    registry.delete_version("churn", 1)
    assert "- **Deleted:** yes" in registry.card("churn/1").to_markdown()
    with pytest.raises(NotFoundError):
        registry.card("churn/3")
    with pytest.raises(NotFoundError):
        registry.card("churn@champion")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.opened: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.opened.add(tag)
        self.attributes.update(name for name, _ in attrs)
