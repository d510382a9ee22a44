#!/usr/bin/env python3
"""Record what a running sandbox answers and validate it as a partner's tooling would.

Usage:
    python3 openapi/check_answers.py SPEC BASE_URL TOKEN [OUT_DIR]

Calls every read operation of the Partner API for the client behind TOKEN (wide date windows,
every page, the details of every case it finds), writes each answer to OUT_DIR (default: a
temporary directory) as the recorded corpus, and validates each one against its operation's 2xx
response schema with Python's `jsonschema` (through `openapi-schema-validator`) exactly as
mainstream tools run it: numbers parsed as floats, only standard keywords. Exits 1 on any
rejection, naming the answer and the field; prints how many answers and amounts passed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

WIDE = {"fromDate": "2000-01-01", "toDate": "2099-12-31"}


def main() -> int:
    spec_path, base, token = sys.argv[1:4]
    out = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(tempfile.mkdtemp(prefix="answers-"))
    out.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    by_path = {}
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op:
            by_path[path] = op

    def schema_of(path: str) -> dict:
        responses = by_path[path]["responses"]
        ok = next(v for k, v in responses.items() if k.startswith("2"))
        while "$ref" in ok:
            ok = spec["components"]["responses"][ok["$ref"].rsplit("/", 1)[1]]
        schema = dict(ok["content"]["application/json"]["schema"])
        schema["components"] = spec["components"]
        return schema

    def get(path: str, query: dict) -> tuple[int, object]:
        url = base.rstrip("/") + path
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        request = urllib.request.Request(url, headers={"X-Api-Key": token})
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"[]")

    failures: list[str] = []
    recorded = 0
    amounts = 0

    def record(name: str, path: str, query: dict) -> object:
        nonlocal recorded, amounts
        status, answer = get(path, query)
        recorded += 1
        (out / f"{recorded:03}-{name}.json").write_text(json.dumps(answer, indent=1))
        if status == 204:  # the documented empty ledger answer has no body to validate
            return answer
        validator = OAS30Validator(schema_of(path), format_checker=oas30_format_checker)
        for error in validator.iter_errors(answer):
            where = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            failures.append(f"{name} ({path}): {where}: {error.message}")
        amounts += count_floats(answer)
        return answer

    record("validate", "/api/v1/partner/validate", {})
    distribution = record(
        "distribution", "/api/v1/partner/invoice/distribution",
        {"fromInvDate": WIDE["fromDate"], "toInvDate": WIDE["toDate"]})
    page = 1
    while True:
        answer = record(f"distribution-v2-page{page}", "/api/v1/partner/invoice/distribution/v2",
                        {"fromInvDate": WIDE["fromDate"], "toInvDate": WIDE["toDate"],
                         "page": page, "pageSize": 500})
        if not answer["data"]:
            break
        page += 1
    for case_id in sorted({d["caseId"] for d in distribution["distributions"] if d.get("caseId")}):
        record(f"case-{case_id}", "/api/v1/partner/invoice/case", {"caseId": case_id})
    record("payments", "/api/v1/partner/payments", WIDE)
    record("settlements", "/api/v1/partner/settlements", WIDE)
    record("ledger", "/api/v1/partner/accounting/ledger", WIDE)
    record("accounting-payments", "/api/v1/partner/accounting/payment", WIDE)
    record("finvoice", "/api/v1/partner/finvoice/credentials", {"businessId": "2942108-7"})

    if failures:
        print(f"FAILED: {len(failures)} rejection(s) of recorded sandbox answers:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"OK: {recorded} recorded sandbox answers with {amounts} decimal amounts pass Python "
          f"jsonschema (floats, standard keywords); corpus in {out}")
    return 0


def count_floats(value) -> int:
    if isinstance(value, float):
        return 1
    if isinstance(value, dict):
        return sum(count_floats(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_floats(v) for v in value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
