"""A local HTTP server that plays recorded upstream responses (arXiv, HF) to the code under test.

The internet does not exist in tests: the real client talks HTTP to this server instead. A handler
function decides each answer from the request; every request is logged with its time and headers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/xml; charset=utf-8"


class Upstream:
    def __init__(self, handler):
        self.handler = handler
        self.log: list[Request] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                req = Request(parts.path, params, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                upstream.log.append(req)
                answer = upstream.handler(req)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "Upstream":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeService:
    """A made-up upstream (GitHub, Hugging Face, arXiv): a subclass answers each request in `answer`.
    While entered it serves at `self.upstream.url` and logs every request in `self.upstream.log`."""

    def __init__(self):
        self.upstream = Upstream(self.answer)

    def answer(self, req: Request) -> Answer:
        raise NotImplementedError

    def __enter__(self):
        self.upstream.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.upstream.__exit__(*exc)
