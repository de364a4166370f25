"""Users and their login sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import DailyPapersError
from .schema import LoginSession, User, utcnow

users = User.__table__
sessions = LoginSession.__table__


class UserExists(DailyPapersError):
    """The username or email is taken."""


def create(
    session: Session,
    username: str,
    password_hash: str,
    *,
    email: str | None = None,
    is_curator: bool = False,
    is_admin: bool = False,
) -> int:
    """Insert a user; raises UserExists when the name (case-insensitively) or email is taken."""
    taken = session.execute(select(users.c.id).where(func.lower(users.c.username) == username.lower())).first()
    if taken:
        raise UserExists(f"the name {username!r} is taken")
    try:
        with session.begin_nested():
            return session.execute(
                users.insert()
                .values(
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    is_curator=is_curator or is_admin,
                    is_admin=is_admin,
                    created_at=utcnow(),
                )
                .returning(users.c.id)
            ).scalar_one()
    except IntegrityError:
        raise UserExists(f"the name {username!r} or that email is taken") from None


def by_name(session: Session, username: str) -> dict | None:
    row = session.execute(select(users).where(func.lower(users.c.username) == username.lower())).mappings().first()
    return dict(row) if row else None


def by_email(session: Session, email: str) -> dict | None:
    """The user whose (confirmed) address this is, compared case-insensitively."""
    row = session.execute(select(users).where(func.lower(users.c.email) == email.lower())).mappings().first()
    return dict(row) if row else None


def set_email(session: Session, user_id: int, email: str) -> None:
    """Attach a confirmed address; raises UserExists when another account has it."""
    other = session.execute(
        select(users.c.id).where(func.lower(users.c.email) == email.lower(), users.c.id != user_id)
    ).first()
    if other:
        raise UserExists("that email address belongs to another account")
    try:
        with session.begin_nested():
            session.execute(update(users).where(users.c.id == user_id).values(email=email))
    except IntegrityError:
        raise UserExists("that email address belongs to another account") from None


def by_id(session: Session, user_id: int) -> dict | None:
    row = session.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def set_roles(session: Session, user_id: int, *, is_curator: bool | None = None, is_admin: bool | None = None) -> None:
    values = {}
    if is_curator is not None:
        values["is_curator"] = is_curator
    if is_admin is not None:
        values["is_admin"] = is_admin
    if values:
        session.execute(update(users).where(users.c.id == user_id).values(**values))


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    session.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def touch_login(session: Session, user_id: int) -> None:
    session.execute(update(users).where(users.c.id == user_id).values(last_login_at=utcnow()))


def add_session(session: Session, token_hash: str, user_id: int, expires_at: dt.datetime) -> None:
    session.execute(sessions.insert().values(token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at))


def user_for_session(session: Session, token_hash: str) -> dict | None:
    """The signed-in user for a session token's hash, if the session is live and the user enabled."""
    row = (
        session.execute(
            select(users)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > utcnow(), users.c.is_disabled.is_(False))
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def end_session(session: Session, token_hash: str) -> None:
    session.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def purge_expired_sessions(session: Session) -> int:
    return session.execute(delete(sessions).where(sessions.c.expires_at <= utcnow())).rowcount or 0


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(users)).scalar_one()


def bump_signals(session: Session, user_id: int) -> int:
    """Count one more personal signal (upvote, save, dismissal, follow, import) for the member;
    returns the new count, which a stored recommender is compared with (rec_models.signals)."""
    stmt = update(users).where(users.c.id == user_id).values(signals=users.c.signals + 1).returning(users.c.signals)
    return session.execute(stmt).scalar_one()


def signals(session: Session, user_id: int) -> int:
    return session.execute(select(users.c.signals).where(users.c.id == user_id)).scalar_one_or_none() or 0
