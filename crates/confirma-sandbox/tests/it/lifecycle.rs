//! The whole journey through the generated client: invoice → distribution → overdue →
//! reminder → actions → payments → settlement → accounting sync, with time travel.

use confirma_client::types;
use rust_decimal::Decimal;
use serde_json::json;

use crate::{TestSandbox, action, api_error, example, invoice};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn from_invoice_to_settlement_and_accounting() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let created = c
        .create_invoice()
        .body(invoice(600001))
        .send()
        .await
        .unwrap()
        .into_inner();
    let case_id = created.case_id.unwrap();
    let reference = created.payment_reference.unwrap();

    // Delivered the next day, overdue after 16 March, reminded a week later (example: 7 days).
    sb.advance_days(1).await;
    let case = c
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(
        (case.summary.stage, case.summary.status),
        (types::CaseStage::PaymentControl, types::CaseStatus::Open)
    );
    assert_eq!(case.balance.capital_amount, dec("912.39"));
    sb.advance_days(22).await; // 2026-03-25: 9 days past due
    let case = c
        .get_case_details()
        .invoice_number(600001)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(case.summary.stage, types::CaseStage::Reminder);
    assert_eq!(
        case.balance.costs_amount,
        dec("5.00"),
        "the invoice's reminder fee"
    );
    // 9 days of 10.5 % on 912.39.
    assert_eq!(case.balance.interest_amount, dec("2.36"));
    assert_eq!(
        case.invoice.as_ref().unwrap().status,
        types::InvoiceStatus::Overdue
    );
    assert!(
        case.events
            .iter()
            .any(|e| e.type_.as_str() == "REMINDER_SENT")
    );

    // Actions are all-or-nothing: one bad action refuses the whole request.
    let request = types::InvoiceActionsRequest {
        actions: vec![
            action(types::ActionCode::Comment, 600001),
            action(types::ActionCode::Pause, 999),
        ],
    };
    let (status, body) = api_error(c.create_invoice_actions().body(request).send().await);
    assert_eq!(
        (status, body.field_errors[0].path.as_str()),
        (402, "$.actions[1].data.invoiceNumber")
    );
    let events_before = case.events.len();
    let case = c
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(
        case.events.len(),
        events_before,
        "nothing of the refused request was applied"
    );

    // A due-date change and a direct payment: costs first, then interest, then capital.
    let mut due = action(types::ActionCode::Duedate, 600001);
    due.data.due_date = Some("2026-04-30".parse().unwrap());
    let mut direct = action(types::ActionCode::Directpayment, 600001);
    direct.data.amount = Some(dec("100.00"));
    direct.data.currency = Some("EUR".parse().unwrap());
    direct.data.payment_date = Some("2026-03-25".parse().unwrap());
    let applied = c
        .create_invoice_actions()
        .body(types::InvoiceActionsRequest {
            actions: vec![action(types::ActionCode::Comment, 600001), due, direct],
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        applied
            .results
            .iter()
            .all(|r| r.status == types::ActionStatus::Applied && r.case_id == Some(case_id))
    );
    let case = c
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(
        case.invoice.as_ref().unwrap().case_due_date,
        Some("2026-04-30".parse().unwrap())
    );
    assert_eq!(case.balance.costs_amount, Decimal::ZERO);
    assert_eq!(case.balance.interest_amount, Decimal::ZERO);
    assert_eq!(
        case.balance.capital_amount,
        dec("912.39") - (dec("100.00") - dec("5.00") - dec("2.36"))
    );

    // A debtor pays 300.00 to the agency by reference.
    let (status, _) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": reference, "amount": 300.00, "payer": "Rakennusliike Virtanen Oy"}),
        )
        .await;
    assert_eq!(status, 200);
    let payments = c
        .get_payments()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[1].payment_amount, dec("300.00"));
    assert_eq!(payments[1].capital_amount, Some(dec("300.00")));

    // The Monday settlement pays out what the agency received (not the direct payment).
    sb.advance_days(5).await; // 2026-03-30, a Monday
    let first = c
        .get_settlements()
        .unfetched_only(true)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.settlements.len(), 1);
    let s = &first.settlements[0];
    assert_eq!(
        (s.settlement_amount, s.settlement_date.to_string().as_str()),
        (dec("300.00"), "2026-03-30")
    );
    assert!(s.api_fetch_date.is_none(), "never fetched before");
    let breakdown: Decimal = s.allocations[0].breakdown.iter().map(|b| b.amount).sum();
    assert_eq!(breakdown, s.allocations[0].allocated_total_amount);
    let again = c
        .get_settlements()
        .unfetched_only(true)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        again.settlements.is_empty(),
        "unfetchedOnly returns each settlement once"
    );
    let all = c.get_settlements().send().await.unwrap().into_inner();
    assert!(all.settlements[0].api_fetch_date.is_some());

    // Paying the rest closes the case; afterwards only comments are accepted.
    let rest = c
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case
        .balance
        .total_amount;
    let (status, _) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": reference, "amount": rest}),
        )
        .await;
    assert_eq!(status, 200);
    let case = c
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(case.summary.status, types::CaseStatus::Paid);
    assert_eq!(case.invoice.unwrap().status, types::InvoiceStatus::Paid);
    let (status, _) = api_error(
        c.create_invoice_actions()
            .body(types::InvoiceActionsRequest {
                actions: vec![action(types::ActionCode::Pause, 600001)],
            })
            .send()
            .await,
    );
    assert_eq!(status, 402);

    // Accounting: pending at once, synced as time passes; a bad account fails with a reason.
    let ledger: types::LedgerRequest = example("submitLedger");
    let receipt = c
        .submit_ledger()
        .body(ledger.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(receipt.items[0].status, 0);
    let (status, _) = api_error(c.submit_ledger().body(ledger.clone()).send().await);
    assert_eq!(status, 402, "the same ledger twice");
    let invoices: types::AccountingInvoiceRequest = example("submitAccountingInvoice");
    c.submit_accounting_invoice()
        .body(invoices.clone())
        .send()
        .await
        .expect("the spec's example adds up");
    let (status, body) = api_error(c.submit_accounting_invoice().body(invoices).send().await);
    assert_eq!(
        (status, body.field_errors[0].path.as_str()),
        (402, "$.invoices[0].invoiceIdentifier"),
        "re-submission is a state rule"
    );
    let mut payments: types::AccountingPaymentRequest = example("submitAccountingPayments");
    payments.payments.truncate(1);
    payments.payments[0].invoice_number = "600001".parse().unwrap();
    c.submit_accounting_payments()
        .body(payments)
        .send()
        .await
        .unwrap();
    let since: chrono::NaiveDate = "2020-01-01".parse().unwrap();
    assert_eq!(
        c.get_ledger_status()
            .from_date(since)
            .send()
            .await
            .unwrap()
            .into_inner()
            .ledgers[0]
            .status,
        0
    );
    let (status, _) = sb
        .control("/sandbox/clock/advance", json!({"hours": 1}))
        .await;
    assert_eq!(status, 200);
    let synced = c
        .get_ledger_status()
        .from_date(since)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            synced.ledgers[0].status,
            synced.ledgers[0].description.as_str()
        ),
        (1, "Successfully synced")
    );
    let paid = c
        .get_accounting_payment_status()
        .from_date("2020-01-01".parse::<chrono::NaiveDate>().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.payments[0].status, 1);
}

