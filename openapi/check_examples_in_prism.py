#!/usr/bin/env python3
"""Every example of the spec and every documented payload, validated by Stoplight Prism.

Usage:
    python3 openapi/check_examples_in_prism.py SPEC FIXTURES_DIR PRISM_BIN

Starts a stand-in upstream that answers each request with the body the request names, and Prism's
validating proxy (`prism proxy SPEC upstream --errors`) in front of it. Then, for every operation,
it sends every request example (and documented request payload) through Prism, and has every
response example (and documented response payload) of the operation come back through it. Prism
validates both sides with its own validator (ajv, with its default options, as partners run it);
any violation fails the call. Exits 1 naming each refused example; prints how many passed.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

REPLAY = "x-replay-example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    spec_path, fixtures_dir, prism_bin = sys.argv[1:4]
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))

    def deref(obj):
        while isinstance(obj, dict) and "$ref" in obj:
            node = spec
            for part in obj["$ref"][2:].split("/"):
                node = node[part]
            obj = node
        return obj

    bodies: dict[str, tuple[int, bytes]] = {}

    class Upstream(http.server.BaseHTTPRequestHandler):
        def answer(self):
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            status, body = bodies[self.headers[REPLAY]]
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    prism = subprocess.Popen(
        [prism_bin, "proxy", spec_path, f"http://127.0.0.1:{upstream.server_port}",
         "--host", "127.0.0.1", "--port", str(port), "--errors"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        cases = []  # (name, method, path, query, request body or None, status, response body)
        fixtures = {p.name: json.loads(p.read_text()) for p in Path(fixtures_dir).glob("*.json")}
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post"):
                    continue
                opid = op["operationId"]
                query = {}
                for param in op.get("parameters", []):
                    param = deref(param)
                    if param.get("required"):
                        query[param["name"]] = param.get("example", deref(param["schema"]).get("example"))
                requests = []
                if "requestBody" in op:
                    media = deref(op["requestBody"])["content"]["application/json"]
                    requests.append(("example", media["example"]))
                    requests += [(n, v) for n, v in fixtures.items()
                                 if n.startswith(f"{opid}.request")]
                else:
                    requests.append(("no body", None))
                responses = []
                for status, response in op["responses"].items():
                    media = deref(response).get("content", {}).get("application/json", {})
                    if "example" in media:
                        responses.append((int(status), f"{status} example", media["example"]))
                responses += [(200, n, v) for n, v in fixtures.items()
                              if n.startswith(f"{opid}.response")]
                # Each request example once (with the success answer), each answer once.
                success = next(r for r in responses if 200 <= r[0] < 300)
                for rname, body in requests:
                    cases.append((f"{opid} request {rname}", method, path, query, body, success))
                for answer in responses:
                    cases.append((f"{opid} answer {answer[1]}", method, path, query,
                                  requests[0][1], answer))

        failures = []
        for i, (name, method, path, query, body, (status, _, answer)) in enumerate(cases):
            key = str(i)
            bodies[key] = (status, json.dumps(answer).encode())
            url = f"http://127.0.0.1:{port}{path}"
            if query:
                url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(url, data=data, method=method.upper(), headers={
                "X-Api-Key": "example-key", REPLAY: key, "content-type": "application/json"})
            try:
                with urllib.request.urlopen(request) as response:
                    got = response.status
            except urllib.error.HTTPError as error:
                got = error.code
                if error.headers.get("content-type", "").startswith("application/problem+json"):
                    failures.append(f"{name}: {error.read().decode()[:600]}")
                    continue
            if got != status:
                failures.append(f"{name}: expected {status}, Prism answered {got}")
        if failures:
            print(f"FAILED: Prism refused {len(failures)} of {len(cases)} examples:")
            for f in failures:
                print(f"  - {f}")
            return 1
        print(f"OK: Prism's validating proxy passed all {len(cases)} request and answer examples "
              f"of the spec and the documented payloads")
        return 0
    finally:
        prism.terminate()
        upstream.shutdown()


if __name__ == "__main__":
    sys.exit(main())
