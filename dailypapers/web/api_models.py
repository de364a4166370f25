"""The JSON API's answers, described for /openapi.json. shapes.py builds them; these models only
document them (the routes return shapes' dicts as they are), and the tests check the two agree:
schemathesis validates every answer against this document, and extra fields are forbidden."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Timestamp = str  # ISO 8601 with milliseconds and a Z, e.g. 2024-10-25T00:57:09.392Z


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Error(_Strict):
    """Every error: 400 (a parameter that cannot be understood), 401, 403, 404, 429."""

    error: str = Field(description="What went wrong, in one line.", examples=["limit: Input should be less than or equal to 100"])


class User(_Strict):
    """A user: a member of this site, or a Hugging Face user whose submission was imported."""

    id_: str = Field(alias="_id", description="A stable id derived from the name.")
    avatarUrl: str = Field(description="An absolute URL: HF's avatar when the import carried one, else the site's generated one.")
    fullname: str
    name: str
    user: str = Field(description="The username again (huggingface_hub's User reads it from here).")
    type: Literal["user"]
    isPro: bool
    isHf: bool
    isMod: bool


class Author(_Strict):
    id_: str = Field(alias="_id")
    name: str
    hidden: bool = Field(description="Hidden on Hugging Face (then absent from our pages).")
    user: User | None = Field(None, description="The Hugging Face account that claimed this authorship, when imported.")
    status: str | None = Field(None, description="HF's claim status, e.g. claimed_verified, admin_assigned.")
    statusLastChangedAt: Timestamp | None = None


class Organization(_Strict):
    id_: str = Field(alias="_id")
    name: str
    fullname: str
    avatar: str | None
    avatarUrl: str | None


class _HfFields(_Strict):
    mediaUrls: list[str] = Field(description="Images and videos the submitter attached on Hugging Face.")
    projectPage: str | None
    githubRepo: str | None = Field(description="The paper's GitHub repository (HF's, or one its abstract or comments name).")
    githubStars: int | None = Field(description="Its stars, as GitHub's API last said (HF's figure until then).")
    ai_summary: str | None = Field(
        description="One line on the paper: Hugging Face's AI summary when imported, else the abstract's most representative sentence, extracted here."
    )
    ai_keywords: list[str] = Field(
        description="Key phrases: Hugging Face's AI keywords when imported, else 3 to 6 phrases of the abstract, extracted here."
    )
    ai_summary_source: Literal["huggingface", "extracted"] | None = Field(
        description="Where ai_summary came from: Hugging Face's AI, or extracted from the abstract (null: none yet)."
    )
    ai_keywords_source: Literal["huggingface", "extracted"] | None = Field(
        description="Where ai_keywords came from (null: none yet)."
    )
    organization: Organization | None


class Paper(_HfFields):
    """A paper, as the `paper` of a daily item."""

    id: str = Field(description="The arXiv id, without version.", examples=["2410.17243"])
    authors: list[Author]
    publishedAt: Timestamp | None = Field(description="When the first version was submitted to arXiv.")
    submittedOnDailyAt: Timestamp | None = Field(description="When it was first featured here (null: never).")
    submittedOnDailyBy: User | None
    title: str
    summary: str = Field(description="The abstract.")
    upvotes: int = Field(description="Upvotes: Hugging Face's (for mirrored papers) plus the site's own.")
    upvotesHf: int | None = Field(None, description="With DAILYPAPERS_HF_VOTES=apart only: Hugging Face's upvotes.")
    upvotesLocal: int | None = Field(None, description="With DAILYPAPERS_HF_VOTES=apart only: the site's own upvotes.")
    discussionId: str
    numComments: int
    categories: list[str] = Field(description="arXiv categories, primary first.")
    version: int | None = Field(description="The latest arXiv version we know.")
    comment: str | None = Field(description="The arXiv comment field.")


class _Linked(_Strict):
    """Hub repositories linked to the paper: none here, so clients see a stable shape."""

    linkedModels: list[dict] = Field(max_length=0)
    numTotalModels: Literal[0]
    linkedDatasets: list[dict] = Field(max_length=0)
    numTotalDatasets: Literal[0]
    linkedSpaces: list[dict] = Field(max_length=0)
    numTotalSpaces: Literal[0]


class DailyItem(_HfFields, _Linked):
    """One paper of a feed or of search results."""

    paper: Paper
    publishedAt: Timestamp | None = Field(description="When the paper was featured (for a search result never featured: its arXiv date).")
    title: str
    summary: str
    thumbnail: None = Field(description="No thumbnails yet.")
    numComments: int
    submittedBy: User | None
    isAuthorParticipating: bool


class ListedItem(_Strict):
    """One paper of a day's arXiv listing (GET /api/listings), in the listing's order."""

    paper: Paper
    listedOn: str = Field(description="The day arXiv listed it, YYYY-MM-DD.", examples=["2025-03-18"])
    isFeatured: bool = Field(description="Whether it is on the curated feed (a member, a curator or HF put it there).")
    featuredOn: str | None = Field(description="The first day it was featured, YYYY-MM-DD (null: never).")


class RecommendedItem(ListedItem):
    """One paper of GET /api/me/recommendations: a listed paper, ranked for the caller."""

    score: float = Field(description="The caller's model's score: higher is better; comparable within one answer.")
    why: str = Field(description="Why, in a few words: like: <a saved or upvoted paper>, by <a followed author>, "
                     "in <a followed category>, matches your search <q>, or terms: <its top terms>. Empty when nothing says it well.",
                     examples=["like: Attention Is All You Need"])


class PaperInfo(Paper, _Linked):
    """GET /api/papers/{arxiv_id}."""

    submittedBy: User | None


class SimilarPaper(PaperInfo):
    score: float = Field(description="Similarity to the paper asked about, 0 to 1.")


class AuthorName(_Strict):
    name: str = Field(description="A spelling of the name, as papers write it.")
    papers: int = Field(description="How many papers here (for a co-author: papers together).")


class Coauthor(AuthorName):
    url: str = Field(description="The co-author's page here.")


class AuthorAnswer(_Strict):
    """GET /api/authors/{name}: one author, every spelling folded (accents, initials, case)."""

    name: str = Field(description="The spelling most of the author's papers use.")
    key: str = Field(description="The folded key: surname and first initial.", examples=["vaswani a"])
    url: str = Field(description="The author's page here.")
    variants: list[AuthorName] = Field(description="The spellings folded into this author, most papers first.")
    numPapers: int
    papers: list[PaperInfo] = Field(description="One page of the author's papers, newest first.")
    coauthors: list[Coauthor] = Field(description="Co-authors, most papers together first (at most 30).")


class SubscriptionAnswer(_Strict):
    status: Literal["check-your-inbox"]
    message: str


class VoteAnswer(_Strict):
    id: str
    upvotes: int = Field(description="The paper's upvotes after this vote.")
    upvoted: bool


class SubscriptionRequest(BaseModel):
    """The body of POST /api/subscriptions (web/subscribe.py validates it)."""

    email: str = Field(
        max_length=254, json_schema_extra={"format": "email"},
        description="The address to send digests to; a confirmation email goes there first.",
    )
    cadence: Literal["daily", "weekly"] = Field("daily", description="daily (weekdays) or weekly.")
    trending: int = Field(
        10, ge=0, le=50, description="How many trending papers of the period, 0 to 50 (0: none; then give a query or categories)."
    )
    query: str | None = Field(None, max_length=300, description='A saved search for topic alerts, e.g. "diffusion models" cat:cs.CV.')
    categories: list[Annotated[str, Field(pattern=r"^[a-z-]+(\.[A-Za-z-]+)?$")]] = Field(
        default_factory=list, max_length=10, description="arXiv categories for topic alerts, e.g. cs.CL.",
    )
    similar: bool = Field(False, description="Papers like the ones you upvoted (signed-in users only).")


class MeCounts(_Strict):
    saved: int = Field(description="Papers in any of the member's collections.")
    collections: int
    dismissed: int = Field(description='Papers marked "not interested".')
    follows: int = Field(description="Authors, categories and searches followed.")
    upvotes: int


class MeAnswer(_Strict):
    """GET /api/me: who the token or session belongs to."""

    name: str = Field(description="The member's username.")
    url: str = Field(description="The member's page here.")
    counts: MeCounts


class PaperMarkAnswer(_Strict):
    """The state after a save, unsave, dismiss or undismiss: `saved` for the first two, `dismissed` for the others."""

    id: str = Field(description="The arXiv id.", examples=["2410.17243"])
    saved: bool | None = Field(None, description="Whether the paper is in the member's \"Saved\" collection now (other collections keep it after an unsave).")
    dismissed: bool | None = Field(None, description='Whether the paper is marked "not interested" now (hidden from the member\'s feeds).')


FollowKind = Literal["author", "category", "search"]


class FollowItem(_Strict):
    kind: FollowKind
    value: str = Field(description="An author's folded key (vaswani a), an arXiv category (cs.CL) or a search as typed.")
    label: str = Field(description="How it is shown: the author's name, the category, the search.")
    createdAt: Timestamp


class FollowRequest(BaseModel):
    """The body of POST /api/me/follows."""

    kind: FollowKind
    value: str = Field(max_length=300, description="An author's name key (personnames.author_key: vaswani a), a category code, or a search in the search syntax.")
    label: str | None = Field(None, max_length=200, description="How to show it (default: the value).")
    follow: bool = Field(True, description="false: unfollow.")


class FollowAnswer(_Strict):
    kind: FollowKind
    value: str
    label: str
    following: bool

# --- the library (issue 15): public collections and the personal API's library ---------------------


class CollectionPaper(PaperInfo):
    position: int = Field(description="The paper's place in the collection, from 1.", ge=1)


class CollectionAnswer(_Strict):
    """GET /api/collections/{id}: a public collection (or the caller's own), one page of its papers."""

    id: int
    name: str
    description: str = Field(description="As its owner wrote it (Markdown).")
    public: bool
    owner: str = Field(description="The member's username.")
    url: str = Field(description="Its page here.")
    feed: str | None = Field(description="Its Atom feed (public collections only).")
    exports: dict[str, str] = Field(description="Its BibTeX, RIS and CSL-JSON exports, by format: bib, ris, json.")
    createdAt: Timestamp
    updatedAt: Timestamp
    numPapers: int
    papers: list[CollectionPaper] = Field(description="One page of its papers, in the owner's order.")


class LibraryCollection(_Strict):
    id: int
    name: str
    description: str
    public: bool
    default: bool = Field(description='The member\'s "Saved" collection, which a card\'s Save button fills.')
    url: str
    createdAt: Timestamp
    updatedAt: Timestamp
    papers: list[str] = Field(description="Its papers' arXiv ids, in the member's order.")


class LibraryTag(_Strict):
    tag: str = Field(description="Folded to lower case.")
    papers: list[str] = Field(description="arXiv ids of the papers carrying it.")


class LibraryNote(_Strict):
    id: str = Field(description="The paper's arXiv id.")
    note: str = Field(description="The member's note, Markdown as written.")


class LibraryRead(_Strict):
    id: str = Field(description="The paper's arXiv id.")
    readAt: Timestamp


class LibraryAnswer(_Strict):
    """GET /api/me/library: everything the caller keeps (private to them)."""

    user: str = Field(description="The caller's username.")
    collections: list[LibraryCollection] = Field(description='"Saved" first, then in the member\'s order.')
    tags: list[LibraryTag]
    notes: list[LibraryNote]
    read: list[LibraryRead] = Field(description="Papers marked read, last read first.")


def error(description: str) -> dict:
    return {"model": Error, "description": description}


BAD_REQUEST = {400: error("A parameter that cannot be understood, with the reason.")}
NOT_FOUND = {404: error("No such paper here, or not an arXiv id.")}
CSRF = {403: error("A signed-in browser's request without its CSRF token (x-csrftoken header).")}
PERSONAL = {
    401: error("No member: send a live personal API token (Authorization: Bearer ...) or a session cookie. A wrong or revoked token is refused."),
}
PERSONAL_WRITE = {
    **PERSONAL,
    403: error("A request authenticated by the session cookie without its CSRF token (x-csrftoken header); a Bearer token needs none."),
    429: error("Too many personal changes in a short time; see Retry-After."),
}
