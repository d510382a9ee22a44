#!/usr/bin/env bash
# From invoice to settlement against a running sandbox, with curl only: the README's walkthrough.
# Usage: scripts/walkthrough.sh BASE_URL CLIENT_TOKEN ADMIN_TOKEN
# Each step prints what it got; the script fails at the first unexpected answer. It can run any
# number of times against one sandbox: it takes the next free invoice number and dates everything
# by the sandbox clock.
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
today() { call GET /sandbox/clock | field "['now'][:10]"; }

number=900001
while [ "$(call GET "/api/v1/partner/invoice/distribution?invoiceNumber=$number" | field "['metaData']['totalCount']")" != 0 ]; do
  number=$((number + 1))
done
date=$(today)

echo "== 1. Create an invoice (the spec's example, number $number, dated $date)"
invoice=$(curl -sS "$control/openapi.json" | python3 -c "
import datetime, json, sys
d = json.load(sys.stdin)
ex = d['paths']['/api/v1/partner/invoice']['post']['requestBody']['content']['application/json']['example']
day = datetime.date.fromisoformat(sys.argv[2])
ex['invoice']['header'].update(number=int(sys.argv[1]), date=str(day), dueDate=str(day + datetime.timedelta(days=14)))
ex['invoice']['references']['payment'] = None
print(json.dumps(ex))" "$number" "$date")
created=$(call POST /api/v1/partner/invoice "$invoice")
echo "$created"
reference=$(echo "$created" | field "['paymentReference']")
case_id=$(echo "$created" | field "['caseId']")

echo "== 2. A day later it is delivered"
call POST /sandbox/clock/advance '{"days": 1}'
call GET "/api/v1/partner/invoice/distribution?invoiceNumber=$number" | field "['distributions'][0]['status']" | grep -x DELIVERED

echo "== 3. Three weeks on it is overdue and reminded"
call POST /sandbox/clock/advance '{"days": 21}'
call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['summary']['stage']" | grep -x REMINDER

echo "== 4. The debtor paid 100.00 directly to the creditor: report it"
call POST /api/v1/partner/invoice/action "{\"actions\": [{\"code\": \"DIRECTPAYMENT\", \"comment\": \"Paid to our account\", \"data\": {\"invoiceNumber\": $number, \"caseId\": $case_id, \"amount\": 100.00, \"currency\": \"EUR\", \"paymentDate\": \"$(today)\", \"paymentMethod\": \"Bank transfer\"}}]}"

echo "== 5. The rest arrives at the agency by reference number"
rest=$(call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['balance']['totalAmount']")
call POST /sandbox/payments "{\"reference\": \"$reference\", \"amount\": $rest}"
call GET "/api/v1/partner/invoice/case?caseId=$case_id" | field "['case']['summary']['status']" | grep -x PAID

echo "== 6. The next Monday's settlement pays it out"
to_monday=$(python3 -c "import datetime, sys; d = datetime.date.fromisoformat(sys.argv[1]); print((7 - d.weekday()) % 7 or 7)" "$(today)")
call POST /sandbox/clock/advance "{\"days\": $to_monday}"
settled=$(call GET "/api/v1/partner/settlements?unfetchedOnly=true")
echo "$settled"
echo "$settled" | python3 -c "
import json, sys
d = json.load(sys.stdin)
paid = [a['allocatedTotalAmount'] for s in d['settlements'] for a in s['allocations'] if a['caseId'] == int(sys.argv[1])]
print(*paid)" "$case_id" | grep -x "$rest"
echo "walkthrough: OK"
