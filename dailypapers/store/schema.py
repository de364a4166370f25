"""The store's tables. All times are naive UTC. Changes here need an Alembic migration
(`alembic revision --autogenerate` from dailypapers/store); a test checks that the models and the
migrations agree."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations work the same on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Paper(Base):
    """One arXiv paper, at its latest known version."""

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(40), unique=True)
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text)
    # Ordered list of {"name": str, "affiliations": [str]?}
    authors: Mapped[list] = mapped_column(JSON)
    primary_category: Mapped[str | None] = mapped_column(String(40))
    categories: Mapped[list] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    report_no: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(String(255))
    code_url: Mapped[str | None] = mapped_column(Text)
    project_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The first day the paper was featured (daily_entries, never listings); denormalized for sorting.
    first_featured: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # Counts: upvotes an upstream site reported (HF) and our own, kept in step with their tables.
    upvotes_imported: Mapped[int] = mapped_column(Integer, default=0)
    upvote_count: Mapped[int] = mapped_column(Integer, default=0)
    comments_imported: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # What Hugging Face's papers API said beyond the arXiv metadata, as its latest import gave it:
    # {"authors": [{name, hidden, user?, status?, statusLastChangedAt?}], "mediaUrls": [...],
    #  "ai_summary", "ai_keywords": [...], "githubStars", "organization": {...}}; None for other sources.
    hf_meta: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(40), default="")
    content_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped on every change; the search indexer follows it.
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PaperVersion(Base):
    """A paper's version history: every version any source reported."""

    __tablename__ = "paper_versions"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The title as of this version, when a source showed it to us (None when only the date is known).
    title: Mapped[str | None] = mapped_column(Text)
    # The abstract as of this version, when a source showed it (the paper page diffs consecutive ones).
    abstract: Mapped[str | None] = mapped_column(Text)

    __table_args__ = {"sqlite_with_rowid": False}


class PaperRepo(Base):
    """A code repository a paper links to (GitHub, GitLab, a Hugging Face model, dataset or Space),
    found in its abstract, comments or Hugging Face's data; for GitHub, its stars as the github-stars
    job last read them (with the ETag for a conditional request), or HF's figure until then
    (checked_at NULL)."""

    __tablename__ = "paper_repos"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(String(300), primary_key=True)  # normalised: https://github.com/owner/repo
    host: Mapped[str] = mapped_column(String(20))  # github | gitlab | hf-model | hf-dataset | hf-space
    owner_repo: Mapped[str] = mapped_column(String(250))  # owner/repo, as written (GitHub names ignore case)
    stars: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # when the job last read it; NULL: never
    source: Mapped[str] = mapped_column(String(20))  # hf | abstract | comment

    __table_args__ = (Index("ix_paper_repos_host_checked", "host", "checked_at"),)


class PaperAuthor(Base):
    """The author index: each author of each paper under its folded key (personnames.author_key:
    surname and first initial), so an author's page is one index range. Written by ingest with the
    paper, backfilled by migration 0012 and `dailypapers index`."""

    __tablename__ = "paper_authors"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # in the paper's author list, from 0
    key: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(Text)  # as the paper spells it

    __table_args__ = (Index("ix_paper_authors_key_paper", "key", "paper_id"), {"sqlite_with_rowid": False})


class AuthorClaim(Base):
    """A member's claim to be one of a paper's authors: pending until a curator confirms or rejects
    it, or confirmed at once by the email rule (web/claims.py)."""

    __tablename__ = "author_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # which author of the paper's list, from 0
    name: Mapped[str] = mapped_column(Text)  # that author's name when claimed
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending | confirmed | rejected
    how: Mapped[str | None] = mapped_column(String(40))  # what confirmed it: curator | email-domain
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # One claim per member and paper (a rejected one stays, so it is not made again and again).
    __table_args__ = (UniqueConstraint("paper_id", "user_id", name="uq_author_claims_paper_user"),)


class PaperCategory(Base):
    """Paper to category, for category feeds, filters and statistics."""

    __tablename__ = "paper_categories"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    # WITHOUT ROWID on SQLite: the primary key is the table, one b-tree less to write per row.
    __table_args__ = (Index("ix_paper_categories_category_paper", "category", "paper_id"), {"sqlite_with_rowid": False})


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    is_curator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Bumped by every personal signal (upvote, save, dismissal, follow, import): what a stored
    # recommender (rec_models.signals) is compared with to know it is stale.
    signals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class DailyEntry(Base):
    """A paper featured on a day's feed: the curated list (a member's submission, a curator, an
    import from Hugging Face's daily papers). What arXiv merely listed is in `listings`."""

    __tablename__ = "daily_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitter_name: Mapped[str | None] = mapped_column(String(100))  # an upstream (HF) user's name
    source: Mapped[str] = mapped_column(String(20), default="user")  # hf | user | curator

    __table_args__ = (
        UniqueConstraint("paper_id", "day", name="uq_daily_entries_paper_day"),
        Index("ix_daily_entries_day_paper", "day", "paper_id"),
        # Partial: only entries submitted by local users, for their profile pages.
        Index(
            "ix_daily_entries_submitted_by",
            "submitted_by_id",
            sqlite_where=text("submitted_by_id IS NOT NULL"),
            postgresql_where=text("submitted_by_id IS NOT NULL"),
        ),
    )


