"""The live recommender's speed (issue 15, point 6), on the 74,728-paper corpus:

    python bench/recs.py [--ranks 300] [--updates 50] [--digest] [--subscribers 10000] [--runs 1]

1. ranking: a day's listed papers (2026-07-01: 300) ranked for a member with 200 positives (saved
   papers), 20 dismissals, an author, a category and a search followed, with a stored model: what
   /for-you, the API and the feed call (the day's ids, the member's signals and exclusions, the
   stored model, the follows' boosts, scores, and why for the first 50). Timed in one process after
   its first call, as a web process serves: its caches of papers' features and decoded models warm.
2. update: a new save, then the refit the updater does (the member's signals read, the new paper
   featurized, the fit, the model written and committed); and, with the updater thread polling
   every 0.3 s as in `dailypapers up`, the time from the save's commit to the new model stored.
3. --digest: 10,000 members subscribed to daily digests (the mix of bench/digest.py: trending,
   topic alerts) and every one with "papers like yours", with 5 to 40 saved or upvoted papers and a
   stored model; the real `dailypapers digest send` timed as bench/digest.py does.

The corpus has no stored vectors (embedding 75k papers takes half an hour): the stores here get a
random unit vector per paper, so the dense side costs what it costs in production (its values mean
nothing). Positives are drawn from one primary category, as a reader's library would be."""

from __future__ import annotations

import argparse
import os
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import CACHE, ROOT, machine, median, percentile, today
from digest import DAY as DIGEST_DAY
from digest import corpus_db, one_run, queries

sys.path.insert(0, str(ROOT))

RANK_DAY = dt.date(2026, 7, 1)
POSITIVES = 200


def _store(db: Path):
    from dailypapers.config import Settings
    from dailypapers.store.engine import Store

    return Store(Settings(database_url=f"sqlite:///{db}", data_dir=CACHE / "digest-data", search_semantic=False))


