"""The floor: the requests a sync cannot avoid, sent raw over one kept-alive connection by a fresh
interpreter that imports nothing but http.client. Run as ``python floor_client.py SPEC.json``; the spec
holds the port and a list of requests (method, path, headers, base64 body). Prints one JSON line: the
seconds from the first request to the last answer, each answer's status and each request's time.
"""

from __future__ import annotations

import base64
import http.client
import json
import sys
import time


def main(spec_path: str) -> None:
    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    statuses: list[int] = []
    timings: list[tuple[str, str, float]] = []  # method, path, seconds of each request
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=300)
    for request in spec["requests"]:
        body = base64.b64decode(request["body"])
        sent = time.perf_counter()
        connection.request(request["method"], request["path"], body or None, request["headers"])
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        timings.append((request["method"], request["path"], time.perf_counter() - sent))
    connection.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "statuses": statuses, "timings": timings}))


if __name__ == "__main__":
    main(sys.argv[1])
