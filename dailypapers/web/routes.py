"""The route table: every page and endpoint of the site, the JSON API's among them, one line each.
Read this to find the code behind any URL."""

from __future__ import annotations

from . import accounts, actions, api, authors, avatars, claims, docs, feeds, new_page, pages, search_page, subscribe, thumbnails

# (METHOD, path, handler). The JSON API's handlers (web/api.py) say how /openapi.json, shown at
# /docs, describes them; its upvotes are answered by the pages' handler, actions.vote.
ROUTES = [
    ("GET", "/api/daily_papers", api.daily_papers),  # a day, week or month of the feed, or a submitter's papers
    ("GET", "/api/listings", api.listings),  # everything arXiv listed on a day (the /new page's query)
    ("GET", "/api/papers/search", api.search_papers),  # no query: the most recently featured papers
    ("GET", "/api/papers/{arxiv_id:path}/similar", api.similar_papers),
    ("POST", "/api/papers/{arxiv_id:path}/upvote", api.upvote),  # signed in; the CSRF token in a header
    ("POST", "/api/papers/{arxiv_id:path}/unvote", api.unvote),
    ("GET", "/api/papers/{arxiv_id:path}", api.paper),
    ("GET", "/api/authors/{name:path}", authors.author_api),  # an author's papers, name variants folded
    ("POST", "/api/subscriptions", api.subscriptions),  # an address to email digests (double opt-in)
    ("GET", "/", pages.home),
    ("GET", "/date", pages.jump_to_date),
    ("GET", "/date/{day}", pages.by_date),
    ("GET", "/new", new_page.latest),  # everything arXiv listed on a day, apart from the curated feed
    ("GET", "/new/{day}", new_page.by_date),
    ("GET", "/week/{week}", pages.by_week),
    ("GET", "/month/{month}", pages.by_month),
    ("GET", "/trending", pages.trending),
    ("GET", "/stats", pages.stats),
    ("GET", "/search", search_page.search_page),
    ("GET", "/authors/{name:path}", authors.author_page),  # an author's papers and co-authors
    ("GET", "/claims", claims.queue),  # curators: pending claims of authorship
    ("POST", "/claims/{claim_id}", claims.decide),
    ("GET", "/u/{username}", pages.user_page),  # members, and Hugging Face submitters known by name
    ("GET", "/u/{username}/avatar.svg", avatars.avatar),  # generated from the name, for any name
    ("GET", "/thumbnails/{name:path}", thumbnails.thumbnail),  # {arxiv_id}.webp?v= a paper's picture; .svg its generated card
    ("POST", "/papers/{arxiv_id:path}/upvote", actions.vote),
    ("POST", "/papers/{arxiv_id:path}/unvote", actions.vote),
    ("POST", "/papers/{arxiv_id:path}/comments", actions.comment),
    ("POST", "/papers/{arxiv_id:path}/claim", claims.claim),  # a member: "I am this author"
    ("GET", "/papers/{arxiv_id:path}", pages.paper),  # also /papers/{id}.md, the paper as markdown
    ("GET", "/submit", actions.submit_form),
    ("POST", "/submit", actions.submit),
    ("GET", "/login", accounts.login_form),
    ("POST", "/login", accounts.login),
    ("GET", "/signup", accounts.signup_form),
    ("POST", "/signup", accounts.signup),
    ("POST", "/logout", accounts.logout),
    ("GET", "/account/email/{token}", accounts.email_confirm_page),  # the link emailed at sign-up
    ("POST", "/account/email/{token}", accounts.email_confirm),
    ("GET", "/subscribe", subscribe.subscribe_form),
    ("POST", "/subscribe", subscribe.subscribe),
    ("GET", "/subscribe/confirm/{token}", subscribe.confirm_page),
    ("POST", "/subscribe/confirm/{token}", subscribe.confirm),
    ("GET", "/preferences/{token}", subscribe.preferences_page),
    ("POST", "/preferences/{token}", subscribe.preferences),
    ("GET", "/unsubscribe/{token}", subscribe.unsubscribe_page),
    ("POST", "/unsubscribe/{token}", subscribe.unsubscribe),
    ("POST", "/unsubscribe/one-click/{token}", subscribe.one_click),  # RFC 8058, POSTed by mail clients
    ("GET", "/unsubscribe/one-click/{token}", subscribe.unsubscribe_page),  # a person opening it: a button, as above
    ("GET", "/feeds/daily.{fmt}", feeds.daily),
    ("GET", "/feeds/trending.{fmt}", feeds.trending),
    ("GET", "/feeds/category/{category}.{fmt}", feeds.category),
    ("GET", "/docs", docs.swagger),
    ("GET", "/healthz", pages.health),
    ("GET", "/favicon.ico", avatars.favicon),
]
