"""Developer sessions: `nox -s tests lint typecheck docs bench bench_peers tests_lowest`."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12"]

# The oldest versions of the core dependencies that pyproject.toml admits.
LOWEST = [
    "pydantic==2.6.0",
    "numpy==1.26.0",
    "pandas==2.1.0",
    "scipy==1.11.1",
    "scikit-learn==1.4.0",
    "fsspec==2024.2.0",
    "pyarrow==15.0.0",
]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole test suite, slow tests and doctests included (posargs choose instead)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *(session.posargs or ["-m", "slow or not slow"]))


@nox.session(python="3.11")
def tests_lowest(session: nox.Session) -> None:
    """Run the test suite against the lowest supported core dependencies."""
    # The S3 extra needs a newer fsspec than the core lower bound, so S3 is left out here.
    session.install("-e", ".[test]", *LOWEST)
    session.run("pytest", "-m", "(slow or not slow) and not s3", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src/modelyard")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation strictly (warnings are errors)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run the benchmarks; each prints a table of ratios measured in the same run."""
    session.install("-e", ".[dev]")
    scripts = session.posargs or ["artifacts", "drift", "registry"]
    for script in scripts:
        session.run("python", f"benchmarks/{script}.py")


@nox.session(python="3.11")
def bench_peers(session: nox.Session) -> None:
    """Run the same data through Evidently, NannyML and MLflow, in an environment of their own."""
    # The peers' scripts do not import modelyard; compare their output with `nox -s bench`.
    session.install("-r", "benchmarks/peers/requirements-drift.txt")
    session.run("python", "benchmarks/peers/drift_peers.py", "bench")
    session.install("-r", "benchmarks/peers/requirements-registry.txt")
    session.run("python", "benchmarks/peers/registry_mlflow.py")