#[tokio::test]
async fn pause_stops_escalation_and_withdraw_closes_the_case() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    c.create_invoice()
        .body(invoice(610001))
        .send()
        .await
        .unwrap();
    c.create_invoice()
        .body(invoice(610002))
        .send()
        .await
        .unwrap();
    c.create_invoice_actions()
        .body(types::InvoiceActionsRequest {
            actions: vec![
                action(types::ActionCode::Pause, 610001),
                action(types::ActionCode::Withdraw, 610002),
            ],
        })
        .send()
        .await
        .unwrap();
    sb.advance_days(40).await;
    let paused = c
        .get_case_details()
        .invoice_number(610001)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(
        (paused.summary.status, paused.summary.stage),
        (types::CaseStatus::Paused, types::CaseStage::PaymentControl)
    );
    assert_eq!(
        paused.balance.costs_amount,
        Decimal::ZERO,
        "no reminder while paused"
    );
    let withdrawn = c
        .get_case_details()
        .invoice_number(610002)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    assert_eq!(withdrawn.summary.status, types::CaseStatus::Withdrawn);
    assert!(withdrawn.summary.closed_at.is_some());
    let (status, _) = api_error(c.get_case_details().case_id(1).send().await);
    assert_eq!(status, 404);
}

/// An advance changes many invoices and cases at once: each one escalated, each invoice whose
/// case reached the demand handed to collection, and the counts of the distributions in step.
#[tokio::test]
async fn an_advance_escalates_every_case_and_hands_its_invoice_to_collection() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let numbers = [620001, 620002, 620003];
    for n in numbers {
        c.create_invoice().body(invoice(n)).send().await.unwrap();
    }
    // Due 2026-03-16: reminded on the 23rd, demanded on 6 April (14 days later).
    let (status, answer) = sb
        .control("/sandbox/clock/advance", json!({"days": 40}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let happened = &answer["happened"];
    for what in ["distributed", "overdue", "reminded", "demanded"] {
        assert!(happened[what].as_u64() >= Some(3), "{what} in {happened}");
    }
    for n in numbers {
        let case = c
            .get_case_details()
            .invoice_number(n)
            .send()
            .await
            .unwrap()
            .into_inner()
            .case;
        assert_eq!(case.summary.stage, types::CaseStage::Demand, "{n}");
        assert_eq!(
            case.invoice.as_ref().unwrap().status,
            types::InvoiceStatus::InCollection,
            "{n}"
        );
        let kinds: Vec<&str> = case.events.iter().map(|e| e.type_.as_str()).collect();
        assert!(
            kinds.contains(&"REMINDER_SENT") && kinds.contains(&"DEMAND_SENT"),
            "{n}: {kinds:?}"
        );
    }
    // The counts behind the page's total moved with the invoices: all three delivered.
    let page = c
        .get_distribution_information_v2()
        .from_inv_date("2026-03-02".parse::<chrono::NaiveDate>().unwrap())
        .status(types::DistributionStatus::Delivered)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ours: Vec<i64> = page
        .data
        .iter()
        .map(|d| d.invoice_number)
        .filter(|n| numbers.contains(n))
        .collect();
    assert_eq!(ours, numbers);
    assert_eq!(page.meta.total_count as usize, page.data.len());
}

/// A filter that names its record is not narrowed by the default window of the last 30 days:
/// a ledger dated 40 days back is missing from the undated list, and found by its identifier.
#[tokio::test]
async fn an_identifier_finds_its_record_outside_the_default_window() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let ledger: types::LedgerRequest = example("submitLedger");
    c.submit_ledger().body(ledger.clone()).call().await.unwrap();
    sb.advance_days(40).await;
    let undated = c.get_ledger_status().call().await.unwrap();
    assert!(undated.ledgers.is_empty(), "{undated:?}");
    let identifier = ledger.ledgers.ledger_identifier.to_string();
    let named = c
        .get_ledger_status()
        .ledger_identifier(identifier.as_str())
        .call()
        .await
        .unwrap();
    assert_eq!(named.ledgers.len(), 1);
    assert_eq!(named.ledgers[0].source_identifier, identifier);
    // Dates given still apply.
    let dated = c
        .get_ledger_status()
        .ledger_identifier(identifier.as_str())
        .from_date("2026-04-01".parse::<chrono::NaiveDate>().unwrap())
        .call()
        .await
        .unwrap();
    assert!(dated.ledgers.is_empty());
}
