"""Members' secrets: personal API tokens (kind `api`) and private feed keys (kind `feed`). The
secret itself is shown once, when made; only its SHA-256 is stored. Revoked tokens stay, refused."""

from __future__ import annotations

import hashlib
import secrets as random_secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .schema import ApiToken, User, utcnow

tokens = ApiToken.__table__
users = User.__table__
KINDS = ("api", "feed")
PREFIX = {"api": "dp_", "feed": "dpf_"}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(session: Session, user_id: int, kind: str, name: str) -> tuple[int, str]:
    """Make a token; returns (its id, the secret), the only time the secret is known."""
    if kind not in KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    secret = PREFIX[kind] + random_secrets.token_urlsafe(24)
    token_id = session.execute(
        tokens.insert()
        .values(user_id=user_id, kind=kind, name=name[:100], token_hash=digest(secret), hint=secret[-4:], created_at=utcnow())
        .returning(tokens.c.id)
    ).scalar_one()
    return token_id, secret


def revoke(session: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of the member's tokens (idempotent); False when they have no such live token."""
    done = session.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(done.rowcount)


def member_for(session: Session, secret: str, kind: str) -> dict | None:
    """The enabled member a live token of this kind belongs to, or None; notes its use."""
    if not secret or len(secret) > 200:
        return None
    row = (
        session.execute(
            select(users, tokens.c.id.label("token_id"))
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(
                tokens.c.token_hash == digest(secret), tokens.c.kind == kind,
                tokens.c.revoked_at.is_(None), users.c.is_disabled.is_(False),
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    session.execute(update(tokens).where(tokens.c.id == row["token_id"]).values(last_used_at=utcnow()))
    return {k: v for k, v in row.items() if k != "token_id"}


def of_member(session: Session, user_id: int, kind: str | None = None) -> list[dict]:
    """The member's tokens (live and revoked), newest first, without their hashes."""
    query = select(tokens.c.id, tokens.c.kind, tokens.c.name, tokens.c.hint, tokens.c.created_at,
                   tokens.c.last_used_at, tokens.c.revoked_at).where(tokens.c.user_id == user_id)
    if kind:
        query = query.where(tokens.c.kind == kind)
    return [dict(r) for r in session.execute(query.order_by(tokens.c.created_at.desc(), tokens.c.id.desc())).mappings()]
