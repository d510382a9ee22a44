//! The steps of an advance that change rows by their columns alone (`tables::mark_overdue`,
//! `tables::escalate_cases`) against the rules applied to each record's document, as advances
//! did before: what is read afterwards is the same.

use chrono::Duration;
use sqlx::Row;

use super::clock::{Happened, advance_to_the_end};
use super::records::cases::{CaseRecord, CaseStage};
use super::records::invoices::InvoiceStatus;
use super::test_support::{in_memory, request, seeded};
use super::{World, rules, tables};

/// An advance escalates stored cases by their columns (`tables::escalate_cases`), several
/// steps a day. Each case read (its document with its escalations replayed) is what the rule
/// makes of the document escalated day by day, as advances did before; its columns say when
/// it next escalates; its invoice is handed to collection with its demand, and only then.
/// Cases stored before the columns (here: made so) escalate alike. A whole write of a case
/// holds its escalations and removes their rows.
#[tokio::test]
async fn cases_escalated_by_their_columns_read_as_the_rule_escalating_their_documents() {
    let (db, _claim) = in_memory().await;
    cases_escalate_as_the_rule(&db).await;
}

/// The same on PostgreSQL, whose statements pick their rows by their addresses.
#[tokio::test]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn on_postgres_cases_escalated_by_their_columns_read_as_the_rule() {
    let scratch = crate::store::ScratchPostgres::new("escalations").await;
    let (db, _claim) = scratch.open().await;
    cases_escalate_as_the_rule(&db).await;
    db.close().await;
    scratch.remove().await;
}

async fn cases_escalate_as_the_rule(db: &crate::store::Db) {
    let mut conn = db.connection().await.unwrap();
    let mut world = seeded(&mut conn).await;
    let client_id = world.state().demo_client.unwrap();
    let numbers: Vec<i64> = (1..=1100).collect();
    for &n in &numbers {
        world
            .submit_invoice(client_id, &request(n, n % 5), None)
            .await
            .unwrap();
        let invoice = tables::invoice(world.db(), client_id, n)
            .await
            .unwrap()
            .unwrap();
        assert!(invoice.case_id.is_some(), "invoice {n} has a case");
    }
    // Ours and the seed's.
    let mut created = Vec::new();
    let ids = sqlx::query("SELECT id FROM cases WHERE space = 0 ORDER BY id")
        .fetch_all(&mut *world.db())
        .await
        .unwrap();
    for row in ids {
        let id: i64 = row.get(0);
        created.push(
            tables::case(world.db(), id)
                .await
                .unwrap()
                .unwrap()
                .document,
        );
    }
    assert!(created.len() > numbers.len());
    // As rows stored before the stage column are.
    sqlx::query("UPDATE cases SET stage = NULL, collection_enabled = NULL WHERE id % 7 = 0")
        .execute(&mut *world.db())
        .await
        .unwrap();

    // Checked every ten days of the 75, so that what holds at the end must have held at each:
    // an invoice handed to collection with its demand, not later.
    let start = world.now;
    let mut happened = Happened::default();
    let mut checked = 0;
    for days in [10, 20, 30, 40, 50, 60, 75] {
        let to = start + Duration::days(days);
        happened += advance_to_the_end(&mut world, to).await;
        no_row_below_a_cursor(&mut world).await;
        let (reached, pending) = read_as_the_rule(&mut world, &created, days == 75).await;
        assert_eq!(
            (happened.reminded, happened.demanded, happened.to_collection),
            (reached.reminded, reached.demanded, reached.to_collection),
            "by {to}"
        );
        checked += usize::from(pending > 0);
    }
    assert!(
        checked > 0,
        "no check found a case between its demand and collection"
    );
    // Three of five kinds of terms go on to collection.
    assert!(happened.to_collection >= 660, "{happened:?}");
}

