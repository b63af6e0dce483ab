"""The browser app shows how much of an upload was used first (issue #12 item 3)."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from cartcohort.web import create_app

SHEET = b"patient_id,Age (yrs),sex,Gender2\nP1,45,M,x\nP2,30,F,y\n"


def test_upload_shows_the_used_columns_line_before_the_status(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "work"), base_url="http://127.0.0.1") as client:
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
        assert token is not None
        client.headers["X-CSRF-Token"] = token.group(1)
        r = client.post("/cohort/upload", files={"file": ("patients.csv", SHEET)})
        assert r.status_code == 200
        summary = r.text.index('data-testid="validation-summary"')
        assert r.text.index('data-testid="validation-status"') > summary
        line = r.text[summary : r.text.index("</p>", summary)]
        assert "2 of 4 columns recognised; 2 patients; tables found: patients (2 rows)." in line
