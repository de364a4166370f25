"""personal: members' collections, notes, tags, follows, feedback, API and feed tokens, fitted
recommenders, a per-member signals counter, and the collection an import's fetch request fills

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _ref(table: str, column: str, target: str, *, nullable: bool = False) -> sa.Column:
    """A column referring to `target`'s id, its constraint named as schema.NAMING names it."""
    name = f"fk_{table}_{column}_{target}"
    return sa.Column(column, sa.Integer(), sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=name), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), nullable=False),
        _ref("collections", "user_id", "users"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
    )
    op.create_index(op.f("ix_collections_user_id"), "collections", ["user_id"], unique=False)
    op.create_table(
        "collection_papers",
        _ref("collection_papers", "collection_id", "collections"),
        _ref("collection_papers", "paper_id", "papers"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name=op.f("pk_collection_papers")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_collection_papers_paper", "collection_papers", ["paper_id"], unique=False)
    op.create_table(
        "paper_notes",
        _ref("paper_notes", "user_id", "users"),
        _ref("paper_notes", "paper_id", "papers"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_paper_notes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "paper_tags",
        _ref("paper_tags", "user_id", "users"),
        sa.Column("tag", sa.String(length=60), nullable=False),
        _ref("paper_tags", "paper_id", "papers"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "tag", "paper_id", name=op.f("pk_paper_tags")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_paper_tags_user_paper", "paper_tags", ["user_id", "paper_id"], unique=False)
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        _ref("follows", "user_id", "users"),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),
    )
    op.create_index("ix_follows_kind_value", "follows", ["kind", "value"], unique=False)
    op.create_table(
        "feedback",
        _ref("feedback", "user_id", "users"),
        _ref("feedback", "paper_id", "papers"),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id", "kind", name=op.f("pk_feedback")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_feedback_user_kind_at", "feedback", ["user_id", "kind", "at"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        _ref("api_tokens", "user_id", "users"),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "rec_models",
        sa.Column("owner", sa.String(length=40), nullable=False),
        _ref("rec_models", "user_id", "users", nullable=True),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("negatives", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_rec_models")),
    )
    op.create_index(op.f("ix_rec_models_user_id"), "rec_models", ["user_id"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("signals", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("fetch_requests") as batch:
        batch.add_column(sa.Column("collection_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_fetch_requests_collection_id_collections"), "collections", ["collection_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("fetch_requests") as batch:
        batch.drop_constraint(op.f("fk_fetch_requests_collection_id_collections"), type_="foreignkey")
        batch.drop_column("collection_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("signals")
    op.drop_index(op.f("ix_rec_models_user_id"), table_name="rec_models")
    op.drop_table("rec_models")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_feedback_user_kind_at", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_follows_kind_value", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_paper_tags_user_paper", table_name="paper_tags")
    op.drop_table("paper_tags")
    op.drop_table("paper_notes")
    op.drop_index("ix_collection_papers_paper", table_name="collection_papers")
    op.drop_table("collection_papers")
    op.drop_index(op.f("ix_collections_user_id"), table_name="collections")
    op.drop_table("collections")
