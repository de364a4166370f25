"""The store of issue 15's personal tables (migration 0013), on both databases: saves, dismissals,
follows and tokens are idempotent, each real change counts one personal signal, revoked or
foreign tokens open nothing, and the migration goes down and up again."""

from __future__ import annotations

import threading

from sqlalchemy import text

from dailypapers.store import feedback, follows, library, tokens, users
from dailypapers.store.engine import alembic_config, upgrade
from dailypapers.store.schema import Paper


def _paper(session, arxiv_id: str) -> int:
    row = dict(arxiv_id=arxiv_id, version=1, title=f"Paper {arxiv_id}", abstract="An abstract.", authors=[{"name": "A. Author"}],
               primary_category="cs.CL", categories=["cs.CL"], content_hash="x", source="test")
    return session.execute(Paper.__table__.insert().values(**row).returning(Paper.__table__.c.id)).scalar_one()


def _setup(store):
    with store.session() as session, session.begin():
        a = users.create(session, "ada", "x")
        b = users.create(session, "bob", "x")
        p1, p2 = _paper(session, "2501.00001"), _paper(session, "2501.00002")
    return a, b, p1, p2


def test_saves_dismissals_and_follows_are_idempotent_and_count_signals(store):
    a, b, p1, p2 = _setup(store)
    with store.session() as session, session.begin():
        assert library.save(session, a, p1) is True
        assert library.save(session, a, p1) is False
        assert feedback.dismiss(session, a, p2) is True
        assert feedback.dismiss(session, a, p2) is False
        assert follows.follow(session, a, "author", "hinton g", "Geoffrey Hinton") is True
        assert follows.follow(session, a, "author", "hinton g", "G. Hinton") is False
        assert users.signals(session, a) == 3
        assert users.signals(session, b) == 0
    with store.session() as session:
        assert library.saved(session, a, [p1, p2]) == {p1}
        assert library.saved(session, b, [p1, p2]) == set()
        assert [pid for pid, _ in library.kept(session, a)] == [p1]
        assert feedback.dismissed(session, a) == {p2}
        assert feedback.dismissed(session, b, [p1, p2]) == set()
        assert [f["label"] for f in follows.of_member(session, a)] == ["Geoffrey Hinton"]
        assert follows.is_following(session, a, "author", "hinton g")
    with store.session() as session, session.begin():
        assert library.unsave(session, a, p1) is True
        assert library.unsave(session, a, p1) is False
        assert feedback.undismiss(session, a, p2) is True
        assert follows.unfollow(session, a, "author", "hinton g") is True
        assert follows.unfollow(session, a, "author", "hinton g") is False
        assert users.signals(session, a) == 6
        assert library.saved(session, a, [p1]) == set() and feedback.dismissed(session, a) == set()


def test_shown_counts_accumulate(store):
    a, _, p1, p2 = _setup(store)
    with store.session() as session, session.begin():
        feedback.record_shown(session, a, [p1, p2, p1])
        feedback.record_shown(session, a, [p1])
    with store.session() as session:
        assert sorted((pid, n) for pid, n, _ in feedback.of_member(session, a, "shown")) == [(p1, 2), (p2, 1)]


def test_one_default_collection_under_concurrent_first_saves(store):
    a, _, p1, p2 = _setup(store)
    errors = []

    def save(pid):
        try:
            with store.writing() as session:
                library.save(session, a, pid)
        except Exception as e:  # noqa: BLE001 - the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=save, args=(pid,)) for pid in (p1, p2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with store.session() as session:
        assert session.execute(text("SELECT count(*) FROM collections WHERE user_id = :u"), {"u": a}).scalar() == 1
        assert library.saved(session, a, [p1, p2]) == {p1, p2}


def test_tokens_open_only_their_kind_until_revoked(store):
    a, b, _, _ = _setup(store)
    with store.session() as session, session.begin():
        api_id, api_secret = tokens.create(session, a, "api", "laptop script")
        _, feed_secret = tokens.create(session, a, "feed", "reader")
    assert api_secret.startswith("dp_") and feed_secret.startswith("dpf_")
    with store.session() as session, session.begin():
        assert tokens.member_for(session, api_secret, "api")["username"] == "ada"
        assert tokens.member_for(session, api_secret, "feed") is None
        assert tokens.member_for(session, feed_secret, "feed")["id"] == a
        assert tokens.member_for(session, api_secret + "x", "api") is None
        assert tokens.member_for(session, "", "api") is None
        assert tokens.revoke(session, b, api_id) is False  # not bob's
        listed = tokens.of_member(session, a, "api")
        assert [t["hint"] for t in listed] == [api_secret[-4:]] and listed[0]["last_used_at"] is not None
        assert "token_hash" not in listed[0]
    with store.session() as session, session.begin():
        assert tokens.revoke(session, a, api_id) is True
        assert tokens.revoke(session, a, api_id) is False
        assert tokens.member_for(session, api_secret, "api") is None
        assert tokens.member_for(session, feed_secret, "feed")["id"] == a


def test_migration_0013_goes_down_and_up(store):
    from alembic import command

    a, _, p1, _ = _setup(store)
    with store.session() as session, session.begin():
        library.save(session, a, p1)
    store.dispose()
    engine = store.engine
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
        conn.commit()
    with engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
        columns = {c["name"] for c in conn.dialect.get_columns(conn, "users")}
    assert not names & {"collections", "collection_papers", "follows", "feedback", "api_tokens", "rec_models"}
    assert "signals" not in columns and "papers" in names
    upgrade(engine, "0013")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM collections")).scalar() == 0
