"""Run a moto S3 server on loopback for the test suite.

Requests are served one at a time. S3 itself applies a conditional write (``If-None-Match: *``)
atomically; moto checks and then writes, so serialising requests gives the emulator the same
guarantee. A client that checked existence itself and then wrote (two requests) would still race
here, which is what the conformance suite's create race detects.

Every request is also recorded (method, path, query), and ``GET /_requests?since=N`` returns the
records from index ``N`` on as JSON: tests count what a client really sends on the wire.
"""

from __future__ import annotations

import json
import sys
import threading
from urllib.parse import parse_qs

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

LOG_PATH = "/_requests"


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    seen: list[tuple[str, str, str]] = []

    def serialised(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        with lock:
            if path == LOG_PATH:
                since = int(parse_qs(query).get("since", ["0"])[0])
                body = json.dumps({"next": len(seen), "requests": seen[since:]}).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [body]
            seen.append((environ["REQUEST_METHOD"], path, query))
            return list(app(environ, start_response))

    server = make_server(host, port, serialised, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