# Submitters are looked up without regard to case (?submitter=NAME, as Hugging Face does).
Index("ix_daily_entries_submitter_lower", func.lower(DailyEntry.submitter_name))


class Listing(Base):
    """A paper arXiv announced on a day (a daily listing file, an OAI-PMH harvest): everything
    listed, apart from the curated daily_entries. `position` orders a day's listing (1, 2, ...)."""

    __tablename__ = "listings"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="listing")  # listing | arxiv

    __table_args__ = (Index("ix_listings_day_position", "day", "position"), {"sqlite_with_rowid": False})


class Collection(Base):
    """A member's named, ordered list of papers (issue 15): private unless made public, with a
    description. Each member has one default collection, "Saved", that a card's Save button fills."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # the member's "Saved"
    position: Mapped[int] = mapped_column(Integer, default=0)  # the member's order of their collections
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_collections_user_name"),)


class CollectionPaper(Base):
    """A paper in a collection, at a position (1, 2, ...: the member's order)."""

    __tablename__ = "collection_papers"

    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_collection_papers_paper", "paper_id"), {"sqlite_with_rowid": False})


class PaperNote(Base):
    """A member's own marks on a paper, private to them: a note (Markdown as written) and when they
    marked it read."""

    __tablename__ = "paper_notes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    note: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = {"sqlite_with_rowid": False}


class PaperTag(Base):
    """A member's private tag on a paper (folded to lower case, up to 60 characters)."""

    __tablename__ = "paper_tags"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_paper_tags_user_paper", "user_id", "paper_id"), {"sqlite_with_rowid": False})


class Follow(Base):
    """What a member follows: an author (value: the folded author key of personnames.author_key), a
    category (an arXiv code) or a saved search (a query in the search syntax). `label` is how it
    is shown (the author's name as written, the search as typed)."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # author | category | search
    value: Mapped[str] = mapped_column(String(400))
    label: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),
        Index("ix_follows_kind_value", "kind", "value"),
    )


class Feedback(Base):
    """A member's feedback on a paper other than an upvote or a save: `dismiss` ("not interested":
    the paper is hidden from them and a negative for their recommender) and `shown` (recommended to
    them on a page; `count` times; a paper shown and passed over is a weak negative)."""

    __tablename__ = "feedback"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)  # dismiss | shown
    count: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # the latest time

    __table_args__ = (Index("ix_feedback_user_kind_at", "user_id", "kind", "at"), {"sqlite_with_rowid": False})


class ApiToken(Base):
    """A member's secret: a personal API token (kind `api`, sent as `Authorization: Bearer ...`) or
    the key of their private Atom feed (kind `feed`, in the feed's URL). Only its SHA-256 is stored;
    `hint` is its last characters, to tell tokens apart. Revoked tokens stay, refused, for the record."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # api | feed
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RecModel(Base):
    """A fitted recommender (ranking/personal.py): a member's (`owner` "user:ID") or the community's
    ("community"), serialized. `signals` is the member's feedback counter it was fitted at, so a
    stale model is known without refitting on a page request."""

    __tablename__ = "rec_models"

    owner: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(40))
    model: Mapped[bytes] = mapped_column(LargeBinary)
    positives: Mapped[int] = mapped_column(Integer, default=0)
    negatives: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HfUser(Base):
    """A Hugging Face user who submitted papers we imported: the profile the import carried, so
    the API can show the submitter's full name and avatar (refreshed by every import)."""

    __tablename__ = "hf_users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    fullname: Mapped[str | None] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(Text)  # absolute, or None: we generate one
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Upvote(Base):
    __tablename__ = "upvotes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_upvotes_paper", "paper_id"), {"sqlite_with_rowid": False})


