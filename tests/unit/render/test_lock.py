"""The report says whether it was made with the locked set of packages, and what differs."""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from cartcohort.render.report.methods import LOCK_PATH, lock_status

ROOT = Path(__file__).resolve().parents[3]


def test_the_package_carries_the_repository_lock() -> None:
    packaged = (resources.files("cartcohort") / "locked.txt").read_text(encoding="utf-8")
    assert packaged == (ROOT / LOCK_PATH).read_text(encoding="utf-8")
    status = lock_status()
    assert status is not None
    assert status.n_packages > 20
    assert all(line.count("==") == 1 for line in packaged.splitlines() if line[:1] != "#")


def test_a_lock_that_matches_the_installed_versions_is_named() -> None:
    numpy, pandas = metadata.version("numpy"), metadata.version("pandas")
    status = lock_status(f"# header\nnumpy=={numpy}\npandas=={pandas}\n")
    assert status is not None
    assert status.matches
    assert status.n_packages == 2
    assert "Installed from the lock constraints/locked.txt" in status.sentence()
    assert status.as_dict()["matches"] is True


def test_what_differs_from_the_lock_is_listed() -> None:
    numpy = metadata.version("numpy")
    status = lock_status(f"numpy=={numpy}\npandas==0.0.1\nno-such-package-xyz==1.0\n")
    assert status is not None
    assert not status.matches
    assert status.differing == (
        ("no-such-package-xyz", "not installed", "1.0"),
        ("pandas", metadata.version("pandas"), "0.0.1"),
    )
    sentence = status.sentence()
    assert sentence.startswith("Not the locked set: 2 of the 3 packages")
    assert "pandas " + metadata.version("pandas") + " (locked 0.0.1)" in sentence


def test_a_lock_without_pins_is_no_lock() -> None:
    assert lock_status("# nothing pinned\n") is None
