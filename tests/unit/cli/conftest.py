"""Running the real ``cartcohort`` entry point in a child process, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``cartcohort ARGS`` in ``cwd`` through ``cartcohort.cli.main`` (exit codes as a user
    sees them), with a wide terminal so that Typer's error panel does not wrap messages."""
    return subprocess.run(
        [sys.executable, "-m", "cartcohort.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "TERM": "dumb"},
        timeout=120,
        check=False,
    )


@pytest.fixture
def run_cli() -> RunCli:
    """The function that runs ``cartcohort ARGS`` in a child process (see :func:`_run`)."""
    return _run
