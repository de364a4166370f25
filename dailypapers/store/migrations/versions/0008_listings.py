"""listings: what arXiv announced each day, apart from the curated daily_entries

The arXiv listing entries ('listing' from listing files, 'arxiv' from OAI-PMH harvests) move out of
daily_entries into listings, keeping each day's order (the entries' insertion order); papers'
first_featured is recomputed from what stays featured. The downgrade moves them back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LISTED = "('listing', 'arxiv')"

FIRST_FEATURED = (
    "UPDATE papers SET first_featured = "
    "(SELECT min(e.day) FROM daily_entries e WHERE e.paper_id = papers.id)"
)


def upgrade() -> None:
    op.create_table(
        "listings",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], name=op.f("fk_listings_paper_id_papers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_id", "day", name=op.f("pk_listings")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_listings_day_position", "listings", ["day", "position"], unique=False)
    op.execute(
        "INSERT INTO listings (paper_id, day, position, source) "
        "SELECT paper_id, day, row_number() OVER (PARTITION BY day ORDER BY id), source "
        f"FROM daily_entries WHERE source IN {LISTED}"
    )
    op.execute(f"DELETE FROM daily_entries WHERE source IN {LISTED}")
    op.execute(FIRST_FEATURED)


def downgrade() -> None:
    # A listing entry was featured at midnight of its day, by no one (as ingest made it).
    if op.get_bind().dialect.name == "sqlite":
        midnight = "l.day || ' 00:00:00.000000'"
    else:
        midnight = "CAST(l.day AS TIMESTAMP)"
    op.execute(
        "INSERT INTO daily_entries (paper_id, day, submitted_at, source) "
        f"SELECT l.paper_id, l.day, {midnight}, l.source FROM listings l "
        "WHERE NOT EXISTS (SELECT 1 FROM daily_entries e WHERE e.paper_id = l.paper_id AND e.day = l.day) "
        "ORDER BY l.day, l.position"
    )
    op.execute(FIRST_FEATURED)
    op.drop_index("ix_listings_day_position", table_name="listings")
    op.drop_table("listings")