/// Checks each case of `created` (as first stored) against the rule applied to its document up
/// to the last day processed, with its columns and its invoice, and answers how many reached
/// each stage, and how many are at the demand with collection to follow. `at_the_end`, a third
/// of them are written whole (only then: the interest a case accrues in two spans can differ
/// from one span's in its last decimal place, the 27th).
async fn read_as_the_rule(
    world: &mut World<'_>,
    created: &[CaseRecord],
    at_the_end: bool,
) -> (Happened, usize) {
    let processed = world.processed_day;
    let mut reached = Happened::default();
    let mut pending = 0;
    for expected in created {
        let mut expected = expected.clone();
        let (id, n, client_id) = (expected.id, expected.invoice_number, expected.client_id);
        let mut day = expected.created_at.date_naive();
        while day < processed {
            day = day.succ_opt().unwrap();
            if expected.escalates_on().is_some_and(|due| due <= day) {
                rules::cases::escalate(&mut expected, day);
            }
        }
        expected.accrue(processed);
        let at_least = |stage: CaseStage| u64::from(expected.stage >= stage);
        reached.reminded += at_least(CaseStage::Reminder);
        reached.demanded += at_least(CaseStage::Demand);
        reached.to_collection += at_least(CaseStage::Collection);
        pending +=
            usize::from(expected.stage == CaseStage::Demand && expected.terms.collection_enabled);
        let read = world.case_now(id).await.unwrap().unwrap();
        let json = |c: &CaseRecord| serde_json::to_value(c).unwrap();
        assert_eq!(json(&read), json(&expected), "case {id}");

        let row = sqlx::query(
            "SELECT escalate_day, stage, collection_enabled FROM cases WHERE space = 0 AND id = $1",
        )
        .bind(id)
        .fetch_one(&mut *world.db())
        .await
        .unwrap();
        let columns: (Option<i64>, Option<String>, Option<i64>) = (
            row.get("escalate_day"),
            row.get("stage"),
            row.get("collection_enabled"),
        );
        // A case made to have no stage column (above) is given one when it first falls due.
        let staged = id % 7 != 0 || expected.stage != CaseStage::PaymentControl;
        assert_eq!(
            columns,
            (
                expected.escalates_on().map(tables::day),
                staged.then(|| expected.stage.as_str().to_string()),
                staged.then(|| i64::from(expected.terms.collection_enabled)),
            ),
            "case {id}"
        );

        let invoice = tables::invoice(world.db(), client_id, n)
            .await
            .unwrap()
            .unwrap();
        let collected = matches!(expected.stage, CaseStage::Demand | CaseStage::Collection);
        let stored: String = sqlx::query(
            "SELECT distribution_json FROM invoices WHERE space = 0 AND client_id = $1 AND number = $2",
        )
        .bind(client_id)
        .bind(n)
        .fetch_one(&mut *world.db())
        .await
        .unwrap()
        .get(0);
        // The stored record says the invoice's status, in collection from the demand on.
        let said = super::wire::invoice_status_field(invoice.status).unwrap();
        assert_eq!(
            (
                invoice.status == InvoiceStatus::InCollection,
                stored.contains(&said)
            ),
            (collected, true),
            "invoice {n}: {stored}"
        );
        // By the end every invoice has fallen due: overdue, or in collection.
        if at_the_end {
            let overdue = super::wire::invoice_status_field(InvoiceStatus::Overdue).unwrap();
            assert_eq!(
                stored.contains(&overdue),
                !collected,
                "invoice {n}: {stored}"
            );
        }

        // Written whole, the case holds its escalations and their rows go.
        if at_the_end && id % 3 == 0 {
            tables::update_case(world.db(), &read).await.unwrap();
            let again = world.case_now(id).await.unwrap().unwrap();
            assert_eq!(json(&again), json(&read), "case {id} written whole");
            let rows: i64 = sqlx::query("SELECT COUNT(*) FROM case_escalations WHERE case_id = $1")
                .bind(id)
                .fetch_one(&mut *world.db())
                .await
                .unwrap()
                .get(0);
            assert_eq!(rows, 0, "case {id}");
        }
    }
    (reached, pending)
}

/// An invoice whose due times a whole write changed after they were stored falls due by its
/// new times alone: its distribution completes at its new time, not its first, and it becomes
/// overdue on its new day, not its first, or not at all once it has none. On PostgreSQL the
/// rows of the times it no longer has are passed over and taken all the same
/// (`tables::DUE_TABLES`).
#[tokio::test]
async fn an_invoice_falls_due_by_the_times_it_has_now() {
    let (db, _claim) = in_memory().await;
    falls_due_by_its_times_now(&db).await;
}

