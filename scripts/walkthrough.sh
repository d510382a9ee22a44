#!/usr/bin/env bash
# From invoice to settlement against a running sandbox, with curl only: the README's walkthrough.
# Usage: scripts/walkthrough.sh BASE_URL CLIENT_TOKEN ADMIN_TOKEN
# Each step prints what it got; the script fails at the first unexpected answer.
# CONFIRMA_SANDBOX_URL, if set, is where the control API (/sandbox/...) and /openapi.json are
# called instead of BASE_URL: for a BASE_URL that is a proxy knowing only the Partner API.
set -euo pipefail
base=$1 token=$2 admin=$3
control=${CONFIRMA_SANDBOX_URL:-$base}
call() { # METHOD PATH [BODY] -> body on stdout; fails on a non-2xx answer
  local method=$1 path=$2 body=${3:-}
  local url=$base$path
  [[ $path == /sandbox/* ]] && url=$control$path
  local args=(-sS -X "$method" "$url" -H "X-Api-Key: $token" -H "X-Admin-Token: $admin" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  local out code
  out=$(curl "${args[@]}")
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  echo "$out"
  [[ $code == 2* ]] || { echo "$method $path answered $code" >&2; return 1; }
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

echo "== 1. Create an invoice (the spec's example, number 900001)"
invoice=$(curl -sS "$control/openapi.json" | python3 -c "
import json,sys
d=json.load(sys.stdin)
ex=d['paths']['/api/v1/partner/invoice']['post']['requestBody']['content']['application/json']['example']
ex['invoice']['header'].update(number=900001, date='2026-03-02', dueDate='2026-03-16')
ex['invoice']['references']['payment']=None
print(json.dumps(ex))")
created=$(call POST /api/v1/partner/invoice "$invoice")
echo "$created"
reference=$(echo "$created" | field "['paymentReference']")
case_id=$(echo "$created" | field "['caseId']")

echo "== 2. A day later it is delivered"
call POST /sandbox/clock/advance '{"days": 1}'
call GET "/api/v1/partner/invoice/distribution?invoiceNumber=900001" | field "['distributions'][0]['status']" | grep -x DELIVERED

echo "== 3. Three weeks on it is overdue and reminded"
call POST /sandbox/clock/advance '{"days": 21}'
call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['summary']['stage']" | grep -x REMINDER

echo "== 4. The debtor paid 100.00 directly to the creditor: report it"
call POST /api/v1/partner/invoice/action "{\"actions\": [{\"code\": \"DIRECTPAYMENT\", \"comment\": \"Paid to our account\", \"data\": {\"invoiceNumber\": 900001, \"caseId\": $case_id, \"amount\": 100.00, \"currency\": \"EUR\", \"paymentDate\": \"2026-03-24\", \"paymentMethod\": \"Bank transfer\"}}]}"

echo "== 5. The rest arrives at the agency by reference number"
rest=$(call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['balance']['totalAmount']")
call POST /sandbox/payments "{\"reference\": \"$reference\", \"amount\": $rest}"
call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['summary']['status']" | grep -x PAID

echo "== 6. Monday's settlement pays it out"
call POST /sandbox/clock/advance '{"days": 6}'
settled=$(call GET "/api/v1/partner/settlements?unfetchedOnly=true")
echo "$settled"
echo "$settled" | field "['settlements'][0]['settlementAmount']" | grep -x "$rest"
echo "walkthrough: OK"
