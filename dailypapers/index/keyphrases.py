"""Key phrases of a paper, chosen among its own noun-phrase-like word runs, as KeyBERT does: the
candidates closest to the paper's vector, kept diverse by maximal marginal relevance (MMR). Pure
apart from numpy; the vectors come from phrase_vectors.py, the paper's from the store.

Candidates: runs of one to three words of the title and abstract between stop words and punctuation,
LaTeX, URLs and numbers cut out; words that are mostly verbs or adverbs never start or end one, and a
single word common to a tenth of the papers ("model", "data") is no key phrase. A phrase is shown as
the text writes it, lower-cased unless a word is an acronym or a name (capitalized in mid-sentence).

Without a paper vector (a paper not embedded yet, or semantic search off) the choice falls back to
TF-IDF: the candidates scored by their words' frequency in the paper times their rarity in the store,
with the same rule against overlapping phrases."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

# English function words (the usual list, as scikit-learn's and NLTK's have it).
ENGLISH = frozenset(
    """a about above after again against all almost alone along already although always am among an and
    another any anyhow anyone anything anyway anywhere are around as at be became because become becomes
    becoming been before beforehand behind being below beside besides between beyond both but by can cannot
    could did do does doing done down due during each either else elsewhere enough even ever every
    everyone everything everywhere except few for former formerly from further had has have having he her
    here hers herself him himself his how i if in indeed into is it its itself just last latter least less
    may me meanwhile might mine more most mostly must my myself neither never nevertheless next no nobody
    none nor not nothing now nowhere of off on once only onto or other others otherwise our ours ourselves
    out over own per perhaps please rather same seem seemed seeming seems several she should since so some
    somehow someone something sometime sometimes somewhere still such than that the their theirs them
    themselves then there thereafter therefore these they this those though through throughout to together
    too toward towards under until up upon us very was we were what whatever when whenever where whereby
    wherein whether which whoever whole whom whose why will with without would yet you your yours yourself
    yourselves can't don't it's isn't aren't doesn't we're they're""".split()
)
# Words of scientific prose that are no topic: they end a candidate run like stop words.
FILLER = frozenset(
    """paper papers work works approach approaches method methods result results propose proposed proposes
    present presents presented introduce introduces introduced show shows shown showed demonstrate demonstrates
    achieve achieves achieved achieving use uses used using based novel new existing recent recently various
    significant significantly extensive experiments experiment experimental state art effective effectively
    efficient efficiently improve improves improved improving improvement improvements performance
    propose study studies studied paper's task tasks problem problems challenge challenges challenging
    framework frameworks address addresses addressing enable enables enabling leverage leverages leveraging
    provide provides providing allow allows including include includes respectively furthermore moreover
    however finally specifically particular particularly compared comparison outperforms outperform
    outperforming superior demonstrating code available publicly github com https http www et al
    first second third one two three four five six ten high low large small better best key main
    able often across within also well while whereas thereby thus hence via way ways like many much
    make makes making made take takes given give gives aims aim aimed focus focuses remains remain
    e g i ie eg etc vs cf approx resp fig figure table section eq""".split()
) | frozenset(
    # Verbs common in abstracts, in their plain and third-person forms: without a tagger, a run such
    # as "pipeline combines Gaussian" must break at the verb.
    f"{verb}{ending}"
    for verb in """generate combine reduce adapt learn train predict capture preserve integrate extend employ exploit
    evaluate outperform design develop explore investigate analyze analyse build compute estimate detect produce
    require consider obtain yield offer reveal suggest indicate become lead help support ensure incorporate
    utilize utilise construct maintain handle struggle fail rely benefit exhibit contain consist involve mine
    apply allow enhance boost surpass rely remove report release collect bridge guide encode decode""".split()
    for ending in ("", "s", "es", "d", "ed")
)
STOP = ENGLISH | FILLER
_VERBISH = re.compile(r"(?:ly|ing|ize|izes|ized|ise|ises|ised|[^e]ed)$")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]*\$|\\\(.+?\\\)|\\\[.+?\\\]")
_FORMAT = re.compile(r"\\(?:textbf|textit|texttt|emph|mathrm|mathbf|text|textsc|underline)\s*\{([^{}]*)\}")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_COMMAND = re.compile(r"\\[A-Za-z]+\*?|[{}]")
# A word: letters and digits joined by hyphens or apostrophes ("vision-language", "GPT-4o", "3D",
# "128-beam"); one without a letter (a number) is no phrase word and breaks a run.
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")
_BREAK = re.compile(r"[^\sA-Za-z0-9'’-]|['’](?![A-Za-z0-9])|(?<=[.?!])\s|\s-+\s")
MAX_WORDS = 3
LENGTH_BONUS = 0.1  # relevance gained per extra word of a phrase (BENCHMARKS.md, issue 14)
GENERIC_SHARE = 0.1  # a single word in more than this share of papers is no key phrase


def plain(text: str) -> str:
    """The text with LaTeX text formatting unwrapped (\\textbf{X} is X); math and other commands kept."""
    previous = None
    while previous != text:
        previous, text = text, _FORMAT.sub(r"\1", text)
    return text


def words_of(text: str) -> list[str]:
    """Lower-case words of a text, for document frequencies and TF-IDF."""
    return [w.lower() for w in _WORD.findall(_COMMAND.sub(" ", _MATH.sub(" ", _URL.sub(" ", plain(text)))))]


@dataclass
class Candidate:
    """A candidate phrase: its words in lower case, how the text first wrote it, how often it occurs."""

    key: tuple[str, ...]
    surface: str
    count: int = 1


def _runs(text: str) -> list[list[tuple[str, bool]]]:
    """Runs of words between breaks: each word with whether it opens a sentence."""
    text = _COMMAND.sub(" , ", _MATH.sub(" , ", _URL.sub(" , ", plain(text))))
    runs: list[list[tuple[str, bool]]] = []
    opens = True
    for piece in _BREAK.split(text):
        run = []
        for word in _WORD.findall(piece):
            run.append((word, opens))
            opens = False
        if run:
            runs.append(run)
        if piece.rstrip().endswith((".", "?", "!")) or not piece.strip():
            opens = True
    return runs


def _good_word(word: str) -> bool:
    low = word.lower()
    return low not in STOP and len(low) >= 2 and any(c.isalpha() for c in low)


def _edge_word(word: str) -> bool:
    """Whether a word may start or end a phrase: not a verb or adverb by its ending (an acronym may)."""
    return not (_VERBISH.search(word.lower()) and not word.isupper()) and len(word) >= 2


def candidates(title: str, abstract: str) -> list[Candidate]:
    """The candidate phrases of a paper, in order of first occurrence, each once."""
    found: dict[tuple[str, ...], Candidate] = {}
    lower_seen: set[str] = set()
    named: set[str] = set()  # words capitalized where no sentence opens: names, acronyms
    for run in _runs(f"{title or ''}.\n{abstract or ''}"):
        for word, opens in run:
            if word[:1].islower():
                lower_seen.add(word.lower())
            elif not opens or any(c.isupper() for c in word[1:]):
                named.add(word)
        i = 0
        while i < len(run):
            if not _good_word(run[i][0]):
                i += 1
                continue
            j = i
            while j < len(run) and _good_word(run[j][0]):
                j += 1
            block = [w for w, _ in run[i:j]]
            for start in range(len(block)):
                for n in range(1, MAX_WORDS + 1):
                    words = block[start : start + n]
                    if len(words) < n or not (_edge_word(words[0]) and _edge_word(words[-1])):
                        continue
                    if n == 1 and len(words[0]) < 3:
                        continue
                    key = tuple(w.lower() for w in words)
                    if key in found:
                        found[key].count += 1
                    else:
                        found[key] = Candidate(key, " ".join(words))
            i = j

    def shown(word: str) -> str:
        if any(c.isupper() for c in word[1:]) or (word in named and word.lower() not in lower_seen):
            return word
        return word.lower()

    for cand in found.values():
        cand.surface = " ".join(shown(w) for w in cand.surface.split(" "))
    return list(found.values())


@dataclass
class DocumentFrequencies:
    """How many papers of a sample hold each word: the rarity TF-IDF and the generic-word rule read."""

    papers: int = 0
    counts: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, texts: Iterable[str]) -> DocumentFrequencies:
        df = cls()
        for text in texts:
            df.papers += 1
            df.counts.update(set(words_of(text)))
        return df

    def idf(self, word: str) -> float:
        return math.log((1 + self.papers) / (1 + self.counts.get(word, 0))) + 1.0

    def generic(self, word: str) -> bool:
        return self.papers >= 50 and self.counts.get(word, 0) > GENERIC_SHARE * self.papers


def usable(cands: list[Candidate], df: DocumentFrequencies) -> list[Candidate]:
    """The candidates worth scoring: a lone generic word is not."""
    return [c for c in cands if not (len(c.key) == 1 and df.generic(c.key[0]))]


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two phrases share a word, plurals folded ("diffusion" and "diffusion models"): only one of them is shown."""
    def stems(words):
        return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words}

    return bool(stems(a) & stems(b))


