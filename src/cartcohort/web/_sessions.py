"""Per-browser state: a working folder under ``workdir`` and what the user has loaded.

A session is identified by a random cookie value. Its files live in
``workdir/sessions/<sha256 of the id>/`` (so the folder name does not reveal the
cookie); nothing is kept inside the package. State is in memory: a restarted server
starts with fresh sessions.

Sessions are created only when the user sends a form of the app's own pages (never by a
page view, which any web site can trigger with an ``<img>`` tag). Their number is capped
per client address and in total; at the cap a new session is refused
(:class:`SessionLimitError`), never made by evicting someone's session. A session
is forgotten, with its folder, only after ``idle_seconds`` without a request (and
never while one of its runs is in progress).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
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
    #: The Word document of the report (``report.docx``), when the writer made one.
    docx_file: str = ""
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
    #: The client address that created it (sessions are capped per address).
    client: str = ""
    #: The token every form of this session carries (checked on each POST).
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: A stand-in for a page view without a session: shown empty, never stored or written.
    transient: bool = False

    def ensure_folder(self) -> Path:
        """The session folder, created on first use."""
        if self.transient:
            msg = "a page view without a session must not write files"
            raise RuntimeError(msg)
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def busy(self) -> bool:
        """Whether one of its runs is waiting or running."""
        return any(j.state in ("waiting", "running") for j in self.jobs.values())

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


class SessionLimitError(Exception):
    """No new session can be made now; the message is shown to the user as it is."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        #: 429 (this client has too many) or 503 (the server has too many).
        self.status = status


class SessionStore:
    """Sessions by cookie value, capped per client and in total, forgotten when idle.

    Parameters
    ----------
    root
        The app's working folder; session folders are ``root/sessions/<digest>``.
    per_client
        Most sessions one client address may hold at once.
    limit
        Most sessions in total.
    idle_seconds
        A session unused for this long is forgotten and its folder deleted (unless a
        run of it is in progress).
    clock
        Monotonic seconds (a parameter so tests can move time without waiting).
    """

    def __init__(
        self,
        root: Path,
        *,
        per_client: int = 20,
        limit: int = 200,
        idle_seconds: float = 8 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.per_client = per_client
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def get(self, session_id: str | None) -> Session | None:
        """The session for a cookie value, or ``None`` (unknown, expired or malformed)."""
        if not session_id or not _ID.match(session_id):
            return None
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
            if session is not None:
                session.last_used = self.clock()
            return session

    def create(self, client: str) -> Session:
        """A new session with a random id (its folder is created when first needed).

        Raises
        ------
        SessionLimitError
            ``client`` already holds ``per_client`` sessions (status 429), or the
            server holds ``limit`` (status 503). No existing session is touched.
        """
        session_id = secrets.token_urlsafe(32)
        digest = hashlib.sha256(session_id.encode("ascii")).hexdigest()[:32]
        with self._lock:
            self._expire()
            hours = f"{self.idle_seconds / 3600:g}"
            if sum(1 for s in self._sessions.values() if s.client == client) >= self.per_client:
                msg = (
                    f"This computer already has {self.per_client} open sessions on this server, "
                    "the most it allows. Go on working in a browser window that is already "
                    f"open, or wait: a session unused for {hours} hours is closed."
                )
                raise SessionLimitError(msg, status=429)
            if len(self._sessions) >= self.limit:
                msg = (
                    f"This server already has {self.limit} open sessions, the most it allows. "
                    f"Try again later: a session unused for {hours} hours is closed."
                )
                raise SessionLimitError(msg, status=503)
            session = Session(
                id=session_id,
                folder=self.root / "sessions" / digest,
                client=client,
                last_used=self.clock(),
            )
            self._sessions[session_id] = session
        return session

    def _expire(self) -> None:
        """Forget sessions idle for longer than ``idle_seconds`` (caller holds the lock)."""
        cutoff = self.clock() - self.idle_seconds
        for session_id, session in list(self._sessions.items()):
            if session.last_used < cutoff and not session.busy():
                del self._sessions[session_id]
                shutil.rmtree(session.folder, ignore_errors=True)


def transient_session(root: Path) -> Session:
    """The empty session a page view without a session cookie is shown with."""
    return Session(id="", folder=root / "sessions" / "none", transient=True)


__all__ = [
    "COOKIE",
    "AnalysisRow",
    "Job",
    "JobState",
    "Session",
    "SessionLimitError",
    "SessionStore",
    "Source",
    "transient_session",
]
