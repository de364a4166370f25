"""Hugging Face fields: what its papers API says beyond arXiv (claimed authors, media, AI summary
and keywords, GitHub stars, organization), the profiles of its submitters, and submitters looked up
without regard to case

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch_op:
        batch_op.add_column(sa.Column("hf_meta", sa.JSON(), nullable=True))
    op.create_table(
        "hf_users",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("fullname", sa.String(length=200), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hf_users")),
    )
    op.create_index("ix_daily_entries_submitter_lower", "daily_entries", [sa.text("lower(submitter_name)")])


def downgrade() -> None:
    op.drop_index("ix_daily_entries_submitter_lower", table_name="daily_entries")
    op.drop_table("hf_users")
    with op.batch_alter_table("papers") as batch_op:
        batch_op.drop_column("hf_meta")
