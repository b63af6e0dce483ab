"""Command-line misuse is a usage error (usage, a hint, exit 2), never 'Internal error'.

These run the real entry point (``cartcohort.cli.main``) in a child process, because the
standalone handling of usage errors lives there, not in the Typer app that CliRunner drives.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

EXIT_USAGE = 2


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["template"], "Missing argument"),
        (["report", "--bogus"], "No such option: --bogus"),
        (["import", "cohort.csv"], "Missing option '--db'"),
        (
            ["assay", "plate.csv", "--kind", "qpcr", "--out", "o", "--dna-ng", "lots"],
            "Invalid value for '--dna-ng'",
        ),
    ],
    ids=["unknown-command", "missing-argument", "unknown-option", "missing-option", "bad-value"],
)
def test_misuse_prints_usage_and_a_hint_and_exits_2(
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
    args: list[str],
    problem: str,
) -> None:
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Usage: cartcohort" in done.stderr
    assert "--help' for help" in done.stderr
    assert problem in done.stderr
    assert "Internal error" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_option_without_its_value_is_a_usage_error(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    # Click reports this one from its parser, before it knows the command: no usage line.
    done = run_cli("export", "--db", "x.duckdb", "--out", "o", "--format", cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Option '--format' requires an argument" in done.stderr
    assert "Internal error" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_command_shows_the_help_and_exits_2(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    done = run_cli(cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert "Usage: cartcohort" in done.stdout + done.stderr
    assert "report" in done.stdout + done.stderr


def test_help_exits_0(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    done = run_cli("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout


def test_a_data_problem_exits_1_with_a_message_not_a_usage_error(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    done = run_cli("validate", str(tmp_path / "missing.csv"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Internal error" not in done.stderr
    assert "Traceback" not in done.stderr
