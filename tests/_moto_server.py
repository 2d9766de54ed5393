"""Run a moto S3 server on loopback for the test suite.

Requests are served one at a time. S3 itself applies a conditional write (``If-None-Match: *``)
atomically; moto checks and then writes, so serialising requests gives the emulator the same
guarantee. A client that checked existence itself and then wrote (two requests) would still race
here, which is what the conformance suite's create race detects.
"""

from __future__ import annotations

import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            return list(app(environ, start_response))

    server = make_server(host, port, serialised, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
