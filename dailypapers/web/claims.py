"""Claims of authorship: a member picks which author of a paper they are (POST, from the paper
page); a curator confirms or rejects it on the queue page, /claims.

A claim is confirmed at once, without a curator, when the member's email address is verified and
its domain vouches for it. Verified: a member's `email` is only ever set by following the signed
link emailed at sign-up (web/accounts.py; or by an admin's `dailypapers users create --email`), so
an address on an account is a confirmed one. It vouches when its domain (or a domain it is a
subdomain of) is listed in the `author_email_domains` setting, or when the paper's project page
or code URL is on the address's domain (a subdomain included), except hosts anyone can publish on
(github.com, github.io, huggingface.co, ...). Pending claims show to the claimant only; confirmed
ones on the paper page and its cards, and the member's comments on the paper carry an "author"
badge."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import DailyPapersError, NotFoundError
from ..store import claims as claim_store
from ..store import kv
from ..store import papers as paper_store
from .auth import current_user, login_redirect
from .site import site_of
from .views import error_page, render

# Hosts on which anyone can publish a page or a repository: their domain says nothing of authorship.
SHARED_HOSTS = frozenset(
    {
        "github.com", "github.io", "gitlab.com", "gitlab.io", "bitbucket.org", "huggingface.co", "hf.co",
        "google.com", "googleusercontent.com", "arxiv.org", "openreview.net", "paperswithcode.com", "zenodo.org",
        "figshare.com", "dropbox.com", "notion.site", "youtube.com", "x.com", "twitter.com", "medium.com",
        "substack.com", "readthedocs.io", "netlify.app", "vercel.app", "pages.dev", "sourceforge.net", "osf.io",
        "gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "qq.com", "163.com", "icloud.com",
    }
)


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def vouching_rule(email: str | None, urls: Iterable[str | None], domains: list[str]) -> str | None:
    """What confirms a claim at once ("email-domain"), or None: a curator must. See the module.
    `urls`: the paper's own pages (its project page and code URL)."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower().rstrip(".")
    if any(_within(domain, d.lower().strip().lstrip("@")) for d in domains if d.strip()):
        return "email-domain"
    if any(_within(domain, shared) for shared in SHARED_HOSTS):
        return None
    for url in urls:
        host = _host(url)
        if host and not any(_within(host, shared) for shared in SHARED_HOSTS) and _within(host, domain):
            return "email-domain"
    return None


def visible_claims(claims: list[dict], viewer: dict | None) -> tuple[dict[int, str], dict | None, set[int]]:
    """What a viewer sees of a paper's claims: author position -> confirmed member, the viewer's
    own claim (any status), and the members confirmed as authors (their comments' badge)."""
    confirmed = {c["position"]: c["username"] for c in claims if c["status"] == "confirmed"}
    mine = next((c for c in claims if viewer is not None and c["user_id"] == viewer["id"]), None)
    authors = {c["user_id"] for c in claims if c["status"] == "confirmed"}
    return confirmed, mine, authors


async def claim(request: Request) -> Response:
    """POST /papers/{id}/claim: the signed-in member is the paper's author at `position`."""
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    site = site_of(request)
    arxiv_id = request.path_params["arxiv_id"]
    form = await request.form()
    raw = str(form.get("position") or "")
    if not raw.isdigit():
        raise DailyPapersError("pick which of the paper's authors you are")
    position = int(raw)
    site.limiter.hit(site.settings.rate_limit_claim, f"claim:{user['id']}", what="claims of authorship")

    def apply() -> None:
        with site.store.session() as session, session.begin():
            paper = paper_store.get(session, arxiv_id)
            if paper is None:
                raise NotFoundError(f"no paper {arxiv_id} here")
            authors = paper.authors or []
            if position >= len(authors):
                raise DailyPapersError(f"the paper has {len(authors)} authors: pick one of them")
            how = vouching_rule(user.get("email"), (paper.project_url, paper.code_url), site.settings.author_email_domains)
            claim_store.add(session, paper.id, user["id"], position, authors[position]["name"], how=how)
            kv.bump(session)  # pages show claims: cached ones are stale

    await run_in_threadpool(apply)
    return RedirectResponse(f"/papers/{arxiv_id}#authors", status_code=303)


def _for_curators(handler: Callable[[Request, dict], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The handler, answering curators only (given the signed-in curator): anyone else is sent to
    sign in, or told that only curators decide."""

    @functools.wraps(handler)
    async def for_curators(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            return login_redirect(request)
        if not user.get("is_curator"):
            return error_page(request, 403, "Only curators confirm claims of authorship.")
        return await handler(request, user)

    return for_curators


@_for_curators
async def queue(request: Request, user: dict) -> Response:
    """GET /claims: the pending claims, for curators."""
    site = site_of(request)

    def load() -> list[dict]:
        with site.store.session() as session:
            return claim_store.pending(session)

    pending = await run_in_threadpool(load)
    for c in pending:
        c["domain"] = c["email"].rsplit("@", 1)[1] if c.get("email") and "@" in c["email"] else None
    response = render(request, "claims.html", pending=pending)
    response.headers["cache-control"] = "private, no-store"
    return response


@_for_curators
async def decide(request: Request, user: dict) -> Response:
    """POST /claims/{id}: a curator's decision, `decision` confirm or reject."""
    site = site_of(request)
    form = await request.form()
    decision = form.get("decision")
    if decision not in ("confirm", "reject"):
        raise DailyPapersError("decide confirm or reject")
    raw = request.path_params["claim_id"]
    if not raw.isdigit():
        raise NotFoundError(f"no claim {raw}")

    def apply() -> str | None:
        with site.store.session() as session, session.begin():
            done = claim_store.decide(session, int(raw), user["id"], confirm=decision == "confirm")
            if done:
                kv.bump(session)
            return done

    await run_in_threadpool(apply)  # a claim decided already (another curator) is no error
    return RedirectResponse("/claims", status_code=303)