class Comment(Base):
    """A comment in a paper's discussion. Markdown as written, and its sanitized HTML."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_comments_paper_created", "paper_id", "created_at"),)


class Subscription(Base):
    """An email digest subscription. Managed without logging in, through signed links."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    cadence: Mapped[str] = mapped_column(String(10), default="daily")  # daily | weekly
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    # pending | active | unsubscribed | suspended
    trending_count: Mapped[int] = mapped_column(Integer, default=10)  # 0: no trending section
    topic_query: Mapped[str | None] = mapped_column(Text)  # a saved search
    topic_categories: Mapped[list] = mapped_column(JSON, default=list)
    similar_to_upvotes: Mapped[bool] = mapped_column(Boolean, default=False)
    # Random secret mixed into signed links, so rotating it revokes every old link.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # topic alerts start after this
    permanent_failures: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """One email (digest or confirmation) for a subscription and period, recorded before sending."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # digest | confirm
    period: Mapped[str] = mapped_column(String(40))  # e.g. daily:2026-11-27, weekly:2026-W48
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    # pending | sending | sent | failed | skipped | unknown (interrupted twice; never sent a third time)
    message_id: Mapped[str | None] = mapped_column(String(255))
    paper_ids: Mapped[list] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The sender (host:pid) holding a "sending" row, and how often a sender died holding this row:
    # see dailypapers/digest/send.py for how the message in flight at a crash is bounded.
    sender: Mapped[str | None] = mapped_column(String(120))
    interrupted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("subscription_id", "kind", "period", name="uq_deliveries_sub_kind_period"),)


class OutboxMail(Base):
    """A one-off email (a subscription's confirmation or preferences link, an account email),
    recorded in the same transaction as the request that causes it, before the answer; then sent,
    and retried with backoff until sent or failed. Rendered when sent, from the rows it names.
    See dailypapers/digest/outbox.py."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirm | manage | address | signup-attempt
    recipient: Mapped[str] = mapped_column(String(320))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # pending (due at next_attempt_at) | sending (held by `sender` until next_attempt_at, its lease)
    # | sent | failed | skipped (no longer needed) | unknown (a sender died holding it twice)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sender: Mapped[str | None] = mapped_column(String(120))
    interrupted: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)


class Embedding(Base):
    """A paper's vector from one model, float32 little-endian bytes."""

    __tablename__ = "embeddings"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(80), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(32))  # the paper's hash the vector was computed from
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PaperSummary(Base):
    """A paper's one line and key phrases, computed by the index job (index/summaries.py): extracted
    from the abstract, or Hugging Face's AI summary and keywords when its mirror gave them."""

    __tablename__ = "paper_summaries"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    summary: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list] = mapped_column(JSON)  # [str], most relevant first
    # How: "embedding" | "tfidf" (extracted), "hf" (both HF's), "hf+embedding" | "hf+tfidf" (one of each).
    method: Mapped[str] = mapped_column(String(20))
    method_version: Mapped[int] = mapped_column(Integer)  # a newer method recomputes older rows
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = {"sqlite_with_rowid": False}


class IngestedRecord(Base):
    """Fingerprints of input records already applied, so re-reading a file skips them unparsed."""

    __tablename__ = "ingested_records"

    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    # No index on paper_id: it would slow every import for the rare deletion of a paper.
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))

    __table_args__ = {"sqlite_with_rowid": False}


class SimilarPapers(Base):
    """A paper's nearest papers by embedding, computed by the index job (the paper page reads this
    instead of searching the vector index on every view)."""

    __tablename__ = "similar_papers"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(80))
    neighbours: Mapped[list] = mapped_column(JSON)  # [[paper_id, cosine], ...] best first
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = {"sqlite_with_rowid": False}


class HarvestState(Base):
    """Where an upstream harvest stopped, so a crashed run resumes instead of starting over."""

    __tablename__ = "harvest_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)  # OAI-PMH resumption token or API offset
    records: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class IngestRun(Base):
    """A log of ingest runs with their counts, shown to admins and used by `up` to know what is fresh."""

    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done | failed


class JobRun(Base):
    """One run of a scheduled job for one period; the unique key makes scheduling idempotent."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A running job's worker renews this; a run whose heartbeat is stale belongs to a dead worker.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "period", name="uq_job_runs_name_period"),)


class FetchRequest(Base):
    """A paper the store lacks that a member submitted or a visitor asked for. The web only writes
    these; the fetch-papers job (ingest/lookup.py) asks arXiv for them and applies the outcome."""

    __tablename__ = "fetch_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(String(12))  # submission | lookup | import
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # a submission's member
    day: Mapped[dt.date | None] = mapped_column(Date)  # the feed day a submission was made for
    # an import's collection: the paper joins it once fetched
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    # pending | fetching | done (a lookup's paper arrived) | featured | refused (submissions) | failed (gave up)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)  # why it was refused or failed, as shown to the member
    # "arxiv_id user_id" while the request is open (pending, fetching), NULL once it has ended: unique,
    # so there is one open request per paper and member (and one per paper for visitors' lookups).
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # a fetching row's lease
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_fetch_requests_state_next", "state", "next_attempt_at"),
        Index("ix_fetch_requests_user_created", "user_id", "created_at"),
    )


class Thumbnail(Base):
    """A featured paper's picture for its card: made by the thumbnails job (ingest/thumbnails.py)
    from HF's mirrored thumbnail or the PDF's first page, stored as WebP under data_dir. A failed
    try is retried with backoff (next_attempt_at) a few times; meanwhile the card is generated."""

    __tablename__ = "thumbnails"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str | None] = mapped_column(Text)  # relative to data_dir
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(8))  # pdf | hf
    status: Mapped[str] = mapped_column(String(12))  # ok | failed
    tries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = {"sqlite_with_rowid": False}


class RateLimit(Base):
    """Fixed-window rate-limit counters, shared by every process of the site (see store/ratelimit)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds

    __table_args__ = {"sqlite_with_rowid": False}


class KeyValue(Base):
    """Small store-wide state: index watermarks, the site's generated secret key."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

