"""Per-browser state: a working folder under ``workdir`` and what the user has loaded.

A session is identified by a random cookie value. Its files live in
``workdir/sessions/<sha256 of the id>/`` (so the folder name does not reveal the
cookie); nothing is kept inside the package. State is in memory: a restarted server
starts with fresh sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cartcohort.model.cohort import Cohort
    from cartcohort.plan.schema import Plan
    from cartcohort.validate import ValidationReport

COOKIE = "cartcohort_session"
_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

JobState = Literal["waiting", "running", "done", "failed"]


@dataclass(slots=True, kw_only=True)
class Source:
    """The cohort data the user has loaded."""

    path: Path
    #: Shown to the user (the original file name, or the demo's title); always escaped.
    display_name: str
    kind: Literal["upload", "demo"]
    #: Folder prefixes replaced by "" in messages, so no server path is shown.
    hide_prefixes: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class AnalysisRow:
    """One analysis of a finished run, as shown on the page."""

    id: str
    title: str
    kind: str
    status: str
    reason: str
    warnings: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class Job:
    """A plan run in a background thread; the page polls its progress."""

    id: str
    plan_title: str
    out_dir: Path
    state: JobState = "waiting"
    phase: str = "Waiting for another analysis to finish"
    index: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    message: str = ""
    report_file: str = ""
    zip_path: Path | None = None
    rows: tuple[AnalysisRow, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, **changes: object) -> None:
        """Set fields under the lock (the request thread reads them)."""
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, value)

    def snapshot(self) -> dict[str, object]:
        """JSON-ready progress for the polling page."""
        with self.lock:
            return {
                "state": self.state,
                "phase": self.phase,
                "index": self.index,
                "total": self.total,
                "message": self.message,
            }


@dataclass(slots=True, kw_only=True)
class Session:
    """Everything one browser has loaded."""

    id: str
    folder: Path
    source: Source | None = None
    mapping_path: Path | None = None
    report: ValidationReport | None = None
    cohort: Cohort | None = None
    #: Table -> headers found in the file (after normalisation), for the mapping step.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notice: str = ""
    imported_db: Path | None = None
    custom_plan: Plan | None = None
    custom_plan_name: str = ""
    jobs: dict[str, Job] = field(default_factory=dict)
    #: (id of the cohort, plan key) -> what each analysis of the plan will do on it.
    previews: dict[tuple[int, str], tuple[tuple[str, str, str, str], ...]] = field(
        default_factory=dict
    )
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ensure_folder(self) -> Path:
        """The session folder, created on first use."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def hide_paths(self, text: str) -> str:
        """``text`` with server-side folder names removed (messages may quote a path)."""
        prefixes = [str(self.folder)]
        if self.source is not None:
            prefixes.extend(self.source.hide_prefixes)
        for prefix in sorted(prefixes, key=len, reverse=True):
            text = text.replace(prefix + "/", "").replace(prefix, "")
        return text

    def clear_cohort(self) -> None:
        """Forget the loaded data; the column mapping is kept for the next upload."""
        self.source = None
        self.report = None
        self.cohort = None
        self.columns = {}
        self.imported_db = None
        self.notice = ""


class SessionStore:
    """Sessions by cookie value; the least recently used are forgotten beyond ``limit``."""

    def __init__(self, root: Path, *, limit: int = 200) -> None:
        self.root = root
        self.limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Session | None:
        """The session for a cookie value, or ``None`` (unknown or malformed)."""
        if not session_id or not _ID.match(session_id):
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions.move_to_end(session_id)
                session.last_used = time.monotonic()
            return session

    def create(self) -> Session:
        """A new session with a random id (its folder is created when first needed)."""
        session_id = secrets.token_urlsafe(32)
        digest = hashlib.sha256(session_id.encode("ascii")).hexdigest()[:32]
        session = Session(id=session_id, folder=self.root / "sessions" / digest)
        with self._lock:
            self._sessions[session_id] = session
            self._evict()
        return session

    def _evict(self) -> None:
        while len(self._sessions) > self.limit:
            oldest = next(iter(self._sessions))
            busy = any(
                j.state in ("waiting", "running") for j in self._sessions[oldest].jobs.values()
            )
            if busy:
                self._sessions.move_to_end(oldest)
                if all(
                    any(j.state in ("waiting", "running") for j in s.jobs.values())
                    for s in self._sessions.values()
                ):
                    return
                continue
            gone = self._sessions.pop(oldest)
            shutil.rmtree(gone.folder, ignore_errors=True)


__all__ = ["COOKIE", "AnalysisRow", "Job", "JobState", "Session", "SessionStore", "Source"]
