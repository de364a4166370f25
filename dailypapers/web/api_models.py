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


def error(description: str) -> dict:
    return {"model": Error, "description": description}


BAD_REQUEST = {400: error("A parameter that cannot be understood, with the reason.")}
NOT_FOUND = {404: error("No such paper here, or not an arXiv id.")}
CSRF = {403: error("A signed-in browser's request without its CSRF token (x-csrftoken header).")}