/// The same on PostgreSQL, whose advance reads what falls due off tables of its own.
#[tokio::test]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn on_postgres_an_invoice_falls_due_by_the_times_it_has_now() {
    let scratch = crate::store::ScratchPostgres::new("due_times").await;
    let (db, _claim) = scratch.open().await;
    falls_due_by_its_times_now(&db).await;
    db.close().await;
    scratch.remove().await;
}

async fn falls_due_by_its_times_now(db: &crate::store::Db) {
    use super::records::invoices::DistributionStatus;
    let mut conn = db.connection().await.unwrap();
    let mut world = seeded(&mut conn).await;
    let client_id = world.state().demo_client.unwrap();
    // 1: left as it is; 2: its distribution a day later; 3: its due date a week later;
    // 4: no longer payment-controlled.
    for n in 1..=4 {
        world
            .submit_invoice(client_id, &request(n, 0), None)
            .await
            .unwrap();
    }
    let mut later = invoice(&mut world, client_id, 2).await;
    let first = later.distributes_at().unwrap();
    later.distribution.as_mut().unwrap().created_at += Duration::days(1);
    tables::put_invoice(world.db(), &later).await.unwrap();

    let pending = async |world: &mut World<'_>| {
        let mut all = Vec::new();
        for n in 1..=4 {
            let invoice = invoice(world, client_id, n).await;
            all.push(invoice.distribution.unwrap().status == DistributionStatus::Pending);
        }
        all
    };
    assert_eq!(pending(&mut world).await, [true; 4]);
    advance_to_the_end(&mut world, first + Duration::hours(1)).await;
    assert_eq!(pending(&mut world).await, [false, true, false, false]);
    advance_to_the_end(&mut world, first + Duration::days(2)).await;
    assert_eq!(pending(&mut world).await, [false; 4]);

    let mut week_later = invoice(&mut world, client_id, 3).await;
    assert_eq!(week_later.status, InvoiceStatus::Invoiced);
    let due = week_later.overdue_on().unwrap();
    week_later.due_date += Duration::days(7);
    tables::put_invoice(world.db(), &week_later).await.unwrap();
    let mut uncontrolled = invoice(&mut world, client_id, 4).await;
    uncontrolled.payment_control = false;
    tables::put_invoice(world.db(), &uncontrolled)
        .await
        .unwrap();

    let on = |day: chrono::NaiveDate| day.and_hms_opt(12, 0, 0).unwrap().and_utc();
    advance_to_the_end(&mut world, on(due)).await;
    use InvoiceStatus::{Invoiced, Overdue};
    assert_eq!(
        statuses(&mut world, client_id).await,
        [Overdue, Overdue, Invoiced, Invoiced]
    );
    advance_to_the_end(&mut world, on(due + Duration::days(7))).await;
    assert_eq!(
        statuses(&mut world, client_id).await,
        [Overdue, Overdue, Overdue, Invoiced]
    );
    no_row_below_a_cursor(&mut world).await;
    // Nothing due by now is left to take (on SQLite there are no such tables).
    for (table, _) in tables::tables(&world.db()).collect::<Vec<_>>() {
        if tables::DUE_TABLES.iter().any(|(due, _)| *due == table) {
            let left: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE space = 0"
            )))
            .fetch_one(&mut *world.db())
            .await
            .unwrap()
            .get(0);
            assert_eq!(left, 0, "{table}");
        }
    }
}

/// On PostgreSQL, no row of a queue of what falls due is keyed below its cursor, where no walk
/// would take it (`tables::Queue`).
async fn no_row_below_a_cursor(world: &mut World<'_>) {
    for (queue, below) in tables::rows_below_cursors(world.db()).await.unwrap() {
        assert_eq!(below, 0, "rows of queue {queue} below its cursor");
    }
}

async fn invoice(
    world: &mut World<'_>,
    client_id: i64,
    n: i64,
) -> super::records::invoices::InvoiceRecord {
    tables::invoice(world.db(), client_id, n)
        .await
        .unwrap()
        .unwrap()
}

async fn statuses(world: &mut World<'_>, client_id: i64) -> Vec<InvoiceStatus> {
    let mut all = Vec::new();
    for n in 1..=4 {
        all.push(invoice(world, client_id, n).await.status);
    }
    all
}
