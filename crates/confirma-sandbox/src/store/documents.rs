//! How a record's document is stored: its JSON compressed with zstd against a dictionary of the
//! sandbox's own documents, behind one byte that names the format.
//!
//! A document is small (an invoice's JSON about 580 bytes, a case's 700 to 1,200) and most of it
//! is the keys, stages and event texts every document repeats: compressed alone, it barely
//! shrinks; against a dictionary of such documents, to between a quarter and an eighth. Each format names its
//! dictionary, written once and never edited: every document packed with it is read with it.
//!
//! - Format 1 ([`DICTIONARY_1`]): raw content, one made-up case and invoice. zstd built its
//!   entropy tables for every document, packing and unpacking: a quarter of an advance's CPU.
//! - Format 2 ([`DICTIONARY_2`], written since migration 8): trained by zstd on 3,617
//!   documents (`tests/it/dictionary.rs` makes them and the dictionary), so it holds the
//!   documents' common content and entropy tables ready made. The documents start from the
//!   spec's examples with names, addresses, rows, amounts, dates, terms and methods varied; the
//!   bench's documents are the example unvaried, and none of them was trained on. On those,
//!   cases pack 14% and invoices 34% smaller than with format 1, two to three times as fast,
//!   and unpack three times as fast (`zstd -b3 -D`).
//! - Format 3 ([`DICTIONARY_3`], written since migration 10): trained the same way on the
//!   documents as they are stored since cases escalate by rows beside their documents
//!   (`migrations/0010_case_escalations.sql`), which are no longer rewritten at each escalation,
//!   and invoices no longer rewritten when they fall due: format 2's corpus can no longer be
//!   made, and a dictionary must be made again from what it was trained on.
//!
//! A document stored before migration 7 is its JSON text, which is read as it is: JSON never
//! begins with a format byte.

use std::cell::RefCell;
use std::sync::LazyLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// The first byte of a document compressed against [`DICTIONARY_1`].
const PACKED_1: u8 = 0x01;
/// The first byte of a document compressed against [`DICTIONARY_2`].
const PACKED_2: u8 = 0x02;
/// The first byte of a document compressed against [`DICTIONARY_3`]: every document written.
const PACKED_3: u8 = 0x03;

/// One case through its demand and one invoice with its distribution, made-up values. Never edit
/// it (a test holds its digest): documents stored with it are read with it.
const DICTIONARY_1: &[u8] = include_bytes!("documents/dictionary-1.json");

/// zstd's dictionary trained on varied documents of every kind (`tests/it/dictionary.rs`).
/// Never replace it (a test holds its digest): documents stored with it are read with it.
const DICTIONARY_2: &[u8] = include_bytes!("documents/dictionary-2.zstd");

/// Format 2's successor, trained by the same test on the documents as stored since migration 10
/// (`tests/it/dictionary.rs`). Never replace it (a test holds its digest).
const DICTIONARY_3: &[u8] = include_bytes!("documents/dictionary-3.zstd");

/// zstd's default level: a document packs in microseconds.
const LEVEL: i32 = 3;

/// The most bytes a document packs or unpacks to: far beyond any record, short of a corrupt
/// frame asking for gigabytes.
const MAX_DOCUMENT: usize = 16 << 20;

static ENCODER_3: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_3, LEVEL));
static DECODER_1: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1));
static DECODER_2: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_2));
static DECODER_3: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_3));

thread_local! {
    // zstd contexts per thread, made on first use: contexts are large to make and cheap to reuse.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR_1: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR_2: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR_3: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Why a stored document cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("a stored document is not valid JSON of its record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a stored document cannot be unpacked: {0}")]
    Unpack(std::io::Error),
    #[error("a document cannot be packed: {0}")]
    Pack(std::io::Error),
    #[error("a stored document is empty")]
    Empty,
    #[error("a document of {0} bytes is larger than a record may be")]
    TooLarge(usize),
}

/// The document of `value`, packed: [`PACKED_3`], then its JSON compressed.
pub fn pack(value: &impl Serialize) -> Result<Vec<u8>, DocumentError> {
    let json = serde_json::to_vec(value)?;
    // What could never be read back is never written.
    if json.len() > MAX_DOCUMENT {
        return Err(DocumentError::TooLarge(json.len()));
    }
    let frame = COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = match compressor {
            Some(c) => c,
            None => compressor.insert(
                Compressor::with_prepared_dictionary(&ENCODER_3).map_err(DocumentError::Pack)?,
            ),
        };
        compressor.compress(&json).map_err(DocumentError::Pack)
    })?;
    let mut packed = Vec::with_capacity(frame.len() + 1);
    packed.push(PACKED_3);
    packed.extend_from_slice(&frame);
    Ok(packed)
}

/// The record a stored document holds: packed in any format ([`pack`]) or, stored before
/// packing, JSON text.
pub fn unpack<T: DeserializeOwned>(stored: &[u8]) -> Result<T, DocumentError> {
    let json = match stored.split_first() {
        Some((&PACKED_3, frame)) => decompress(&DECOMPRESSOR_3, &DECODER_3, frame)?,
        Some((&PACKED_2, frame)) => decompress(&DECOMPRESSOR_2, &DECODER_2, frame)?,
        Some((&PACKED_1, frame)) => decompress(&DECOMPRESSOR_1, &DECODER_1, frame)?,
        Some(_) => return Ok(serde_json::from_slice(stored)?),
        None => return Err(DocumentError::Empty),
    };
    Ok(serde_json::from_slice(&json)?)
}

