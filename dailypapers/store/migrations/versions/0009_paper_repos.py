"""paper_repos: the code repositories each paper links to, with GitHub stars and their ETag

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_repos",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("host", sa.String(length=20), nullable=False),
        sa.Column("owner_repo", sa.String(length=250), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name=op.f("fk_paper_repos_paper_id_papers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_id", "url", name=op.f("pk_paper_repos")),
    )
    op.create_index("ix_paper_repos_host_checked", "paper_repos", ["host", "checked_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_paper_repos_host_checked", table_name="paper_repos")
    op.drop_table("paper_repos")
