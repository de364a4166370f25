"""One line and a few key phrases for every paper (issue 14): sentence splitting on real abstracts,
the chosen sentence and phrases, HF's winning when mirrored, the index run's idempotence and rebuild,
and what the API, the paper page and the cards show."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import text

from support import MODELS, arxiv_sample, client_for, make_settings, need_data, site_settings
from dailypapers.index import keyphrases, sentences, summaries
from dailypapers.index.embeddings import OnnxEmbedder
from dailypapers.index.model import paper_text
from dailypapers.index.update import index_new_papers
from dailypapers.ingest.run import IngestJob
from dailypapers.store import summaries as summary_store
from dailypapers.store.engine import Store


# --- sentences -------------------------------------------------------------------------------------

def test_splitting_keeps_abbreviations_initials_decimals_and_math_whole():
    abstract = (
        "We follow Smith et al. and J. Doe in using transformers, e.g. BERT, cf. Fig. 2 and Eq. 3 of\n"
        "their paper. Accuracy rises by 4.5% at $p < 0.05. Q$ and by $3.2\\times$ at scale. Does it\n"
        "generalize? Yes! The code is at https://example.org/a.b."
    )
    assert sentences.split(abstract) == [
        "We follow Smith et al. and J. Doe in using transformers, e.g. BERT, cf. Fig. 2 and Eq. 3 of their paper.",
        "Accuracy rises by 4.5% at $p < 0.05. Q$ and by $3.2\\times$ at scale.",
        "Does it generalize?",
        "Yes!",
        "The code is at https://example.org/a.b.",
    ]
    assert sentences.split("") == []
    assert sentences.split("no stop at all") == ["no stop at all"]


def test_structured_headings_are_their_own_short_sentences():
    first = arxiv_sample(1, step=1)[0]  # "Objective. Patients implanted with the PRIMA ... Approach. Our ..."
    found = sentences.split(first["abstract"])
    assert found[0] == "Objective."
    assert "Approach." in found and "Main results." in found
    assert summaries.best_sentence(first["abstract"], None, None, keyphrases.DocumentFrequencies()) not in (
        "Objective.", "Approach.", "Main results.", "Significance."
    )


def test_sentences_of_real_abstracts_rebuild_the_abstract():
    for paper in arxiv_sample(300, step=97):
        flat = sentences.fold(paper["abstract"])
        found = sentences.split(paper["abstract"])
        assert " ".join(found) == flat
        assert all(s.strip() == s and s for s in found)
        # No split right after a known abbreviation followed by a capital.
        for a, _b in zip(found, found[1:]):
            assert a.split()[-1].lower() not in ("e.g.", "i.e.", "al.", "fig.", "eq."), (a, _b)


# --- choosing sentences and phrases ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    papers = arxiv_sample(40, step=211)
    df = keyphrases.DocumentFrequencies.of(p["title"] + " " + p["abstract"] for p in arxiv_sample(600, step=101))
    embedder = OnnxEmbedder(MODELS, quantized=True)
    vectors = embedder.embed([paper_text(p["title"], p["abstract"]) for p in papers])
    from dailypapers.config import Settings
    from dailypapers.index.phrase_vectors import load

    phrases = load(Settings(models_dir=MODELS))
    return papers, vectors, phrases, df


def _occurs(phrase: str, paper: dict) -> bool:
    text = keyphrases.plain(sentences.fold(paper["title"] + " " + paper["abstract"])).lower()
    return phrase.lower() in text


@pytest.mark.parametrize("with_vectors", [True, False], ids=["embedding", "tfidf"])
def test_the_line_is_one_of_the_abstracts_sentences_and_phrases_occur_in_the_text(sample, with_vectors):
    papers, vectors, phrases, df = sample
    for paper, vector in zip(papers, vectors):
        made = summaries.compute(paper, vector if with_vectors else None, phrases if with_vectors else None, df)
        assert made.method == ("embedding" if with_vectors else "tfidf")
        assert made.summary in [keyphrases.plain(s) for s in sentences.split(paper["abstract"])]
        assert sentences.words(made.summary) >= summaries.MIN_WORDS
        assert 3 <= len(made.keywords) <= 6, (paper["id"], made.keywords)
        assert len({k.lower() for k in made.keywords}) == len(made.keywords)
        for phrase in made.keywords:
            assert _occurs(phrase, paper), (paper["id"], phrase)
            assert phrase.lower() not in keyphrases.STOP


def test_the_embedding_line_is_the_sentence_closest_to_the_paper(sample):
    papers, vectors, phrases, df = sample
    paper, vector = papers[3], vectors[3]
    made = summaries.compute(paper, vector, phrases, df)
    found = [s for s in sentences.split(paper["abstract"]) if sentences.words(s) >= summaries.MIN_WORDS]
    sims = phrases.embed([tuple(summaries._content(s)) for s in found]) @ vector
    penalties = np.array([summaries._length_penalty(sentences.words(s)) for s in found])
    assert made.summary == keyphrases.plain(found[int(np.argmax(sims - penalties))])


def test_hugging_faces_summary_and_keywords_win(sample):
    papers, vectors, phrases, df = sample
    paper = dict(papers[0], hf_meta={"ai_summary": "HF says so.", "ai_keywords": ["retinal prosthesis", "faces"]})
    assert summaries.compute(paper, vectors[0], phrases, df) == summaries.Computed(
        "HF says so.", ["retinal prosthesis", "faces"], "hf"
    )
    only_summary = dict(papers[0], hf_meta={"ai_summary": "HF says so."})
    made = summaries.compute(only_summary, vectors[0], phrases, df)
    assert made.summary == "HF says so." and made.method == "hf+embedding" and len(made.keywords) >= 3
    # Shown: HF's even over a stored extracted row, and labelled as HF's; ours labelled as extracted.
    stored = {"summary": "Ours.", "keywords": ["a b"], "method": "embedding"}
    theirs = summary_store.shown({"ai_summary": "HF.", "ai_keywords": ["x"]}, stored)
    assert (theirs.text, theirs.keywords, theirs.text_by, theirs.keywords_by) == ("HF.", ("x",), "hf", "hf")
    ours = summary_store.shown(None, stored)
    assert (ours.text, ours.label, ours.keywords_label) == ("Ours.", "Extracted summary", "Key phrases")
    assert summary_store.shown(None, None) is None


# --- the index run ----------------------------------------------------------------------------------

def small_corpus(tmp_path, n: int = 24):
    path = tmp_path / "papers.jsonl"
    with open(path, "w") as f:
        for paper in arxiv_sample(n, step=307):
            f.write(json.dumps(paper) + "\n")
    return path


def stored(store) -> dict[int, tuple]:
    with store.session() as session:
        rows = session.execute(text("SELECT paper_id, summary, method, method_version FROM paper_summaries")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_index_summarizes_each_paper_once_again_when_changed_and_all_on_rebuild(db_url, tmp_path, monkeypatch):
    store = Store(make_settings(db_url, tmp_path, search_semantic=False, models_dir=MODELS))
    try:
        IngestJob(store).run([str(small_corpus(tmp_path))])
        first = index_new_papers(store)
        assert first.summarized == 24 and "24 summarized" in first.summary()
        rows = stored(store)
        assert len(rows) == 24 and {r[1] for r in rows.values()} == {"tfidf"}
        assert index_new_papers(store).summarized == 0  # idempotent
        with store.session() as session, session.begin():
            pid = min(rows)
            session.execute(
                text("UPDATE papers SET abstract = 'A brand new abstract about quokka counting on islands. It is short.',"
                     " changed_at = :t WHERE id = :id"),
                {"t": summary_store.utcnow(), "id": pid},
            )
        assert index_new_papers(store).summarized == 1
        assert stored(store)[pid][0] == "A brand new abstract about quokka counting on islands."
        assert index_new_papers(store).summarized == 0
        assert index_new_papers(store, resummarize=True).summarized == 24  # --rebuild
        monkeypatch.setattr(summaries, "METHOD_VERSION", summaries.METHOD_VERSION + 1)
        assert index_new_papers(store).summarized == 24  # a better method recomputes
        assert {r[2] for r in stored(store).values()} == {summaries.METHOD_VERSION}
    finally:
        store.dispose()


def test_a_tfidf_choice_is_replaced_once_the_paper_has_a_vector(sqlite_url, tmp_path):
    corpus = small_corpus(tmp_path, n=6)
    store = Store(make_settings(sqlite_url, tmp_path, search_semantic=False, models_dir=MODELS))
    IngestJob(store).run([str(corpus)])
    assert index_new_papers(store).summarized == 6
    store.dispose()
    store = Store(make_settings(sqlite_url, tmp_path, search_semantic=True, models_dir=MODELS))
    try:
        report = index_new_papers(store)
        assert (report.embedded, report.summarized) == (6, 6)
        assert {r[1] for r in stored(store).values()} == {"embedding"}
        assert index_new_papers(store).summarized == 0
    finally:
        store.dispose()


def test_a_shutdown_stops_the_summaries_and_the_token_table_build(sqlite_url, tmp_path):
    """A process shutting down (`up` on SIGTERM) does not start the summaries, nor sits through the
    first build of the token vectors: `should_stop` ends both, storing nothing."""
    from dailypapers.index import phrase_vectors
    from dailypapers.index.embeddings import OnnxEmbedder

    store = Store(make_settings(sqlite_url, tmp_path, search_semantic=False, models_dir=MODELS))
    try:
        IngestJob(store).run([str(small_corpus(tmp_path, n=4))])
        assert summaries.summarize_papers(store, should_stop=lambda: True) == 0 and stored(store) == {}
    finally:
        store.dispose()
    embedder = OnnxEmbedder(MODELS, quantized=True, threads=1, arena=False)
    asked = []

    def stop_on_the_third_batch() -> bool:
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(phrase_vectors.Interrupted):
        phrase_vectors.build_table(embedder.session, embedder.tokenizer, stop_on_the_third_batch)
    assert len(asked) == 3


# --- what readers see -------------------------------------------------------------------------------

def test_api_page_and_cards_show_the_line_and_phrases_escaped(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path, search_semantic=False, models_dir=MODELS)
    store = Store(settings)
    corpus = small_corpus(tmp_path, n=4)
    hostile = json.loads(corpus.read_text().splitlines()[0])
    hostile["id"] = "2503.99999"
    hostile["abstract"] = ("We study <script>alert(1)</script> injection attacks on quokka census web forms in depth.\n"
                           "Short one. Results hold.")
    with open(corpus, "a") as f:
        f.write(json.dumps(hostile) + "\n")
    hf = need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json")
    IngestJob(store).run([str(corpus), str(hf)])
    index_new_papers(store)
    with store.session() as session, session.begin():
        session.execute(text("UPDATE papers SET hf_meta = :m WHERE arxiv_id = '2410.17243'"),
                        {"m": json.dumps({"ai_summary": "An HF line.", "ai_keywords": ["contrastive loss"]})})
    store.dispose()
    with client_for(settings) as client:
        ours = client.get("/api/papers/2503.99999").json()
        assert ours["ai_summary"].startswith("We study <script>")
        assert ours["ai_summary_source"] == "extracted" and ours["ai_keywords_source"] == "extracted"
        assert 3 <= len(ours["ai_keywords"]) <= 6
        theirs = client.get("/api/papers/2410.17243").json()
        assert (theirs["ai_summary"], theirs["ai_keywords"], theirs["ai_summary_source"]) == (
            "An HF line.", ["contrastive loss"], "huggingface"
        )
        page = client.get("/papers/2503.99999").text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "Extracted summary" in page and "Key phrases" in page
        phrase = ours["ai_keywords"][0]
        from urllib.parse import quote

        assert f'href="/search?q={quote(chr(34) + phrase + chr(34), safe="")}"' in page
        hf_page = client.get("/papers/2410.17243").text
        assert "AI summary (Hugging Face)" in hf_page and "An HF line." in hf_page
        feed = client.get("/date/2024-10-25").text  # the HF day's cards
        assert "An HF line." in feed and "contrastive loss" in feed
        daily = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
        assert any(i["paper"]["ai_summary"] == "An HF line." for i in daily)