/// A frame's JSON, decompressed with this thread's context for its dictionary.
fn decompress(
    context: &'static std::thread::LocalKey<RefCell<Option<Decompressor<'static>>>>,
    dictionary: &'static LazyLock<DecoderDictionary<'static>>,
    frame: &[u8],
) -> Result<Vec<u8>, DocumentError> {
    context.with_borrow_mut(|decompressor| {
        let decompressor = match decompressor {
            Some(d) => d,
            None => decompressor.insert(
                Decompressor::with_prepared_dictionary(dictionary)
                    .map_err(DocumentError::Unpack)?,
            ),
        };
        decompressor
            .decompress(frame, MAX_DOCUMENT)
            .map_err(DocumentError::Unpack)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Doc {
        id: i64,
        stage: String,
        amount: rust_decimal::Decimal,
    }

    fn doc() -> Doc {
        Doc {
            id: 481_002,
            stage: "PAYMENT_CONTROL".into(),
            amount: "912.39".parse().unwrap(),
        }
    }

    #[test]
    fn a_packed_document_reads_back_as_its_record() {
        let packed = pack(&doc()).unwrap();
        assert_eq!(packed[0], PACKED_3);
        assert_eq!(unpack::<Doc>(&packed).unwrap(), doc());
    }

    #[test]
    fn a_document_stored_as_json_text_reads_as_it_is() {
        let text = serde_json::to_vec(&doc()).unwrap();
        assert_eq!(unpack::<Doc>(&text).unwrap(), doc());
    }

    #[test]
    fn a_damaged_or_empty_document_is_an_error_not_a_panic() {
        let mut packed = pack(&doc()).unwrap();
        let last = packed.len() - 1;
        packed.truncate(last);
        assert!(matches!(
            unpack::<Doc>(&packed),
            Err(DocumentError::Unpack(_))
        ));
        assert!(unpack::<Doc>(&[PACKED_1]).is_err());
        assert!(unpack::<Doc>(&[PACKED_2]).is_err());
        assert!(unpack::<Doc>(&[PACKED_3]).is_err());
        assert!(matches!(unpack::<Doc>(&[]), Err(DocumentError::Empty)));
        assert!(matches!(
            unpack::<Doc>(b"\x07junk"),
            Err(DocumentError::Json(_))
        ));
    }

    #[test]
    fn a_document_too_large_to_read_back_is_never_written() {
        let huge = "x".repeat(MAX_DOCUMENT);
        assert!(matches!(pack(&huge), Err(DocumentError::TooLarge(_))));
    }

    /// A case as the sandbox stores it packs to a fraction of its JSON (the dictionary holds its
    /// keys and texts, not its values).
    #[test]
    fn a_case_packs_to_under_a_third_of_its_json() {
        let case = serde_json::json!({"id":9001,"client_id":7,"invoice_number":2026000417,"status":"OPEN","stage":"REMINDER","created_at":"2026-04-01T08:00:00Z","due_date":"2026-03-20","currency":"EUR","terms":{"interest_percent":8.0,"reminder_fee":5,"reminder_after_days":7,"collection_enabled":true},"capital":240.10,"interest":0.87,"interest_through":"2026-04-09","delivered_on":"2026-04-01","accruing":true,"costs":5,"paid":0,"stage_since":"2026-04-09","events":[{"description":"Payment control started for invoice 2026000417.","occurredAt":"2026-04-01T08:00:00Z","type":"CASE_OPENED"},{"description":"Payment reminder sent; fee 5 EUR.","occurredAt":"2026-04-09T06:00:00Z","type":"REMINDER_SENT"}],"timeline":[{"date":"2026-04-01","description":"Case opened in payment control.","stage":"PAYMENT_CONTROL","status":"OPEN"},{"date":"2026-04-09","description":"Payment reminder sent.","stage":"REMINDER","status":"OPEN"}],"payments":[]});
        let json = serde_json::to_vec(&case).unwrap();
        let packed = pack(&case).unwrap();
        assert!(
            packed.len() * 3 < json.len(),
            "{} of {}",
            packed.len(),
            json.len()
        );
        assert_eq!(unpack::<serde_json::Value>(&packed).unwrap(), case);
    }

    /// Documents packed in formats 1 and 2, as the sandbox wrote them before format 3, still
    /// read.
    #[test]
    fn documents_packed_with_earlier_dictionaries_still_read() {
        let json = serde_json::to_vec(&doc()).unwrap();
        for (format, dictionary) in [(PACKED_1, DICTIONARY_1), (PACKED_2, DICTIONARY_2)] {
            let frame = Compressor::with_dictionary(LEVEL, dictionary)
                .unwrap()
                .compress(&json)
                .unwrap();
            let stored = [&[format][..], &frame].concat();
            assert_eq!(unpack::<Doc>(&stored).unwrap(), doc(), "format {format}");
            // A frame packed against a trained dictionary names it: under the wrong byte, zstd
            // refuses it.
            let packed = pack(&doc()).unwrap();
            let relabelled = [&[format][..], &packed[1..]].concat();
            assert!(
                matches!(unpack::<Doc>(&relabelled), Err(DocumentError::Unpack(_))),
                "format {format}"
            );
        }
    }

    /// Documents stored with a dictionary are read with it: none ever changes.
    #[test]
    fn the_dictionaries_never_change() {
        assert_eq!(
            crate::world::hex(&sha2::Sha256::digest(DICTIONARY_1)),
            "0193a017720b1c3d1e5bd96ac4709d99777cd8e5147894d67430c36af34c5c41"
        );
        assert_eq!(
            crate::world::hex(&sha2::Sha256::digest(DICTIONARY_2)),
            "8d70d1be7f243d14b83ca09f4783d98f529dae0799403d001dc8ec38e13efd1a"
        );
        assert_eq!(
            crate::world::hex(&sha2::Sha256::digest(DICTIONARY_3)),
            "9e37504744ed1c82acfe082284f133ce570462a760bc006561d385fecd8e2ce6"
        );
    }
}
