//! The records the sandbox stores, one module per aggregate, and the facts that follow from a
//! record alone (when an invoice distributes and falls due, how a case escalates and accrues
//! interest, what a filter admits). Records know nothing of the tables they are stored in, of
//! the rules that change them, or of HTTP: [`super::tables`] reads and writes them, the
//! aggregates' rules decide with them.

/// Lower-case hex of bytes (how digests are stored).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    text
}

/// An enum of a record, stored by its names. The names are the records' own, fixed by the data
/// already stored (today they equal the spec's wire names; `world::wire` maps the two, so a spec edit
/// never changes what a stored record means).
macro_rules! stored_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name it is stored under (in documents and in columns alike).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The variant stored under `text`.
            #[allow(dead_code)]
            pub fn named(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod accounting;
pub mod cases;
pub mod clients;
pub mod filters;
pub mod invoices;
pub mod settlements;
pub mod spaces;

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(super::hex(&[]), "");
    }
}
