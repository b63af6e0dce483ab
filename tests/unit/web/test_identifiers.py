"""The browser app refuses identifier columns before import, with the library's check."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from cartcohort.web import create_app

IDENTIFIED = b"patient_id,sex,Nom,email\nP1,M,Lee,ann@example.org\nP2,F,Chan,bo@example.org\n"


def test_upload_with_identifier_columns_says_so_and_cannot_be_imported(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "work"), base_url="http://127.0.0.1") as client:
        # the app's forms send the page's CSRF token
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
        assert token is not None
        client.headers["X-CSRF-Token"] = token.group(1)
        r = client.post("/cohort/upload", files={"file": ("patients.csv", IDENTIFIED)})
        assert r.status_code == 200
        status = r.text[r.text.index('data-testid="identifier-status"') :]
        status = status[: status.index("</p>")]
        assert "<code>Nom</code>, <code>email</code>" in status
        assert "45 CFR 164.514(b)(2)" in status
        assert "Import into the cohort database" not in r.text
        assert "extra.identifier" in r.text  # the rule in the validation report
        r = client.post("/cohort/import")
        assert r.status_code == 400
        assert not list((tmp_path / "work").rglob("*.duckdb"))
