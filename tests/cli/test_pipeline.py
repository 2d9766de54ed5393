"""The pipeline of docs/ci.md, run as a shell script against a local folder and the local S3
server, and the workflows on that page checked against the command line they call."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from modelyard.cli._app import UsageError, build_parser
from tests.cli._run import console_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "ci" / "pipeline.sh"
PAGE = ROOT / "docs" / "ci.md"

pytestmark = pytest.mark.slow  # each run trains a model and makes a dozen command-line calls


def _pipeline(
    tmp_path: Path, yard: str, train_args: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(console_script()).parent)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")},
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "MODELYARD_YARD": yard,
        "MODELYARD_CODE_LINEAGE": "0",
        "TRAIN_ARGS": train_args,
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _production(yard: str, **options: str) -> int:
    import modelyard as my

    return my.open_yard(yard, create=False, **options).registry.resolve("churn@production").version


def test_the_pipeline_promotes_a_good_model_on_a_local_yard(tmp_path: Path) -> None:
    done = _pipeline(tmp_path, str(tmp_path / "yard"))
    assert done.returncode == 0, done.stderr
    assert "passed  auc >= 0.8" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("churn/1 sha256:")
    assert (tmp_path / "build" / "drift.html").exists()
    # A second run registers version 2 and promotes it; the first is archived (exclusive stage).
    again = _pipeline(tmp_path, str(tmp_path / "yard"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().splitlines()[-1].startswith("churn/2 sha256:")


def test_a_poor_model_stops_at_the_guard_with_exit_4(tmp_path: Path) -> None:
    done = _pipeline(tmp_path, str(tmp_path / "yard"), "--noise 0.45")
    assert done.returncode == 4
    assert "FAILED  auc >= 0.8" in done.stderr
    assert "--- drift" not in done.stdout  # the build stopped there


def test_drifted_traffic_fails_the_build_with_exit_1(tmp_path: Path) -> None:
    done = _pipeline(tmp_path, str(tmp_path / "yard"), "--shift 1")
    assert done.returncode == 1
    assert "spend" in done.stdout and "--- release" not in done.stdout


def test_the_pipeline_runs_against_the_local_s3_server(
    tmp_path: Path, s3_endpoint: str, s3_url: str
) -> None:
    done = _pipeline(tmp_path, s3_url, AWS_ENDPOINT_URL=s3_endpoint)
    assert done.returncode == 0, done.stderr
    assert _production(s3_url, endpoint_url=s3_endpoint) == 1


# -- the page ---------------------------------------------------------------------------------


def _commands(text: str) -> list[str]:
    """Every `modelyard ...` invocation in ``text``, with CI variables and substitutions made
    placeholders, so the command line's own parser can check it."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "1", text.replace("\\\n", " "))  # GitHub expressions
    found = []
    for match in re.finditer(
        r"modelyard ((?:artifacts|registry|drift|lifecycle|verify|gc)[^|\n)>#]*)", text
    ):
        line = re.sub(r"\$\{?[A-Za-z_][A-Za-z_0-9]*\}?", "1", match.group(1))
        found.append(line.strip())
    return found


def _page_blocks() -> str:
    """The page's YAML and shell blocks (the text around them names commands in passing)."""
    return "\n".join(re.findall(r"```(?:yaml|bash)\n(.*?)```", PAGE.read_text(), flags=re.S))


def test_every_command_of_the_page_and_the_script_parses() -> None:
    parser = build_parser()
    page, script = _commands(_page_blocks()), _commands(SCRIPT.read_text())
    assert len(page) >= 20 and len(script) >= 9
    for line in page + script:
        try:
            parser.parse_args(shlex.split(line))
        except (SystemExit, UsageError):
            pytest.fail(f"does not parse: modelyard {line}")


def test_the_workflows_run_the_steps_of_the_tested_script() -> None:
    def verbs(lines: list[str]) -> set[tuple[str, ...]]:
        return {tuple(line.split()[:2]) for line in lines}

    page, script = _commands(_page_blocks()), _commands(SCRIPT.read_text())
    # `lifecycle show` and `--check` are the page's advice on editing the policy, not steps.
    assert verbs(page) - {("lifecycle", "show")} == verbs(script)
