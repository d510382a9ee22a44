#!/usr/bin/env python3
"""Check the Partner API description and its example payloads.

Usage:
    python3 openapi/check_examples.py [SPEC] [FIXTURES_DIR]

Defaults: openapi/partner-api.yaml and tests/fixtures/documented (relative to the repository root,
which is the parent of this file's directory).

What it checks (exit status 1 and a list of failures if anything is wrong):

* every example in the spec validates against its schema (strictly: properties the schema does
  not define are reported, to catch typos): media-type `example`/`examples` of
  request bodies and responses (also under components/responses), parameter examples, and every
  `example` inside a schema (checked against that sub-schema);
* every fixture `<operationId>.<request|response>[.variant].json` validates against the request
  body or the 2xx response body of that operation;
* the structural rules the Rust code generator relies on:
  - rule 2: bodies are `$ref`s to named component schemas; no inline objects below the top level of
    a component schema; array items are `$ref` or primitive; no oneOf/anyOf/allOf/not; no
    `additionalProperties`; no free-form objects; PascalCase alphanumeric component names;
  - rule 4: exactly one 2xx response per operation with an application/json `$ref` body; every
    operation references the seven shared error responses, operations with a request body also
    413 and 415; all error responses use ErrorResponse;
  - rule 6: every `type: number` schema is exactly the money shape (`format: decimal`,
    `minimum: -999999999999.99`, `maximum: 999999999999.99`, `x-decimal-places: 2`), the
    percentage shape (0 to 100, 2 places) or the quantity shape (`-99999999.9999` to
    `99999999.9999`, 4 places), with only `nullable`, `description` and `example` besides; `*Amount`/`amount`/`*Percentage`/
    `percentage` properties must be money-shaped;
  - evidence markers: allowed values only, never next to a `$ref`, `x-evidence-properties` keys
    must be real properties, and every property of a schema not marked `documented` carries a
    marker (its own or via the parent's `x-evidence-properties`);
  - identifiers caseId/settlementId/allocationId/clientId/actionId are int64 integers.

Requires: pyyaml, openapi-schema-validator (>= 0.6), rfc3339-validator (for date-time format).
Numbers are read as floats, as mainstream validators (Prism's ajv, Python's jsonschema) read
them, so that the spec is proven to work in those tools; `x-decimal-places` is checked on the
shortest decimal form of each float, which is the written form for any amount in range.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import yaml
from jsonschema import ValidationError, validators
from openapi_schema_validator import OAS30Validator, oas30_format_checker

EVIDENCE = {"documented", "sibling", "finvoice", "inferred"}
ERROR_RESPONSES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "402": "BusinessRuleViolation",
    "403": "Forbidden",
    "404": "NotFound",
    "500": "InternalError",
    "503": "ServiceUnavailable",
}
BODY_ERROR_RESPONSES = {
    "408": "RequestTimeout",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType",
}
MONEY_KEYS = {"type", "format", "minimum", "maximum", "x-decimal-places", "nullable",
              "description", "example"}
# (decimal places, minimum, maximum) of money, percentages and quantities.
MONEY_SHAPE = (2, Decimal("-999999999999.99"), Decimal("999999999999.99"))
PERCENT_SHAPE = (2, Decimal("0"), Decimal("100"))
QUANTITY_SHAPE = (4, Decimal("-99999999.9999"), Decimal("99999999.9999"))
DECIMAL_SHAPES = {MONEY_SHAPE, PERCENT_SHAPE, QUANTITY_SHAPE}


def decimal_shape(schema: dict):
    """The (places, minimum, maximum) of a number schema, or None."""
    try:
        return (schema.get("x-decimal-places"), Decimal(str(schema.get("minimum"))),
                Decimal(str(schema.get("maximum"))))
    except ArithmeticError:
        return None
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
INT64_IDS = {"caseId", "settlementId", "allocationId", "clientId", "actionId"}

# The operation table the code generator and the tests rely on.
EXPECTED_OPERATIONS = {
    "createClient": ("post", "/api/v1/partner/client"),
    "validateToken": ("get", "/api/v1/partner/validate"),
    "renewToken": ("get", "/api/v1/partner/renew"),
    "createInvoice": ("post", "/api/v1/partner/invoice"),
    "createInvoiceActions": ("post", "/api/v1/partner/invoice/action"),
    "getCaseDetails": ("get", "/api/v1/partner/invoice/case"),
    "getDistributionInformation": ("get", "/api/v1/partner/invoice/distribution"),
    "getDistributionInformationV2": ("get", "/api/v1/partner/invoice/distribution/v2"),
    "getPayments": ("get", "/api/v1/partner/payments"),
    "getSettlements": ("get", "/api/v1/partner/settlements"),
    "submitAccountingInvoice": ("post", "/api/v1/partner/accounting/invoice"),
    "submitLedger": ("post", "/api/v1/partner/accounting/ledger"),
    "getLedgerStatus": ("get", "/api/v1/partner/accounting/ledger"),
    "submitAccountingPayments": ("post", "/api/v1/partner/accounting/payment"),
    "getAccountingPaymentStatus": ("get", "/api/v1/partner/accounting/payment"),
    "getFinvoiceCredentials": ("get", "/api/v1/partner/finvoice/credentials"),
}


def _decimal_places(validator, places, instance, schema):
    """`x-decimal-places`: at most that many decimals, judged on the float's shortest form."""
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        exponent = Decimal(repr(instance)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            yield ValidationError(f"{instance!r} has more than {places} decimals")


# The validator as mainstream tools run it (floats, the standard keywords), plus the spec's one
# extension keyword.
SpecValidator = validators.extend(OAS30Validator, {"x-decimal-places": _decimal_places})


# --------------------------------------------------------------------------- loading
class SpecLoader(yaml.SafeLoader):
    """YAML loader closer to YAML 1.2 (what the Rust and JS tooling use).

    * dates/timestamps stay strings (no implicit timestamp resolution);
    * only true/false are booleans (no YAML 1.1 yes/no/on/off).
    """


SpecLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_spec(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=SpecLoader)


def load_json(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


# --------------------------------------------------------------------------- checker
class Checker:
    def __init__(self, spec: dict):
        self.spec = spec
        self.failures: list[str] = []
        self.checked = 0
        self.components = spec.get("components", {})
        self.schemas = self.components.get("schemas", {})
        # Examples are validated strictly: a property that the schema does not define is an
        # error (catches typos), although the wire format stays open for forward compatibility.
        self.strict_components = copy.deepcopy(self.components)
        for schema in self.strict_components.get("schemas", {}).values():
            if schema.get("type") == "object":
                schema["additionalProperties"] = False

    def fail(self, where: str, msg: str) -> None:
        self.failures.append(f"{where}: {msg}")

    # -- validation -------------------------------------------------------------
    def validate(self, schema: dict, instance, where: str) -> None:
        self.checked += 1
        root = dict(schema)
        root["components"] = self.strict_components
        validator = SpecValidator(root, format_checker=oas30_format_checker)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        for err in errors:
            loc = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
            self.fail(where, f"{loc}: {err.message}")

    def deref(self, obj: dict) -> dict:
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref not supported: {ref}")
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part]
            obj = node
        return obj

    # -- examples -----------------------------------------------------------------
    def check_media(self, media: dict, where: str) -> None:
        schema = media.get("schema")
        if schema is None:
            self.fail(where, "media type without schema")
            return
        if "example" in media:
            self.validate(schema, media["example"], f"{where} example")
        for name, ex in (media.get("examples") or {}).items():
            ex = self.deref(ex)
            if "value" in ex:
                self.validate(schema, ex["value"], f"{where} examples.{name}")

    def check_schema_examples(self, schema: dict, where: str) -> None:
        if not isinstance(schema, dict):
            return
        if "example" in schema and "$ref" not in schema:
            self.validate(schema, schema["example"], f"{where} (schema example)")
        for name, prop in (schema.get("properties") or {}).items():
            self.check_schema_examples(prop, f"{where}.{name}")
        if isinstance(schema.get("items"), dict):
            self.check_schema_examples(schema["items"], f"{where}[]")

    def check_all_examples(self) -> None:
        for path, item in self.spec.get("paths", {}).items():
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                opid = op.get("operationId", f"{method} {path}")
                body = op.get("requestBody")
                if body:
                    body = self.deref(body)
                    for mt, media in body.get("content", {}).items():
                        self.check_media(media, f"{opid} request {mt}")
                for code, resp in op.get("responses", {}).items():
                    if "$ref" in resp:
                        continue  # checked once under components/responses
                    for mt, media in (resp.get("content") or {}).items():
                        self.check_media(media, f"{opid} response {code} {mt}")
                for param in op.get("parameters", []) + item.get("parameters", []):
                    self.check_parameter(param, opid)
        for name, resp in self.components.get("responses", {}).items():
            for mt, media in (resp.get("content") or {}).items():
                self.check_media(media, f"components.responses.{name} {mt}")
        for name, param in self.components.get("parameters", {}).items():
            self.check_parameter(param, f"components.parameters.{name}", direct=True)
        for name, schema in self.schemas.items():
            self.check_schema_examples(schema, f"components.schemas.{name}")

    def check_parameter(self, param: dict, where: str, direct: bool = False) -> None:
        if "$ref" in param and not direct:
            return  # checked under components/parameters
        param = self.deref(param)
        label = f"{where} parameter {param.get('name')}"
        if "schema" not in param:
            self.fail(label, "parameter without schema")
            return
        if "example" in param:
            self.validate(param["schema"], param["example"], f"{label} example")
        if not param.get("description"):
            self.fail(label, "parameter without description")

    # -- fixtures -----------------------------------------------------------------
    def operations(self):
        for path, item in self.spec.get("paths", {}).items():
            for method, op in item.items():
                if method in HTTP_METHODS:
                    yield path, method, op

    def check_fixtures(self, fixtures: Path) -> int:
        if not fixtures.is_dir():
            self.fail(str(fixtures), "fixtures directory not found")
            return 0
        ops = {op.get("operationId"): op for _, _, op in self.operations()}
        count = 0
        for file in sorted(fixtures.glob("*.json")):
            parts = file.name[:-len(".json")].split(".")
            if len(parts) < 2 or parts[1] not in ("request", "response"):
                self.fail(file.name, "name must be <operationId>.<request|response>[.variant].json")
                continue
            opid, kind = parts[0], parts[1]
            op = ops.get(opid)
            if op is None:
                self.fail(file.name, f"unknown operationId {opid}")
                continue
            try:
                data = load_json(file)
            except ValueError as exc:
                self.fail(file.name, f"invalid JSON: {exc}")
                continue
            if kind == "request":
                body = self.deref(op.get("requestBody") or {})
                media = (body.get("content") or {}).get("application/json")
            else:
                ok = [self.deref(r) for c, r in op.get("responses", {}).items() if c.startswith("2")]
                media = (ok[0].get("content") or {}).get("application/json") if ok else None
            if not media or "schema" not in media:
                self.fail(file.name, f"operation {opid} has no JSON {kind} body")
                continue
            self.validate(media["schema"], data, f"fixture {file.name}")
            count += 1
        return count

    # -- structural rules ---------------------------------------------------------
    def check_structure(self) -> None:
        spec = self.spec
        if spec.get("openapi") != "3.0.3":
            self.fail("openapi", "must be 3.0.3")
        urls = {s.get("url") for s in spec.get("servers", [])}
        for url in ("https://staging-integrations.confirmafinance.com",
                    "https://integrations.confirmafinance.com", "http://127.0.0.1:8080"):
            if url not in urls:
                self.fail("servers", f"missing {url}")
        scheme = self.components.get("securitySchemes", {}).get("ApiKey")
        if scheme != {**(scheme or {}), "type": "apiKey", "in": "header", "name": "X-Api-Key"}:
            self.fail("securitySchemes.ApiKey", "must be apiKey in header X-Api-Key")
        if spec.get("security") != [{"ApiKey": []}]:
            self.fail("security", "ApiKey must be applied globally")

        for name, schema in self.schemas.items():
            where = f"components.schemas.{name}"
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
                self.fail(where, "component name must be PascalCase [A-Za-z0-9]")
            self.check_schema_node(schema, where, top=True)
            self.check_evidence(schema, where)

        for name, resp in self.components.get("responses", {}).items():
            schema = ((resp.get("content") or {}).get("application/json") or {}).get("schema")
            if schema != {"$ref": "#/components/schemas/ErrorResponse"}:
                self.fail(f"components.responses.{name}", "body must be $ref ErrorResponse")
        for name in list(ERROR_RESPONSES.values()) + list(BODY_ERROR_RESPONSES.values()):
            if name not in self.components.get("responses", {}):
                self.fail("components.responses", f"missing {name}")

        for name, param in self.components.get("parameters", {}).items():
            self.check_param_schema(param, f"components.parameters.{name}")

        seen = {}
        for path, method, op in self.operations():
            opid = op.get("operationId")
            where = f"{method.upper()} {path} ({opid})"
            if not opid:
                self.fail(where, "missing operationId")
                continue
            seen[opid] = (method, path)
            for key in ("summary", "description", "tags"):
                if not op.get(key):
                    self.fail(where, f"missing {key}")
            body = op.get("requestBody")
            if body:
                content = self.deref(body).get("content", {})
                if set(content) != {"application/json"}:
                    self.fail(where, "request body must be application/json only")
                for media in content.values():
                    self.check_body_schema(media.get("schema"), f"{where} request")
                    if "example" not in media and "examples" not in media:
                        self.fail(where, "request body without example")
            responses = op.get("responses", {})
            ok = [c for c in responses if str(c).startswith("2")]
            if len(ok) != 1:
                self.fail(where, f"must have exactly one 2xx response, has {ok}")
            for code in ok:
                resp = self.deref(responses[code])
                content = resp.get("content") or {}
                if set(content) != {"application/json"}:
                    self.fail(where, f"{code} response must have an application/json body only")
                for media in content.values():
                    self.check_body_schema(media.get("schema"), f"{where} {code}")
                    if "example" not in media and "examples" not in media:
                        self.fail(where, f"{code} response without example")
            required = dict(ERROR_RESPONSES)
            if body:
                required.update(BODY_ERROR_RESPONSES)
            for code, name in required.items():
                want = {"$ref": f"#/components/responses/{name}"}
                if responses.get(code) != want:
                    self.fail(where, f"response {code} must be {want}")
            for param in op.get("parameters", []):
                self.check_param_schema(param, where)
        for opid, (method, path) in EXPECTED_OPERATIONS.items():
            if seen.get(opid) != (method, path):
                self.fail("paths", f"{opid} must be {method.upper()} {path}, found {seen.get(opid)}")
        for opid in set(seen) - set(EXPECTED_OPERATIONS):
            self.fail("paths", f"unexpected operation {opid}")

    def check_param_schema(self, param: dict, where: str) -> None:
        param = self.deref(param)
        schema = param.get("schema") or {}
        label = f"{where} parameter {param.get('name')}"
        if "$ref" in schema:
            if set(schema) != {"$ref"}:
                self.fail(label, "$ref with siblings")
            target = self.deref(schema)
            if target.get("type") in ("object", "array"):
                self.fail(label, "query parameters must be primitive")
        else:
            self.check_schema_node(schema, label, top=False)

    def check_body_schema(self, schema, where: str) -> None:
        if not isinstance(schema, dict) or set(schema) != {"$ref"} or \
                not schema["$ref"].startswith("#/components/schemas/"):
            self.fail(where, "body schema must be a single $ref to a component schema")

    def check_schema_node(self, schema, where: str, top: bool) -> None:
        if not isinstance(schema, dict):
            self.fail(where, "schema must be a mapping")
            return
        if "$ref" in schema:
            if set(schema) != {"$ref"}:
                self.fail(where, f"$ref has siblings {sorted(set(schema) - {'$ref'})} (ignored in 3.0.3)")
            return
        for kw in ("oneOf", "anyOf", "allOf", "not"):
            if kw in schema:
                self.fail(where, f"'{kw}' is not allowed")
        if "additionalProperties" in schema:
            self.fail(where, "additionalProperties is not allowed (no closed or free-form objects)")
        typ = schema.get("type")
        if typ is None:
            self.fail(where, "schema without type")
        if typ == "object" or "properties" in schema:
            if not top:
                self.fail(where, "inline object; use a named component schema")
            if not schema.get("properties"):
                self.fail(where, "free-form object (no properties)")
        if typ == "array":
            items = schema.get("items")
            if not isinstance(items, dict):
                self.fail(where, "array without items")
            elif "$ref" not in items and items.get("type") in ("object", "array", None):
                self.fail(where, "array items must be a $ref or a primitive")
            else:
                self.check_schema_node(items, f"{where}[]", top=False)
        if typ == "number":
            extra = set(schema) - MONEY_KEYS
            if extra:
                self.fail(where, f"number schema has extra keywords {sorted(extra)}")
            if schema.get("format") != "decimal":
                self.fail(where, "number schema must have format: decimal")
            if decimal_shape(schema) not in DECIMAL_SHAPES:
                self.fail(where, "number schema must be a decimal shape (money, percentage or "
                                 "quantity: x-decimal-places with its minimum and maximum)")
        if typ == "integer" and schema.get("format") not in (None, "int32", "int64"):
            self.fail(where, "integer format must be int32 or int64")
        if "x-evidence" in schema and schema["x-evidence"] not in EVIDENCE:
            self.fail(where, f"bad x-evidence {schema['x-evidence']!r}")
        if "enum" in schema and None in schema["enum"] and not schema.get("nullable"):
            self.fail(where, "null in enum requires nullable: true")
        if schema.get("nullable") and "enum" in schema and None not in schema["enum"]:
            self.fail(where, "nullable enum must list null")
        for name, prop in (schema.get("properties") or {}).items():
            pwhere = f"{where}.{name}"
            self.check_schema_node(prop, pwhere, top=False)
            target = self.deref(prop) if "$ref" in prop else prop
            lname = name.lower()
            if lname.endswith("amount") and decimal_shape(target) != MONEY_SHAPE:
                self.fail(pwhere, "amounts must use the money shape")
            if lname.endswith("percentage") and decimal_shape(target) != PERCENT_SHAPE:
                self.fail(pwhere, "percentages must use the percentage shape")
            if name in INT64_IDS and not (target.get("type") == "integer"
                                          and target.get("format") == "int64"):
                self.fail(pwhere, "identifier must be integer/int64")
        for req in schema.get("required", []):
            if req not in (schema.get("properties") or {}):
                self.fail(where, f"required property {req!r} is not defined")

    def check_evidence(self, schema: dict, where: str) -> None:
        level = schema.get("x-evidence")
        if level is not None and level not in EVIDENCE:
            self.fail(where, f"bad x-evidence {level!r}")
        props = schema.get("properties") or {}
        mapping = schema.get("x-evidence-properties") or {}
        for key, value in mapping.items():
            if key not in props:
                self.fail(where, f"x-evidence-properties names unknown property {key!r}")
            if value not in EVIDENCE:
                self.fail(where, f"x-evidence-properties.{key}: bad value {value!r}")
        if level is None:
            self.fail(where, "component schema without x-evidence")
        for name, prop in props.items():
            own = prop.get("x-evidence") if isinstance(prop, dict) else None
            if own is not None and ("$ref" in prop or prop.get("type") == "number"):
                self.fail(f"{where}.{name}", "x-evidence next to $ref or on a money shape; "
                                             "use the parent's x-evidence-properties")
            if level != "documented" and own is None and name not in mapping:
                self.fail(f"{where}.{name}", "undocumented property without evidence marker")


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    spec_path = Path(argv[1]) if len(argv) > 1 else root / "openapi" / "partner-api.yaml"
    fixtures = Path(argv[2]) if len(argv) > 2 else root / "tests" / "fixtures" / "documented"
    spec = load_spec(spec_path)
    checker = Checker(spec)
    checker.check_structure()
    checker.check_all_examples()
    n_fixtures = checker.check_fixtures(fixtures)
    if checker.failures:
        print(f"FAILED: {len(checker.failures)} problem(s)")
        for failure in checker.failures:
            print(f"  - {failure}")
        return 1
    print(f"OK: structure rules passed; {checker.checked} example validations "
          f"({n_fixtures} fixtures) passed against {spec_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
