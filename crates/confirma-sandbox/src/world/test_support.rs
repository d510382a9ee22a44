//! What the world's tests share: a sandbox's database in memory, the default space's genesis, and
//! create requests of several kinds of terms.

use confirma_server::types;

use super::{Genesis, SpaceId, State, World};

/// The genesis of the default space.
pub fn genesis() -> Genesis {
    Genesis {
        seed: 42,
        start: "2026-03-02T08:00:00Z".parse().unwrap(),
        salt: None,
        demo: true,
    }
}

/// A sandbox's database in memory.
pub async fn in_memory() -> (crate::store::Db, crate::store::Claim) {
    crate::store::Db::open(crate::store::Location::Memory, Default::default())
        .await
        .unwrap()
}

/// The create request of the spec's example as invoice `number` of the fifth kind `kind` of
/// terms: the example's; a letter with no collection; a sooner reminder with its own fee and
/// interest; a buyer that disables collection; a later reminder.
pub fn request(number: i64, kind: i64) -> types::SalesInvoiceRequest {
    let example = confirma_server::Operation::CreateInvoice
        .info()
        .request_example
        .unwrap();
    let mut r: serde_json::Value = serde_json::from_str(example).unwrap();
    if kind == 1 {
        r["distribution"]["method"] = "LETTER".into();
    }
    let invoice = &mut r["invoice"];
    invoice["header"]["number"] = number.into();
    invoice["header"]["date"] = "2026-03-02".into();
    invoice["header"]["dueDate"] = "2026-03-16".into();
    invoice["references"]["payment"] = serde_json::Value::Null;
    match kind {
        1 => invoice["collection"]["enabled"] = false.into(),
        2 => {
            invoice["collection"]["startDelayDays"] = 3.into();
            invoice["collection"]["costs"]["reminderFeeAmount"] = 7.5.into();
            invoice["collection"]["interest"]["percentage"] = 8.5.into();
            invoice["terms"]["interest"]["percentage"] = 8.5.into();
        }
        3 => invoice["parties"]["buyerParty"]["disableCollection"] = true.into(),
        4 => invoice["collection"]["startDelayDays"] = 20.into(),
        _ => {}
    }
    serde_json::from_value(r).unwrap()
}

/// The default space's world over `conn`, seeded (its demo client and invoices).
pub async fn seeded(conn: &mut sqlx::AnyConnection) -> World<'_> {
    let genesis = genesis();
    let fresh = State::fresh(&genesis);
    let mut world = World::new(conn, SpaceId::DEFAULT, genesis, fresh);
    world.seed().await.unwrap();
    world
}
