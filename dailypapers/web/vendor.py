"""The front-end packages the site serves itself under /static/vendor (never from a CDN), installed
by `npm ci` into `vendor_dir`: KaTeX typesets math, Swagger UI renders /docs. Both are optional:
without KaTeX math stays readable LaTeX source, without Swagger UI /docs links the OpenAPI
description. What is missing is found once at start, logged as one line, and the pages then ask for
none of it (so no page links a 404)."""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles

# name -> (what it is called, the files the pages use, what its absence means)
PACKAGES = {
    "katex": (
        "KaTeX",
        ("katex/dist/katex.min.css", "katex/dist/katex.min.js", "katex/dist/contrib/auto-render.min.js"),
        "math shows as LaTeX source",
    ),
    "swagger": (
        "Swagger UI",
        ("swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui-bundle.js"),
        "/docs links /openapi.json instead",
    ),
}


def installed(vendor_dir: Path) -> dict[str, bool]:
    """For each package, whether every file the pages use from it is there."""
    return {name: all((vendor_dir / f).is_file() for f in files) for name, (_, files, _) in PACKAGES.items()}


def missing_warning(vendor_dir: Path, found: dict[str, bool]) -> str | None:
    """The one start-up line about what is missing, or None."""
    missing = [f"{label} ({effect})" for name, (label, _, effect) in PACKAGES.items() if not found[name]]
    if not missing:
        return None
    return (
        f"front-end files missing from {vendor_dir}: {'; '.join(missing)}. Install them with `npm ci` in the folder "
        "that holds package.json, or set DAILYPAPERS_VENDOR_DIR to the node_modules folder that has them."
    )


class CachedStatic(StaticFiles):
    """Static files with long caching: their URLs carry a content hash (Site.static_url) or a
    package version. Their ETag is made weak, as every tag of the site (web/httpcache.py): gzip
    sends one tag for two bodies. StaticFiles already compares If-None-Match weakly."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        etag = response.headers.get("etag")
        if etag and not etag.startswith("W/"):
            response.headers["etag"] = "W/" + etag
        if response.status_code in (200, 304) and not _accepts_gzip(scope) and _compressible(response):
            # Gzipped for clients that take it (the gzip layer says so on those answers itself).
            response.headers.add_vary_header("Accept-Encoding")
        return response


def _accepts_gzip(scope) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])


def _compressible(response) -> bool:
    """Whether web/httpcache.py's gzip layer compresses this file for clients that take it (so
    every answer of it, identity ones included, says that it varies with Accept-Encoding)."""
    from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

    from .httpcache import GZIP_MIN_BYTES

    media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    excluded = media in DEFAULT_EXCLUDED_CONTENT_TYPES or f"{media.partition('/')[0]}/*" in DEFAULT_EXCLUDED_CONTENT_TYPES
    size = response.headers.get("content-length")
    return not excluded and (size is None or int(size) >= GZIP_MIN_BYTES)


class VendorFiles(CachedStatic):
    """/static/vendor: a missing folder is a 404 like a missing file (StaticFiles raises on it)."""

    def __init__(self, directory: Path):
        super().__init__(directory=str(directory), check_dir=False)

    async def check_config(self) -> None:
        if Path(str(self.directory)).is_dir():
            await super().check_config()
