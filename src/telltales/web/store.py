"""The case store: one case per distinct image (by sha256), the names it was uploaded under,
its report and the reviewer's checklist answers. SQLAlchemy 2; the schema comes from the
Alembic migrations shipped in ``telltales/web/migrations``, run at startup."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    sessionmaker,
)

ANSWERS = ("problem-seen", "looks-fine", "cannot-tell")
ANSWER_TITLES = {"problem-seen": "problem seen", "looks-fine": "looks fine",
                 "cannot-tell": "cannot tell"}
MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    p_generated: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    uploads: Mapped[list[UploadRow]] = relationship(back_populates="case", order_by="UploadRow.id",
                                                    cascade="all, delete-orphan")
    answers: Mapped[list[AnswerRow]] = relationship(back_populates="case", order_by="AnswerRow.cue",
                                                    cascade="all, delete-orphan")


class UploadRow(Base):
    """Each time an image was uploaded, under which name."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="", index=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    case: Mapped[CaseRow] = relationship(back_populates="uploads")


class AnswerRow(Base):
    """The reviewer's answer to one manual check of one case."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("case_id", "cue", name="uq_answers_case_cue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    cue: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    case: Mapped[CaseRow] = relationship(back_populates="answers")


@dataclass(frozen=True)
class Answer:
    cue: str
    answer: str
    note: str = ""
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}, got {self.answer!r}")


@dataclass(frozen=True)
class Case:
    id: int
    sha256: str
    filename: str
    filenames: tuple[str, ...]
    created_at: dt.datetime
    verdict: str
    p_generated: float
    error: str | None
    width: int | None
    height: int | None
    report: dict[str, Any]
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class CaseFilter:
    verdict: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    q: str | None = None  # part of a file name, or the start of a sha256
    limit: int = 100
    offset: int = 0


def _to_case(row: CaseRow) -> Case:
    names = tuple(dict.fromkeys(u.filename for u in row.uploads if u.filename))
    return Case(
        id=row.id, sha256=row.sha256, filename=row.filename, filenames=names,
        created_at=row.created_at, verdict=row.verdict, p_generated=row.p_generated,
        error=row.error, width=row.width, height=row.height, report=row.report,
        answers=tuple(Answer(a.cue, a.answer, a.note, a.updated_at) for a in row.answers),
    )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema with the shipped Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _filtered(stmt: Any, flt: CaseFilter) -> Any:
    if flt.verdict:
        stmt = stmt.where(CaseRow.verdict == flt.verdict)
    if flt.since:
        stmt = stmt.where(CaseRow.created_at >= dt.datetime.combine(flt.since, dt.time()))
    if flt.until:
        stmt = stmt.where(CaseRow.created_at < dt.datetime.combine(flt.until + dt.timedelta(days=1), dt.time()))
    if flt.q:
        q = flt.q.strip()
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        named = select(UploadRow.case_id).where(UploadRow.filename.ilike(like, escape="\\"))
        stmt = stmt.where(or_(CaseRow.sha256.startswith(q.lower()), CaseRow.id.in_(named)))
    return stmt


class CaseStore:
    """Cases in a database; every method opens and closes its own session."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def find(self, sha256: str) -> Case | None:
        with self._session() as s:
            row = s.scalars(select(CaseRow).where(CaseRow.sha256 == sha256)).one_or_none()
            return _to_case(row) if row else None

    def get(self, case_id: int) -> Case | None:
        with self._session() as s:
            row = s.get(CaseRow, case_id)
            return _to_case(row) if row else None

    def add(self, sha256: str, filename: str, report: dict[str, Any]) -> tuple[Case, bool]:
        """Keep ``report`` as the case of ``sha256``; an image already kept gets only the new
        file name. Returns the case and whether it is new."""
        with self._session() as s:
            row = s.scalars(select(CaseRow).where(CaseRow.sha256 == sha256)).one_or_none()
            created = row is None
            if row is None:
                im = report.get("image") or {}
                row = CaseRow(sha256=sha256, filename=filename, verdict=report["verdict"],
                              p_generated=float(report["p_generated"]), error=report.get("error"),
                              width=im.get("width"), height=im.get("height"), report=report)
                s.add(row)
            s.add(UploadRow(case=row, filename=filename))
            try:
                s.commit()
            except Exception:  # two uploads of one new image at once: the other one won
                s.rollback()
                row = s.scalars(select(CaseRow).where(CaseRow.sha256 == sha256)).one()
                s.add(UploadRow(case=row, filename=filename))
                s.commit()
                created = False
            s.refresh(row)
            return _to_case(row), created

    def list(self, flt: CaseFilter) -> tuple[list[Case], int]:
        with self._session() as s:
            total = s.scalar(_filtered(select(func.count(CaseRow.id)), flt)) or 0
            rows = s.scalars(_filtered(select(CaseRow), flt).order_by(CaseRow.id.desc())
                             .limit(flt.limit).offset(flt.offset)).all()
            return [_to_case(r) for r in rows], total

    def save_answers(self, case_id: int, answers: list[Answer]) -> Case | None:
        """Set (or replace) the reviewer's answers for these checks; others stay."""
        with self._session() as s:
            row = s.get(CaseRow, case_id)
            if row is None:
                return None
            existing = {a.cue: a for a in row.answers}
            now = utcnow()
            for a in answers:
                if a.cue in existing:
                    old = existing[a.cue]
                    old.answer, old.note, old.updated_at = a.answer, a.note, now
                else:
                    row.answers.append(AnswerRow(cue=a.cue, answer=a.answer, note=a.note, updated_at=now))
            s.commit()
            s.refresh(row)
            return _to_case(row)


class ImageFolder:
    """Uploaded files kept by sha256 (``ab/abcdef...``) with a browser preview beside each."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str, suffix: str = "") -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / (sha256 + suffix)

    def original(self, sha256: str) -> Path:
        return self._path(sha256)

    def preview(self, sha256: str) -> Path:
        return self._path(sha256, ".preview.jpg")

    def save(self, sha256: str, data: bytes, preview: bytes | None) -> None:
        for path, blob in ((self.original(sha256), data), (self.preview(sha256), preview)):
            if blob is None or path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