def with_vectors(corpus: Path) -> Path:
    """The corpus store with a random unit vector (all-MiniLM-L6-v2's 384 numbers) per paper."""
    db = CACHE / "recs-vectors.db"
    if db.exists():
        return db
    tmp = db.with_suffix(".tmp")
    shutil.copy(corpus, tmp)
    from dailypapers.index.model import DIM, MODEL_KEY
    from dailypapers.store import embeddings, papers

    store = _store(tmp)
    rng = np.random.default_rng(3)
    with store.session() as session:
        ids = papers.all_ids(session)
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        vectors = rng.standard_normal((len(part), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with store.session() as session, session.begin():
            embeddings.upsert_many(session, MODEL_KEY, [(pid, "bench", v) for pid, v in zip(part, vectors)])
    store.dispose()
    tmp.rename(db)
    return db


def pool_by_category(store, before: dt.date) -> dict[str, list[int]]:
    """Papers listed before a day, by primary category (the pools readers' positives come from)."""
    from sqlalchemy import select

    from dailypapers.store.schema import Listing, Paper

    p, lst = Paper.__table__, Listing.__table__
    out: dict[str, list[int]] = {}
    with store.session() as session:
        for pid, cat in session.execute(
            select(p.c.id, p.c.primary_category).join(lst, lst.c.paper_id == p.c.id).where(lst.c.day < before)
        ):
            if cat:
                out.setdefault(cat, []).append(pid)
    return out


def member_with_positives(store, name: str, positives: list[int], dismissed: list[int], follows: list[tuple]) -> int:
    from dailypapers.store import feedback, library, users
    from dailypapers.store import follows as follow_store

    with store.session() as session, session.begin():
        uid = users.create(session, name, "x")
        for pid in positives:
            library.save(session, uid, pid)
        for pid in dismissed:
            feedback.dismiss(session, uid, pid)
        for kind, value, label in follows:
            follow_store.follow(session, uid, kind, value, label)
    return uid


def bench_rank_and_update(db: Path, ranks: int, updates: int) -> dict:
    from dailypapers.jobs.recs import Updater
    from dailypapers.search import recommend
    from dailypapers.store import library, listings, recmodels, users

    work = CACHE / "recs-run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(db, work)
    store = _store(work)
    rng = random.Random(11)
    pools = pool_by_category(store, RANK_DAY)
    positives = rng.sample(pools["cs.CL"], POSITIVES)
    others = [p for cat, ids in pools.items() if cat != "cs.CL" for p in ids]
    uid = member_with_positives(store, "bench", positives, rng.sample(others, 20),
                                [("category", "cs.LG", "cs.LG"), ("search", "reinforcement learning", "reinforcement learning"),
                                 ("author", "wang y", "Y. Wang")])
    rec = recommend.recommender_for(store)
    started = time.perf_counter()
    rec.fit(uid)
    cold_fit = time.perf_counter() - started

    def rank_once():
        with store.session() as session:
            ids = listings.listed_ids(session, RANK_DAY)
        recs, whose = rec.recommend(uid, ids, span=(RANK_DAY, RANK_DAY), explain=50)
        assert whose == "member" and recs and recs[0].why, recs[:1]
        return len(ids)

    started = time.perf_counter()
    n_listed = rank_once()
    cold_rank = time.perf_counter() - started
    rank_times, rank_cpu = [], []
    for _ in range(ranks):
        started, cpu = time.perf_counter(), time.thread_time()
        rank_once()
        rank_times.append(time.perf_counter() - started)
        rank_cpu.append(time.thread_time() - cpu)

    fresh = [p for p in others if p not in set(positives)]
    fit_times, fit_cpu = [], []
    for _ in range(updates):
        with store.session() as session, session.begin():
            library.save(session, uid, fresh.pop(rng.randrange(len(fresh))))
        started, cpu = time.perf_counter(), time.thread_time()
        rec.fit(uid)
        fit_times.append(time.perf_counter() - started)
        fit_cpu.append(time.thread_time() - cpu)

    updater = Updater(store, poll=0.3, community_every=3600).start()
    latencies = []
    try:
        for _ in range(20):
            with store.session() as session, session.begin():
                library.save(session, uid, fresh.pop(rng.randrange(len(fresh))))
            with store.session() as session:
                wanted = users.signals(session, uid)
            committed = time.perf_counter()
            while True:
                with store.session() as session:
                    head = recmodels.head(session, recmodels.owner_of(uid))
                if head and head[0] >= wanted:
                    break
                time.sleep(0.02)
            latencies.append(time.perf_counter() - committed)
            time.sleep(rng.random() * 0.3)  # the next save at a random point of the poll
    finally:
        updater.stop()
    with store.session() as session:
        size = len(recmodels.get(session, recmodels.owner_of(uid))["model"])
    store.dispose()
    return dict(listed=n_listed, cold_fit=cold_fit, cold_rank=cold_rank, rank=rank_times, fit=fit_times,
                rank_cpu=rank_cpu, fit_cpu=fit_cpu, latency=latencies, model_bytes=size)


def digest_template(vectors_db: Path, n: int) -> Path:
    """n members, each subscribed (the mix of bench/digest.py) with papers like yours, with 5 to 40
    saved or upvoted papers of one category and a stored model. Written in bulk (the store's own
    functions would take an hour for 10,000 members on two busy cores); the models are fitted as
    the updater fits them (the same examples, background and fit), and stored at the members'
    signal counts, so nothing is stale."""
    db = CACHE / f"recs-digest-{n}.db"
    if db.exists():
        return db
    tmp = db.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    shutil.copy(vectors_db, tmp)
    from sqlalchemy import insert, update

    from dailypapers.digest.links import new_secret
    from dailypapers.digest.period import containing
    from dailypapers.ranking import personal
    from dailypapers.search import recommend
    from dailypapers.store import recmodels
    from dailypapers.store import subscriptions as sub_store
    from dailypapers.store.schema import Collection, CollectionPaper, Paper, Upvote, User

    recommend.CACHED_PAPERS = 200_000  # preparing: every paper's features kept
    store = _store(tmp)
    rng = random.Random(7)
    texts = queries()
    cats = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.RO"]
    pools = pool_by_category(store, DIGEST_DAY - dt.timedelta(days=1))
    big = [c for c, ids in pools.items() if len(ids) >= 200]
    previous = containing("daily", DIGEST_DAY).previous().covered_until
    now = dt.datetime(2026, 6, 1)
    rec = recommend.recommender_for(store)
    started = time.perf_counter()
    for first in range(0, n, 500):
        members = []
        with store.session() as session, session.begin():
            for i in range(first, min(n, first + 500)):
                liked = rng.sample(pools[rng.choice(big)], rng.randint(5, 40))
                uid = session.execute(insert(User).values(username=f"reader{i:05d}", password_hash="x", created_at=now,
                                                          signals=len(liked)).returning(User.id)).scalar_one()
                saves, votes = liked[0::2], liked[1::2]
                cid = session.execute(insert(Collection).values(user_id=uid, name="Saved", description="", is_default=True,
                                                                created_at=now, updated_at=now).returning(Collection.id)).scalar_one()
                session.execute(insert(CollectionPaper), [{"collection_id": cid, "paper_id": p, "position": k + 1, "added_at": now}
                                                         for k, p in enumerate(saves)])
                session.execute(insert(Upvote), [{"user_id": uid, "paper_id": p, "created_at": now} for p in votes])
                session.execute(update(Paper).where(Paper.id.in_(votes)).values(upvote_count=Paper.upvote_count + 1))
                kind, query = rng.random(), rng.choice(texts)
                if kind < 0.4:
                    prefs = sub_store.Preferences(trending_count=10, similar_to_upvotes=True)
                elif kind < 0.7:
                    prefs = sub_store.Preferences(trending_count=10, topic_query=query, similar_to_upvotes=True)
                else:
                    prefs = sub_store.Preferences(trending_count=0, topic_query=query, similar_to_upvotes=True,
                                                  topic_categories=(rng.choice(cats),) if rng.random() < 1 / 3 else ())
                sid = sub_store.create_pending(session, f"reader{i:05d}@example.org", prefs, new_secret(), user_id=uid)
                sub_store.confirm(session, sid, now)
                sub_store.advance(session, [sid], previous)
                members.append((uid, saves, votes))
        with store.session() as session, session.begin():
            for uid, saves, votes in members:
                signals = recmodels.MemberSignals(upvoted=votes, saved=saves)
                examples, known = rec.examples(session, signals)
                model = personal.fit(examples, known=known)
                recmodels.put(session, recmodels.owner_of(uid), user_id=uid, method=model.method, model=personal.to_bytes(model),
                              positives=model.n_positives, negatives=model.n_negatives, signals=len(saves) + len(votes))
        print(f"  {first + len(members)} members fitted, {time.perf_counter() - started:.0f} s", flush=True)
    store.dispose()
    tmp.rename(db)
    return db


def row(name: str, values: list[float], target: str) -> str:
    ms = [v * 1000 for v in values]
    return f"| {name} | {len(ms)} | {median(ms):.1f} | {percentile(ms, 99):.1f} | {max(ms):.1f} | {target} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=300)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--digest", action="store_true", help="also the 10,000 digests with their recommendations")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="digest runs")
    args = parser.parse_args()
    data = CACHE / "digest-data"
    vectors = with_vectors(corpus_db(data))
    r = bench_rank_and_update(vectors, args.ranks, args.updates)
    print(f"\n{today()}, {machine()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"ranking {r['listed']} listed papers for a member with {POSITIVES} positives; model {r['model_bytes'] / 1024:.0f} KB")
    print("| what | runs | median ms | p99 ms | max ms | target |")
    print("|---|---|---|---|---|---|")
    print(row("rank a day (warm process)", r["rank"], "p99 ≤ 30 ms"))
    print(row("  the same, CPU time of the thread", r["rank_cpu"], ""))
    print(row("refit after a save (fit + store write)", r["fit"], "≤ 200 ms"))
    print(row("  the same, CPU time of the thread", r["fit_cpu"], ""))
    print(row("save committed → new model stored (updater, 0.3 s poll)", r["latency"], "< 1 s"))
    print(f"first call of a fresh process: rank {r['cold_rank'] * 1000:.0f} ms (the day's papers featurized), "
          f"fit {r['cold_fit'] * 1000:.0f} ms (the positives and background featurized)", flush=True)
    if args.digest:
        template = digest_template(vectors, args.subscribers)
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.runs):
                d = one_run(template, data, Path(tmp))
                print(f"digest run {i + 1}: {d['seconds']:.1f}s; {d['summary']}", flush=True)
                results.append(d)
        secs = median([d["seconds"] for d in results])
        print(f"| subscribers, all with papers like yours | messages sent | seconds (median) | runs | target |")
        print(f"| {args.subscribers:,} | {results[0]['sent']:,} | {secs:.1f} | {len(results)} | ≤ 120 s |")


if __name__ == "__main__":
    main()
