"""One line and a few key phrases for every paper, computed on the CPU with no service: the
abstract's most representative sentence (extractive) and 3 to 6 key phrases (keyphrases.py). When
Hugging Face's mirror gave an AI summary or keywords (papers.hf_meta), those win.

Representative: the sentence whose vector (phrase_vectors.py: the mean of its content words' token
vectors) is closest to the paper's stored vector; without a vector, the sentence closest to the
abstract's TF-IDF centroid. Sentences too short to say anything (headings of structured abstracts,
"Code is available.") are passed over, and very long ones lose a little, since the line sits under a
title on a card."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import keyphrases, sentences
from .keyphrases import STOP, DocumentFrequencies

log = logging.getLogger(__name__)

# Bumped when the method changes: every stored summary of an older version is computed again.
METHOD_VERSION = 1
MIN_WORDS = 6  # a shorter sentence is chosen only when no other is
LONG_WORDS = 45  # past this many words, a sentence loses a little relevance per word
MAX_KEYWORDS = 6


@dataclass(frozen=True)
class Computed:
    """What the index stores for a paper: the line, the phrases, how they were made."""

    summary: str
    keywords: list[str]
    method: str  # "embedding" | "tfidf" | "hf" (both from HF) | "hf+embedding" | "hf+tfidf"


def _content(text: str) -> list[str]:
    return [w for w in keyphrases.words_of(text) if w not in STOP]


def _length_penalty(n_words: int) -> float:
    if n_words < MIN_WORDS:
        return 1.0
    return 0.005 * max(0, n_words - LONG_WORDS)


def best_sentence(abstract: str, doc: np.ndarray | None, phrases, df: DocumentFrequencies) -> str:
    """The abstract's most representative sentence, as the abstract writes it (on one line,
    LaTeX text formatting unwrapped), or "" for an empty abstract."""
    found = sentences.split(abstract)
    if not found:
        return ""
    if len(found) == 1:
        return keyphrases.plain(found[0])
    content = [_content(s) for s in found]
    if doc is not None and phrases is not None:
        vectors = phrases.embed([tuple(c) for c in content])
        relevance = (vectors * doc).sum(axis=1)  # no BLAS: see keyphrases._dot
    else:
        relevance = np.array(_tfidf_relevance(content, df))
    scores = [relevance[i] - _length_penalty(sentences.words(s)) for i, s in enumerate(found)]
    return keyphrases.plain(found[int(np.argmax(scores))])


def _tfidf_relevance(content: list[list[str]], df: DocumentFrequencies) -> list[float]:
    """Each sentence's cosine to the abstract's TF-IDF centroid."""
    total = Counter(w for words in content for w in words)
    centroid = {w: n * df.idf(w) for w, n in total.items()}
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    out = []
    for words in content:
        vec = {w: n * df.idf(w) for w, n in Counter(words).items()}
        size = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append(sum(v * centroid[w] for w, v in vec.items()) / (size * norm))
    return out


def key_phrases(title: str, abstract: str, doc: np.ndarray | None, phrases, df: DocumentFrequencies) -> list[str]:
    """3 to 6 key phrases of the paper (fewer only when it has fewer candidates)."""
    cands = keyphrases.usable(keyphrases.candidates(title, abstract), df)
    if doc is not None and phrases is not None:
        return keyphrases.mmr(cands, phrases.embed([c.key for c in cands]), doc, top=MAX_KEYWORDS)
    return keyphrases.tfidf(cands, df)


def compute(paper: dict, doc: np.ndarray | None, phrases, df: DocumentFrequencies) -> Computed:
    """The line and phrases of one paper ({title, abstract, hf_meta}); `doc` is its stored vector
    (None: TF-IDF), `phrases` the PhraseVectors (None: TF-IDF)."""
    meta = paper.get("hf_meta") or {}
    hf_summary = (meta.get("ai_summary") or "").strip()
    hf_keywords = [k for k in (meta.get("ai_keywords") or []) if isinstance(k, str) and k.strip()]
    ours = "embedding" if doc is not None and phrases is not None else "tfidf"
    if hf_summary and hf_keywords:
        return Computed(hf_summary, hf_keywords, "hf")
    summary = hf_summary or best_sentence(paper.get("abstract") or "", doc, phrases, df)
    keywords = hf_keywords or key_phrases(paper.get("title") or "", paper.get("abstract") or "", doc, phrases, df)
    return Computed(summary, keywords, f"hf+{ours}" if hf_summary or hf_keywords else ours)


def _usable(vector):
    """A stored vector the phrases can be compared with, or None (a wrong size or not finite: the
    vector index skips such a vector too, and the paper gets the TF-IDF choice)."""
    from .model import DIM

    if vector is None or vector.shape != (DIM,) or not np.isfinite(vector).all():
        return None
    return vector


def load_phrase_vectors(settings, should_stop=None):
    """The phrase vectors, or None when semantic search is off or the model is missing (then every
    paper gets the TF-IDF choice, logged once), or when `should_stop()` ended their first build."""
    if not settings.search_semantic:
        return None
    from ..errors import ConfigError
    from .phrase_vectors import Interrupted, load

    try:
        return load(settings, should_stop)
    except Interrupted:
        return None
    except ConfigError as exc:
        log.warning("%s; key phrases fall back to TF-IDF", exc)
        return None


def summarize_papers(store, *, rebuild: bool = False, limit: int | None = None, batch: int = 512, should_stop=None, on_batch=None) -> int:
    """Compute and store the line and phrases of every paper that needs them (new, changed, of an
    older method version, or summarized by TF-IDF before its vector came), in committed batches:
    resumable and idempotent. `rebuild` recomputes every paper. Returns how many were stored."""
    from ..store import embeddings as embedding_store
    from ..store import summaries as summary_store
    from ..store.schema import utcnow
    from .model import MODEL_KEY

    if should_stop is not None and should_stop():
        return 0
    phrases = load_phrase_vectors(store.settings, should_stop)
    if should_stop is not None and should_stop():  # not with TF-IDF for want of the vectors: later
        return 0
    model = MODEL_KEY if phrases is not None else None
    with store.session() as session:
        total = summary_store.count_stale(session, METHOD_VERSION, model) if not rebuild else None
        if total == 0:
            return 0
        df = DocumentFrequencies.of(summary_store.sample_texts(session))
    done, after = 0, 0
    while limit is None or done < limit:
        if should_stop is not None and should_stop():
            break
        started = utcnow()  # before the read: a paper changed during the batch is summarized again
        with store.session() as session:
            rows = summary_store.stale(
                session, METHOD_VERSION, model, after_id=after, limit=batch if limit is None else min(batch, limit - done),
                everything=rebuild,
            )
            vectors = embedding_store.get_many(session, MODEL_KEY, [r["id"] for r in rows]) if model else {}
        if not rows:
            break
        out = []
        for row in rows:
            made = compute(row, _usable(vectors.get(row["id"])), phrases, df)
            out.append((row["id"], made.summary, made.keywords, made.method))
        with store.session() as session, session.begin():
            summary_store.upsert_many(session, METHOD_VERSION, out, now=started)
        done += len(rows)
        after = rows[-1]["id"]
        if on_batch is not None:
            on_batch(done, total)
    return done
