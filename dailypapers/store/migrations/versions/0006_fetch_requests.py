"""fetch requests: papers to fetch from arXiv in the background (submissions, lookups)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetch_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("open_key", sa.String(length=60), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_fetch_requests_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_requests")),
        sa.UniqueConstraint("open_key", name=op.f("uq_fetch_requests_open_key")),
    )
    op.create_index(op.f("ix_fetch_requests_arxiv_id"), "fetch_requests", ["arxiv_id"], unique=False)
    op.create_index("ix_fetch_requests_state_next", "fetch_requests", ["state", "next_attempt_at"], unique=False)
    op.create_index("ix_fetch_requests_user_created", "fetch_requests", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fetch_requests_user_created", table_name="fetch_requests")
    op.drop_index("ix_fetch_requests_state_next", table_name="fetch_requests")
    op.drop_index(op.f("ix_fetch_requests_arxiv_id"), table_name="fetch_requests")
    op.drop_table("fetch_requests")
