"""Fixtures for the publishing tests: a real database, a real Mastodon API server, an image server.

The Mastodon side is ``mastodon_mock`` (FastAPI) served by uvicorn on loopback for the whole
session and reset before each test; the real Mastodon.py client talks to it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mastodon_mock.testing import MockServer
from publish_support import PNG, MastodonServer


@pytest.fixture(scope="session")
def mastodon_session_server() -> Iterator[MastodonServer]:
    with MockServer() as server:
        yield MastodonServer(server)


@pytest.fixture
def mastodon(mastodon_session_server: MastodonServer) -> MastodonServer:
    mastodon_session_server.reset()
    return mastodon_session_server


class _Images(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/therabot.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)
        elif self.path == "/broken":
            self.send_response(503)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="session")
def image_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
