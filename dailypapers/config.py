"""Settings: every knob declared once, with its default and help text.

Values come from, in order of precedence: explicit keyword arguments, `DAILYPAPERS_*` environment
variables, the TOML file named by `DAILYPAPERS_CONFIG_FILE` (or `--config` on the CLI), then the
defaults below. `docs/settings.md` is generated from this class (`dailypapers settings --markdown`)
and a test fails when it is out of date.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import AliasChoices, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from . import __version__

CONFIG_FILE_ENV = "DAILYPAPERS_CONFIG_FILE"


# Retry policies: what fails for now is tried again after a first wait, each further try waiting
# twice as long, a number of times. Their settings are declared through these, so each says so alike.
def _retries(default: int, what: str) -> Any:
    return Field(default, ge=0, description=f"Retries of {what}, with backoff.")


def _first_wait(default: float, unit: str, what: str, note: str = "", **bounds) -> Any:
    return Field(default, **bounds, description=f"{unit} before {what} is tried again; each further try waits twice as long{note}.")


def _tries(default: int, what: str, note: str = "") -> Any:
    return Field(default, ge=1, description=f"Tries of {what} before it counts as failed{note}.")


# Pacing and batch sizes: how often a client may ask an upstream, and how much a scheduled job does
# in one run (the rest waits for the next), said alike.
def _interval(default: float, upstream: str, note: str) -> Any:
    return Field(default, ge=0, description=f"Minimum seconds between two requests to {upstream} ({note}).")


def _per_run(default: int, what: str, note: str, least: int = 1) -> Any:
    return Field(default, ge=least, description=f"{what} per run{note}.")


def _rate(default: str, description: str) -> Any:
    """A rate limit in the notation of the `limits` package (10/minute, 5/hour, 3/day), checked when
    the settings load (Settings._rate_notation) so a mistyped one fails at start, not on a request."""
    return Field(default, description=description, json_schema_extra={"rate_limit": True})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DAILYPAPERS_", extra="forbid", validate_default=True, populate_by_name=True
    )

    # --- store -----------------------------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///./dailypapers.db",
        description="SQLAlchemy URL of the store: a SQLite file (default) or postgresql+psycopg://user@host/db.",
    )
    data_dir: Path = Field(
        Path("./dailypapers-data"),
        description="Folder for search indexes, the converted embedding model and the email outbox.",
    )
    sqlite_busy_timeout: float = Field(
        30.0, description="Seconds a SQLite writer waits for another writer's lock before failing."
    )
    database_outage_log_seconds: float = Field(
        30.0,
        gt=0,
        description="While the database is unreachable, how often each web process logs a summary (for how long, how many "
        "requests were answered 503); it logs one line when the database goes away and one when it is back.",
    )

    # --- ingest ----------------------------------------------------------------------------------
    ingest_batch_size: int = Field(
        2000, ge=1, description="Papers written per transaction during ingest; a killed run loses at most one batch."
    )
    categories: list[str] = Field(
        default_factory=lambda: ["cs.CL", "cs.LG", "cs.CV", "cs.AI"],
        description="arXiv categories harvested by the scheduled ingest job and `dailypapers up`.",
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query", description="arXiv export API endpoint (Atom), used for lookups by id."
    )
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint, used for incremental harvesting."
    )
    arxiv_request_interval: float = _interval(3.0, "arXiv", "arXiv asks for 3")
    http_timeout: float = Field(30.0, gt=0, description="Seconds before an upstream HTTP request times out.")
    http_retries: int = _retries(5, "an upstream request after a 429/5xx answer or a timeout")
    http_backoff: float = _first_wait(5.0, "Seconds", "an upstream request that failed", " (Retry-After wins)", ge=0)
    fetch_attempts: int = _tries(
        5, "fetching a paper the store lacks (a member submitted it, or a visitor opened its page) from arXiv",
        "; then the member is told",
    )
    fetch_retry_seconds: float = _first_wait(60.0, "Seconds", "such a fetch", gt=0)
    fetch_poll_seconds: float = Field(
        2.0, gt=0, description="How often `up` and `dailypapers scheduler` look for papers waiting to be fetched from "
        "arXiv (one indexed query): a submission of a new paper is fetched within about this long."
    )
    rec_poll_seconds: float = Field(
        0.3, ge=0, description="How often the recommenders' updater (in `up` and the first queue worker) looks for "
        "members with new feedback (one indexed query) and refits their models: feedback shows in their ranking "
        "within about this long plus the fit. 0: no updater here (pages then rank with the models stored, or the "
        "community's)."
    )
    rec_community_seconds: float = Field(
        60.0, gt=0, description="The community's recommender (the ranking of /new for visitors) is refitted at most "
        "this often, when members' feedback has changed."
    )
    foryou_recorded: int = Field(
        20, ge=0, le=100, description="How many of the top papers a /for-you page records as shown to the member "
        "(a paper shown and passed over is a weak negative for their recommender)."
    )
    contact_email: str = Field(
        "", description="Address put in the User-Agent of upstream requests, so arXiv can reach the operator."
    )

    # --- Hugging Face mirror, code and stars -------------------------------------------------------
    hf_endpoint: str = Field(
        "https://huggingface.co",
        # As huggingface_hub names it, so one variable points both at a mirror of the Hub.
        validation_alias=AliasChoices("hf_endpoint", "HF_ENDPOINT", "DAILYPAPERS_HF_ENDPOINT"),
        description="The Hugging Face site the hf-mirror job and `dailypapers ingest hf:DAY` read "
        "/api/daily_papers from (environment variable HF_ENDPOINT, as huggingface_hub names it).",
    )
    hf_mirror: bool = Field(
        True,
        description="Whether `dailypapers up` mirrors hf.co/papers: the daily hf-mirror job imports yesterday's and "
        "today's papers as featured (and days it missed since its last success), when online is on.",
    )
    hf_mirror_catchup_days: int = Field(
        7, ge=0, le=60, description="Days before yesterday the hf-mirror job catches up when its last success is older."
    )
    hf_request_interval: float = _interval(0.6, "Hugging Face", "its limit: 500 requests in 5 minutes")
    hf_votes: Literal["sum", "apart"] = Field(
        "sum",
        description="How Hugging Face's upvotes and the site's own are shown: 'sum' (one count) or 'apart' (the site's "
        "votes and HF's side by side on cards, paper pages and in the API, whose `upvotes` stays the sum).",
    )
    github_api_url: str = Field(
        "https://api.github.com", description="GitHub's REST API, read by the github-stars job for repositories' stars."
    )
    github_token: str = Field(
        "", description="A GitHub token for the github-stars job (5,000 requests an hour instead of 60); never logged."
    )
    github_stars_per_run: int = _per_run(500, "Repositories the github-stars job checks", " (the oldest checked first)")
    github_stars_max_age_hours: int = Field(
        24, ge=1, description="A repository's stars are checked again when older than this (a 304 costs no quota)."
    )


    # --- site ------------------------------------------------------------------------------------
    site_name: str = Field("Daily Papers", description="The name shown in page titles, feeds and emails.")
    base_url: str = Field(
        "",
        description="The public address of the site, for absolute links in pages, feeds, the API and emails, e.g. "
        "https://papers.example.org. Empty: derived from where `serve` and `up` listen (http://HOST:PORT); for a "
        "0.0.0.0 or :: bind, pages use the address each visitor asked for and emails the machine's name. Set it "
        "behind a proxy and whenever emails go out; a value that disagrees with the port served is warned about.",
    )
    host: str = Field("127.0.0.1", description="Address `dailypapers up` and `serve` listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `dailypapers up` and `serve` listen on.")
    workers: int = Field(
        0, ge=0, description="Web worker processes; 0 means one per CPU core (at most 4)."
    )
    page_cache_mb: int = Field(
        64,
        ge=0,
        description=(
            "Memory each web process keeps for rendered pages, API responses and feeds served to anonymous "
            "visitors, with their gzipped copies (MB, least recently used dropped first); 0 turns the cache off."
        ),
    )
    malloc_arena_max: int = Field(
        2,
        ge=0,
        description=(
            "glibc malloc arenas per process for the web and queue workers (MALLOC_ARENA_MAX): caps the heap "
            "growth that busy request threads cause. 0 keeps glibc's default (8 per core); a MALLOC_ARENA_MAX "
            "already in the environment wins."
        ),
    )
    max_body_kb: int = Field(
        256,
        ge=1,
        description=(
            "Largest request body the site reads, in KB; a bigger one is refused with 413 before anything parses it. "
            "The largest legitimate body, a 10,000-character comment, is at most about 120 KB form-encoded."
        ),
    )
    timezone: str = Field("UTC", description="Time zone of the site's days: what 'today' is for submissions and the feed.")
    secret_key: str = Field(
        "",
        description="Signs CSRF tokens and email links. Empty: one is generated once and kept in the database.",
    )
    session_days: int = Field(30, ge=1, description="Days a login lasts.")
    email_confirm_hours: int = Field(
        48, ge=1, description="Hours the link that attaches an email address to a new account stays valid."
    )
    page_size: int = Field(50, ge=5, le=200, description="Papers per page on the feed pages.")
    submission_window_days: int = Field(
        7, ge=1, description="A paper featured within this many days, or older than this, cannot be submitted (curators may submit older ones)."
    )
    trending_gravity: float = Field(1.5, gt=0, description="How fast trending scores decay: score = upvotes / (age in days + 1) ** gravity.")
    vendor_dir: Path = Field(
        Path("./node_modules"),
        description="Folder of the front-end packages installed by `npm ci` (KaTeX, Swagger UI), served under /static/vendor.",
    )
    rate_limit_storage: str = Field(
        "store",
        description="Where rate-limit counters live: 'store' (the database, shared by all processes), memory://, or redis://host:port.",
    )
    # A visitor's own actions, counted per address or per account.
    rate_limit_login: str = _rate("10/minute", "Log-in attempts allowed per address and per account.")
    rate_limit_signup: str = _rate("5/hour", "Sign-ups allowed per address.")
    rate_limit_submit: str = _rate("20/hour", "Paper submissions allowed per user.")
    rate_limit_comment: str = _rate("10/minute", "Comments allowed per user.")
    rate_limit_claim: str = _rate("10/hour", "Claims of authorship allowed per user.")
    rate_limit_personal: str = _rate(
        "600/hour",
        "A member's personal changes (saves, \"not interested\" and its undo, follows, API tokens and the feed key, "
        "taste imports), from the pages and the personal API together.",
    )
    rate_limit_library: str = _rate(
        "120/minute",
        "Changes to a member's library allowed per member: collections made, edited, reordered or deleted, papers "
        "added or moved, notes, tags, read marks; an import counts 10.",
    )
    # What the site would do to others on a visitor's behalf: fetch from arXiv, email an address.
    rate_limit_lookup: str = _rate(
        "30/hour",
        "Fetches from arXiv one client address may start by opening the page of a paper the store lacks "
        "(pages of papers already being fetched do not count), so a crawler cannot make the site hammer arXiv.",
    )
    rate_limit_account_email: str = _rate(
        "3/hour",
        "Account emails (an address's confirmation link, or the notice that someone tried to sign up with "
        "it) sent to one email address; beyond it they are skipped, and the sign-ups still go through.",
    )
    author_email_domains: list[str] = Field(
        default_factory=list,
        description="Email domains (e.g. a university's, example.edu) whose members' claims of authorship are confirmed "
        "at once, without a curator. A member's address counts once confirmed (the emailed link), and a subdomain "
        "counts as its domain. A claim is also confirmed at once when the address's domain is that of the paper's "
        "project page or code URL (not a shared host such as github.com).",
    )
    arxiv_pdf_url: str = Field(
        "https://arxiv.org/pdf/{id}",
        description="Where a paper's PDF is fetched for its thumbnail; {id} is the arXiv id (the thumbnails job).",
    )
    thumbnail_job_limit: int = _per_run(20, "Thumbnails the scheduled thumbnails job makes", " (each PDF is one arXiv request)")
    thumbnail_max_pdf_mb: float = Field(
        40.0, gt=0, description="A paper's PDF larger than this (MB) is not downloaded: the paper keeps its generated card."
    )
    thumbnail_attempts: int = _tries(
        5, "making a paper's thumbnail (an hour apart, doubling)", "; then the paper keeps its generated card"
    )
    ingest_time: str = Field(
        "06:30", description="Local time (HH:MM, site time zone) of the daily arXiv ingest that `dailypapers up` runs."
    )
    online: bool = Field(
        True, description="Whether `dailypapers up` may reach arXiv (off: no harvesting, only imported files)."
    )

    # --- jobs ------------------------------------------------------------------------------------
    queue_url: str = Field(
        "",
        description="Redis URL of the job queue (redis://host:6379/0). Empty: `up` runs jobs in its own process.",
    )
    queue_namespace: str = Field(
        "", description="Prefix of the queue's Redis keys, so several instances can share one Redis."
    )
    queue_heartbeat_seconds: float = Field(
        60.0, gt=0, description="A worker silent this long is dead; its unfinished jobs go back on the queue."
    )
    job_lease_seconds: int = Field(
        120, ge=10, description="A running job's heartbeat older than this means its worker died; another may take it over."
    )
    job_claim_seconds: int = Field(
        900,
        ge=60,
        description="A job run should start within this long. A run queued this long and never seen by a worker (Redis "
        "lost its message) is stuck: the scheduler hands it to the queue again (`up` runs it). A scheduled job whose "
        "run has not started this long after its time is late. `dailypapers jobs list` shows both. Keep it above 5 "
        "minutes, the longest wait of a message retried by the queue.",
    )
    job_retry_seconds: float = _first_wait(
        120.0, "Seconds", "a run of a scheduled job that failed (an arXiv harvest while offline)",
        ", up to an hour, until its period is over (`up` retries it; queue workers retry on their own)", gt=0,
    )
    inbox_dir: Path | None = Field(
        None,
        description="Folder the ingest-inbox job imports files from (then moves them to done/). Default: data_dir/inbox.",
    )
    index_job_limit: int = _per_run(
        3000, "Papers the scheduled index job embeds", " (0: all); a backfill continues run by run", least=0
    )
    index_follow_seconds: float = Field(
        5.0, gt=0, description="How often each web process brings its search indexes up to date with the store."
    )

    # --- email digests ---------------------------------------------------------------------------
    smtp_url: str = Field(
        "",
        description="Outgoing mail server: smtp://user:pass@host:587 (STARTTLS when offered; add ?starttls=required or "
        "?starttls=off), or smtps://user:pass@host:465. Empty: messages are written as .eml files into outbox_dir.",
    )
    mail_from: str = Field(
        "",
        description="The From of every email, e.g. 'Daily Papers <digest@example.org>'. Empty: the site name at "
        "digest@ the host of base_url.",
    )
    unsubscribe_address: str = Field(
        "",
        description="An address whose mail is piped to `dailypapers digest receive` (e.g. the mail server's alias "
        "'unsubscribe: \"|dailypapers digest receive\"'). Set, digests' List-Unsubscribe also offers mailto: this "
        "address beside the one-click link; empty, the one-click link only, since no one would read that mail.",
    )
    outbox_dir: Optional[Path] = Field(
        None, description="Folder that receives the .eml files when smtp_url is empty. Default: data_dir/outbox."
    )
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds before a conversation with the mail server times out.")
    smtp_retries: int = _retries(3, "a message after a temporary failure (4xx answer, refused or lost connection)")
    smtp_backoff: float = _first_wait(2.0, "Seconds", "a message that failed temporarily", ge=0)
    digest_time: str = Field(
        "08:00", description="Local time (HH:MM, site time zone) at which `dailypapers up` sends the digests."
    )
    digest_weekday: str = Field(
        "monday",
        pattern="^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$",
        description="Day the weekly digest of the previous ISO week is sent (monday to sunday).",
    )
    digest_trending_count: int = Field(
        10, ge=1, le=50, description="Trending papers in a digest, unless the subscriber chose another number."
    )
    digest_topic_count: int = Field(10, ge=1, le=50, description="Papers at most in each topic alert and similar-papers section.")
    digest_confirm_hours: int = Field(48, ge=1, description="Hours a subscription's confirmation link stays valid.")
    digest_resend_minutes: int = Field(
        15, ge=1, description="Subscribing an address again sends it another email at most this often (no flooding)."
    )
    digest_retry_minutes: int = _first_wait(15, "Minutes", "a digest that failed temporarily", ge=1)
    digest_max_attempts: int = _tries(6, "one digest", " permanently")
    digest_suspend_after: int = Field(
        3, ge=1, description="Consecutive permanent failures (5xx) after which an address is suspended."
    )
    digest_lease_seconds: int = Field(
        600, ge=10, description="A digest or email marked 'sending' this long ago by a sender on another host is taken as interrupted."
    )
    mail_retry_minutes: int = _first_wait(
        1, "Minutes", "a confirmation or account email that failed temporarily", " (by the mail-outbox job, every minute)", ge=1
    )
    mail_max_attempts: int = _tries(
        10, "a confirmation or account email", " (10 tries, from 1 minute doubling: about 8.5 hours of retries)"
    )
    rate_limit_subscribe: str = _rate("10/hour", "Subscription requests allowed per client address.")
    rate_limit_subscribe_email: str = _rate("5/day", "Subscription requests allowed per email address.")

    _base_url_derived: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _derive_base_url(self) -> "Settings":
        from .siteurl import served_url

        if self.base_url.strip():
            self.base_url = self.base_url.strip().rstrip("/")
        else:
            self.base_url = served_url(self.host, self.port)
            self._base_url_derived = True
        return self

    @property
    def base_url_derived(self) -> bool:
        """Whether base_url was derived from host and port rather than set by the operator."""
        return self._base_url_derived

    @property
    def base_url_per_request(self) -> bool:
        """Pages take their absolute links from each request's Host: no base URL was set and the
        site listens on every address, so no single name is known to reach it."""
        from .siteurl import is_wildcard

        return self._base_url_derived and is_wildcard(self.host)

    def serving_at(self, host: str, port: int) -> "Settings":
        """These settings for a site listening on host:port (`serve --host --port`): a derived
        base URL is derived again from them; one the operator set stays."""
        from .siteurl import served_url

        update: dict[str, Any] = {"host": host, "port": port}
        if self._base_url_derived:
            update["base_url"] = served_url(host, port)
        return self.model_copy(update=update)

    @field_validator("unsubscribe_address")
    @classmethod
    def _one_address(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[^@\s<>,;?]+@[^@\s<>,;?]+\.[^@\s<>,;?]+", value):
            raise ValueError(f"not an email address: {value!r} (write the bare address, e.g. unsubscribe@example.org)")
        return value

    @field_validator("*")
    @classmethod
    def _rate_notation(cls, value: Any, info) -> Any:
        extra = cls.model_fields[info.field_name].json_schema_extra
        if isinstance(extra, dict) and extra.get("rate_limit"):
            from limits import parse_many

            try:
                parse_many(value)
            except ValueError:
                raise ValueError(f"not a rate limit: {value!r} (write it as 10/minute, 5/hour or 3/day)") from None
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [c.strip() for c in value.split(",") if c.strip()]
        return value

    @property
    def user_agent(self) -> str:
        contact = f"; mailto:{self.contact_email}" if self.contact_email else ""
        return f"dailypapers/{__version__} (self-hosted Daily Papers; +https://github.com/dailypapers/dailypapers{contact})"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    # --- search ----------------------------------------------------------------------------------
    models_dir: Optional[Path] = Field(
        None,
        description="Folder for the converted (ONNX, int8) embedding model; empty means data_dir/models.",
    )
    embedding_runtime: Literal["auto", "onnx-int8", "onnx", "torch"] = Field(
        "auto",
        description="How papers are embedded: auto (sentence-transformers on a CUDA GPU when present, else int8 ONNX), "
        "onnx-int8, onnx (float32) or torch. Queries always use ONNX on CPU under auto.",
    )
    embedding_threads: int = Field(
        0, ge=0, description="CPU threads onnxruntime may use for embedding; 0 lets it use every core."
    )
    embedding_batch_size: int = Field(
        64, ge=1, description="Papers embedded and committed together by `dailypapers index`; a killed run loses at most one batch."
    )
    search_semantic: bool = Field(
        True, description="Use the embedding model in search and similar papers; off means full text only."
    )
    search_candidates: int = Field(
        100, ge=10, le=1000, description="Candidates each side of hybrid search (BM25, nearest vectors) contributes per query."
    )
    search_dense_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the semantic score in hybrid search (the rest is normalized BM25); tuned on benchmark train splits.",
    )


def env_name(name: str) -> str:
    """The environment variable of a setting: DAILYPAPERS_NAME, or the one an alias names first."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        named = [c for c in alias.choices if isinstance(c, str) and c.isupper()]
        if named:
            return named[0]
    return f"DAILYPAPERS_{name.upper()}"


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, in declaration order."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        if isinstance(default, list):
            default = ",".join(default)
        rows.append((env_name(name), str(default), field.description or ""))
    return rows


def settings_markdown() -> str:
    """The settings reference page, generated from the declarations above."""
    lines = [
        "# Settings",
        "",
        "Generated by `dailypapers settings --markdown`; do not edit by hand.",
        "",
        "Set each as an environment variable, or as `name = value` (lower case, without the prefix) in a",
        f"TOML file named by `{CONFIG_FILE_ENV}` or `dailypapers --config FILE`.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for env, default, help_text in describe():
        lines.append(f"| `{env}` | `{default}` | {help_text} |")
    return "\n".join(lines) + "\n"
