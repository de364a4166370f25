"""authors and versions: the author index (backfilled here), members' authorship claims, and the
abstract of each paper version

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("paper_versions", sa.Column("abstract", sa.Text(), nullable=True))
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name=op.f("fk_paper_authors_paper_id_papers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_authors")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "author_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("how", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name=op.f("fk_author_claims_paper_id_papers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_author_claims_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_author_claims_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_claims")),
        sa.UniqueConstraint("paper_id", "user_id", name="uq_author_claims_paper_user"),
    )
    op.create_index(op.f("ix_author_claims_user_id"), "author_claims", ["user_id"], unique=False)
    op.create_index(op.f("ix_author_claims_status"), "author_claims", ["status"], unique=False)
    _backfill_authors()
    # After the backfill: one index build instead of maintaining it row by row.
    op.create_index("ix_paper_authors_key_paper", "paper_authors", ["key", "paper_id"], unique=False)


def _backfill_authors() -> None:
    """The author index of every stored paper (about 10 s for the 75k corpus's 433k names)."""
    from dailypapers.personnames import author_key

    bind = op.get_bind()
    papers = sa.table("papers", sa.column("id", sa.Integer), sa.column("authors", sa.JSON))
    target = sa.table(
        "paper_authors", sa.column("paper_id"), sa.column("position"), sa.column("key"), sa.column("name")
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(papers.c.id, papers.c.authors).where(papers.c.id > last).order_by(papers.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        out = []
        for pid, authors in rows:
            if isinstance(authors, str):
                authors = json.loads(authors)
            for i, author in enumerate(authors or []):
                name = author.get("name") if isinstance(author, dict) else None
                k = author_key(name) if isinstance(name, str) else None
                if k:
                    out.append({"paper_id": pid, "position": i, "key": k, "name": name})
        if out:
            bind.execute(target.insert(), out)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_author_claims_status"), table_name="author_claims")
    op.drop_index(op.f("ix_author_claims_user_id"), table_name="author_claims")
    op.drop_table("author_claims")
    op.drop_index("ix_paper_authors_key_paper", table_name="paper_authors")
    op.drop_table("paper_authors")
    with op.batch_alter_table("paper_versions") as batch:
        batch.drop_column("abstract")
