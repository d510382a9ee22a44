//! The steps of an advance that change rows by their columns alone (`tables::mark_overdue`,
//! `tables::escalate_cases`) against the rules applied to each record's document, as advances
//! did before: what is read afterwards is the same.

use chrono::Duration;
use sqlx::Row;

use super::clock::Happened;
use super::records::cases::{CaseRecord, CaseStage};
use super::records::invoices::InvoiceStatus;
use super::test_support::{genesis, in_memory, request};
use super::{SpaceId, State, World, rules, tables};

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
    let genesis = genesis();
    let mut conn = db.connection().await.unwrap();
    let fresh = State::fresh(&genesis);
    let mut world = World::new(&mut conn, SpaceId::DEFAULT, genesis, fresh);
    world.seed().await.unwrap();
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

    let to = world.now + Duration::days(75);
    let mut happened = Happened::default();
    loop {
        let step = world.advance_towards(to, 0).await.unwrap();
        happened += step.happened;
        if step.done {
            break;
        }
    }
    let last = world.processed_day;

    let (to_collection, other) = (
        super::wire::invoice_status_field(InvoiceStatus::InCollection).unwrap(),
        super::wire::invoice_status_field(InvoiceStatus::Overdue).unwrap(),
    );
    let mut reached = Happened::default();
    for mut expected in created {
        let (id, n, client_id) = (expected.id, expected.invoice_number, expected.client_id);
        let mut day = expected.created_at.date_naive();
        while day < last {
            day = day.succ_opt().unwrap();
            if expected.escalates_on().is_some_and(|due| due <= day) {
                rules::cases::escalate(&mut expected, day);
            }
        }
        expected.accrue(last);
        let at_least = |stage: CaseStage| u64::from(expected.stage >= stage);
        reached.reminded += at_least(CaseStage::Reminder);
        reached.demanded += at_least(CaseStage::Demand);
        reached.to_collection += at_least(CaseStage::Collection);
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
        let columns: (Option<i64>, String, i64) = (
            row.get("escalate_day"),
            row.get("stage"),
            row.get("collection_enabled"),
        );
        assert_eq!(
            columns,
            (
                expected.escalates_on().map(tables::day),
                expected.stage.as_str().to_string(),
                i64::from(expected.terms.collection_enabled)
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
        assert_eq!(
            (
                invoice.status == InvoiceStatus::InCollection,
                stored.contains(&to_collection),
                stored.contains(&other),
            ),
            (collected, collected, !collected),
            "invoice {n}: {stored}"
        );

        // Written whole, the case holds its escalations and their rows go.
        if id % 3 == 0 {
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
    assert_eq!(
        (happened.reminded, happened.demanded, happened.to_collection),
        (reached.reminded, reached.demanded, reached.to_collection),
    );
    // Three of five kinds of terms go on to collection.
    assert!(happened.to_collection >= 660, "{happened:?}");
}
