"""/docs: Swagger UI for the OpenAPI description, served from our own files (no CDN, no inline script)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .views import render


async def swagger(request: Request) -> Response:
    return render(request, "docs.html")
