"""bench/export.py: the export that streams during the isolation phase's rounds."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.export import Export, ExportError


def serve(content_type: str, body: bytes, cookies: list[str]):
    """A throwaway HTTP server answering every GET with ``body``; records each Cookie header."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            cookies.append(self.headers.get("Cookie"))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_an_export_that_ends_is_started_again_until_stopped():
    cookies = []
    server = serve("text/csv; charset=utf-8", b"a,b\n" * 100_000, cookies)
    try:
        with Export(port=server.server_port, path="/x.csv", cookie="sessionid=abc") as export:
            deadline = time.monotonic() + 10
            while export.completed < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert export.completed >= 2
        assert export.bytes >= 2 * 400_000
        assert export.error is None
        assert set(cookies) == {"sessionid=abc"}
    finally:
        server.shutdown()


def test_an_answer_that_is_not_csv_fails_the_phase():
    """A signed-out export (the login page) must not pass for an export."""
    server = serve("text/html", b"<form>sign in</form>", [])
    try:
        with pytest.raises(ExportError, match="text/html"):
            Export(port=server.server_port, path="/x.csv", cookie="").__enter__()
    finally:
        server.shutdown()