def _dot(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each row's dot product with one vector, without BLAS (whose threads cost milliseconds a call
    on a busy machine, for a few hundred rows)."""
    return (vectors * vector).sum(axis=1)


def mmr(
    cands: list[Candidate], vectors: np.ndarray, doc: np.ndarray, *, top: int = 6, least: int = 3, diversity: float = 0.3
) -> list[str]:
    """Up to `top` phrases by maximal marginal relevance (KeyBERT's: relevance to the paper, less
    likeness to those already chosen, weighed by `diversity`), no two sharing a word. Relevance gives
    a phrase of more words a little more (a mean of static vectors favours lone words, where the
    transformer embedding each phrase does not). Past `least` phrases, one much less relevant than the
    first is left out."""
    if not cands:
        return []
    relevance = _dot(vectors, doc) * np.array([1 + LENGTH_BONUS * (len(c.key) - 1) for c in cands])
    # The likeness to the chosen phrases grows one matrix-vector product per pick: a full
    # candidates-by-candidates matrix cost ten times the rest of a paper's work on a busy machine.
    penalty = np.full(len(cands), -np.inf, dtype=np.float32)
    chosen: list[int] = []
    best = float(relevance.max())
    remaining = np.ones(len(cands), dtype=bool)
    while remaining.any() and len(chosen) < top:
        scores = (1 - diversity) * relevance - diversity * penalty if chosen else relevance.copy()
        scores[~remaining] = -np.inf
        pick = int(np.argmax(scores))
        remaining[pick] = False
        if any(_overlaps(cands[pick].key, cands[c].key) for c in chosen):
            continue
        if len(chosen) >= least and relevance[pick] < 0.75 * best:
            break
        chosen.append(pick)
        penalty = np.maximum(penalty, _dot(vectors, vectors[pick]))
    return [cands[i].surface for i in chosen]


def tfidf(cands: list[Candidate], df: DocumentFrequencies, *, top: int = 5) -> list[str]:
    """Up to `top` phrases by TF-IDF (occurrences times their words' mean rarity, longer phrases a
    little ahead), no two sharing a word."""
    scored = sorted(
        cands,
        key=lambda c: -(c.count * sum(df.idf(w) for w in c.key) / len(c.key) * (1 + 0.25 * (len(c.key) - 1))),
    )
    chosen: list[Candidate] = []
    for cand in scored:
        if len(chosen) == top:
            break
        if not any(_overlaps(cand.key, c.key) for c in chosen):
            chosen.append(cand)
    return [c.surface for c in chosen]
