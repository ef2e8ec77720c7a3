"""cases, uploads and reviewer answers

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("p_generated", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_index("ix_cases_sha256", "cases", ["sha256"], unique=True)
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_verdict", "cases", ["verdict"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("uploaded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_uploads_case_id", "uploads", ["case_id"])
    op.create_index("ix_uploads_filename", "uploads", ["filename"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("cue", sa.String(64), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("case_id", "cue", name="uq_answers_case_cue"),
    )
    op.create_index("ix_answers_case_id", "answers", ["case_id"])


def downgrade() -> None:
    op.drop_table("answers")
    op.drop_table("uploads")
    op.drop_table("cases")
