"""The route table: every page and endpoint of the site, the JSON API's among them, grouped by area.
Read this to find the code behind any URL."""

from __future__ import annotations

from . import accounts, actions, api, api_me, authors, avatars, claims, docs, feeds, foryou, library, library_api, new_page
from . import pages, personal, search_page, subscribe, taste, thumbnails, tokens

# Each area lists its URLs once: (path, what GET answers, what POST does), None where the method is
# not served. The JSON API's handlers (web/api.py) say how /openapi.json, shown at /docs, describes
# them; its upvotes are answered by the pages' handler, actions.vote. Within an area the order
# matters only where one path pattern would swallow another ({arxiv_id:path} before /similar).
JSON_API = [
    ("/api/daily_papers", api.daily_papers, None),  # a day, week or month of the feed, or a submitter's papers
    ("/api/listings", api.listings, None),  # everything arXiv listed on a day (the /new page's query)
    ("/api/papers/search", api.search_papers, None),  # no query: the most recently featured papers
    ("/api/papers/{arxiv_id:path}/similar", api.similar_papers, None),
    ("/api/papers/{arxiv_id:path}/upvote", None, api.upvote),  # signed in; the CSRF token in a header
    ("/api/papers/{arxiv_id:path}/unvote", None, api.unvote),
    ("/api/papers/{arxiv_id:path}", api.paper, None),
    ("/api/authors/{name:path}", authors.author_api, None),  # an author's papers, name variants folded
    ("/api/subscriptions", None, api.subscriptions),  # an address to email digests (double opt-in)
    ("/api/collections/{collection_id}", library_api.collection, None),  # a public collection (or the caller's own)
    ("/api/me/library", library_api.my_library, None),  # the caller's whole library (personal API)
]
PERSONAL_API = [  # a member's own (web/api_me.py): a personal API token (Bearer) or the session cookie
    ("/api/me", api_me.me, None),
    ("/api/me/papers/{arxiv_id:path}/{action}", None, api_me.paper_action),  # save, unsave, dismiss, undismiss
    ("/api/me/follows", api_me.follows, api_me.change_follow),
    ("/api/me/recommendations", foryou.recommendations, None),  # a day ranked for the caller (token or session)
]
FEED_PAGES = [  # the curated feed by day, week and month, and what arXiv listed
    ("/", pages.home, None),
    ("/date", pages.jump_to_date, None),
    ("/date/{day}", pages.by_date, None),
    ("/new", new_page.latest, None),  # everything arXiv listed on a day, apart from the curated feed
    ("/new/{day}", new_page.by_date, None),
    ("/for-you", foryou.latest, None),  # the day's listed papers ranked for the member, with why
    ("/for-you/{day}", foryou.by_date, None),
    ("/week/{week}", pages.by_week, None),
    ("/month/{month}", pages.by_month, None),
    ("/trending", pages.trending, None),
    ("/stats", pages.stats, None),
    ("/search", search_page.search_page, None),
]
PEOPLE = [
    ("/authors/{name:path}", authors.author_page, None),  # an author's papers and co-authors
    ("/claims", claims.queue, None),  # curators: pending claims of authorship
    ("/claims/{claim_id}", None, claims.decide),
    ("/u/{username}", pages.user_page, None),  # members, and Hugging Face submitters known by name
    ("/u/{username}/avatar.svg", avatars.avatar, None),  # generated from the name, for any name
]
PAPERS = [
    ("/thumbnails/{name:path}", thumbnails.thumbnail, None),  # {arxiv_id}.webp?v= a paper's picture; .svg its generated card
    ("/papers/{arxiv_id:path}/upvote", None, actions.vote),
    ("/papers/{arxiv_id:path}/unvote", None, actions.vote),
    ("/papers/{arxiv_id:path}/comments", None, actions.comment),
    ("/papers/{arxiv_id:path}/claim", None, claims.claim),  # a member: "I am this author"
    ("/papers/{arxiv_id:path}/save", None, personal.paper_action),  # a member's Save / Not interested, and back
    ("/papers/{arxiv_id:path}/unsave", None, personal.paper_action),
    ("/papers/{arxiv_id:path}/dismiss", None, personal.paper_action),
    ("/papers/{arxiv_id:path}/undismiss", None, personal.paper_action),
    ("/papers/{arxiv_id:path}/collections", None, library.paper_collections),  # add to / remove from a collection
    ("/papers/{arxiv_id:path}/note", None, library.paper_note),  # the member's private note
    ("/papers/{arxiv_id:path}/tags", None, library.paper_tags),
    ("/papers/{arxiv_id:path}/read", None, library.paper_read),  # read=1 | 0
    ("/papers/{arxiv_id:path}/cite.{fmt}", library.cite, None),  # bib | ris | json
    ("/papers/{arxiv_id:path}", pages.paper, None),  # also /papers/{id}.md, the paper as markdown
    ("/submit", actions.submit_form, actions.submit),
]
LIBRARY = [  # a member's collections, notes, tags and read marks (issue 15); public collections
    ("/library", library.library_page, None),
    ("/library/import", library.import_form, library.import_post),  # BibTeX, RIS, CSL-JSON, a list of arXiv ids
    ("/library/export.{fmt}", library.export_library, None),  # bib | ris | json
    ("/library/read", library.read_page, None),
    ("/library/tags/{tag:path}", library.tag_page, None),
    ("/collections", None, library.create_collection),
    ("/collections/{collection_id}.atom", library.collection_feed, None),  # public collections only
    ("/collections/{collection_id}/export.{fmt}", library.export_collection, None),
    ("/collections/{collection_id}/edit", None, library.edit_collection),
    ("/collections/{collection_id}/delete", None, library.delete_collection),
    ("/collections/{collection_id}/move", None, library.move_collection),
    ("/collections/{collection_id}/papers", None, library.collection_papers),  # move, remove, order
    ("/collections/{collection_id}", library.collection_page, None),
]
ACCOUNTS = [
    ("/login", accounts.login_form, accounts.login),
    ("/signup", accounts.signup_form, accounts.signup),
    ("/logout", None, accounts.logout),
    ("/account/email/{token}", accounts.email_confirm_page, accounts.email_confirm),  # the link emailed at sign-up
]
MEMBER = [  # a member's follows, personal API tokens, private feed key and taste file
    ("/follow", None, personal.follow_action),  # kind author|category|search, value, label
    ("/unfollow", None, personal.follow_action),
    ("/following", personal.following_page, None),
    ("/account/tokens", tokens.tokens_page, tokens.create_token),
    ("/account/tokens/feed", None, tokens.create_feed_key),  # makes a new private feed URL, revoking the old
    ("/account/tokens/{token_id}/revoke", None, tokens.revoke_token),
    ("/account/taste", taste.taste_page, taste.import_taste),
    ("/account/taste.json", taste.export_taste, None),
]
DIGESTS = [  # email digests: each link in a message shows a page whose button POSTs
    ("/subscribe", subscribe.subscribe_form, subscribe.subscribe),
    ("/subscribe/confirm/{token}", subscribe.confirm_page, subscribe.confirm),
    ("/preferences/{token}", subscribe.preferences_page, subscribe.preferences),
    ("/unsubscribe/{token}", subscribe.unsubscribe_page, subscribe.unsubscribe),
    # RFC 8058: mail clients POST it; a person opening it gets a button, as above
    ("/unsubscribe/one-click/{token}", subscribe.unsubscribe_page, subscribe.one_click),
]
FEEDS = [  # {fmt}: atom or rss
    ("/feeds/daily.{fmt}", feeds.daily, None),
    ("/feeds/trending.{fmt}", feeds.trending, None),
    ("/feeds/category/{category}.{fmt}", feeds.category, None),
    ("/feeds/me/{secret}.atom", foryou.private_feed, None),  # a member's recommendations, at a secret, revocable key
]
SITE = [
    ("/docs", docs.swagger, None),
    ("/healthz", pages.health, None),
    ("/favicon.ico", avatars.favicon, None),
]
AREAS = [JSON_API, PERSONAL_API, FEED_PAGES, PEOPLE, PAPERS, LIBRARY, ACCOUNTS, MEMBER, DIGESTS, FEEDS, SITE]

# (METHOD, path, handler), in the order above: what the app adds.
ROUTES = [
    (method, path, handler)
    for area in AREAS
    for path, *handlers in area
    for method, handler in zip(("GET", "POST"), handlers)
    if handler is not None
]
