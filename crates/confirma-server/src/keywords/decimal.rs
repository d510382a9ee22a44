//! A JSON number's text as an exact decimal: its sign, its significant digits and where they
//! stand, read without allocating, compared and measured exactly whatever its length.

use std::cmp::Ordering;

/// The exact value a JSON number's text writes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Decimal<'a> {
    negative: bool,
    whole: &'a [u8],
    fraction: &'a [u8],
    /// The significant digits are `digit(first..last)`: no leading or trailing zero.
    first: usize,
    last: usize,
    /// The power of ten of the first significant digit.
    top: i128,
}

/// An exponent beyond ±`FAR` (a JSON number may have any): clamped there, far past any digit
/// count, which answers every comparison and count asked of it here the same way and keeps the
/// arithmetic on it from overflowing.
const FAR: i128 = 1 << 100;

impl<'a> Decimal<'a> {
    /// `text` must be a JSON number (as `serde_json` keeps it with `arbitrary_precision`).
    pub(super) fn parse(text: &'a str) -> Self {
        let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
        let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
        let exponent = exponent
            .parse::<i128>()
            .unwrap_or(if exponent.starts_with('-') { -FAR } else { FAR })
            .clamp(-FAR, FAR);
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let (whole, fraction) = (whole.as_bytes(), fraction.as_bytes());
        let mut decimal = Decimal {
            negative,
            whole,
            fraction,
            first: 0,
            last: whole.len() + fraction.len(),
            top: 0,
        };
        while decimal.first < decimal.last && decimal.digit(decimal.first) == b'0' {
            decimal.first += 1;
        }
        while decimal.last > decimal.first && decimal.digit(decimal.last - 1) == b'0' {
            decimal.last -= 1;
        }
        // The digit at index i stands for 10^(whole.len() - 1 - i + exponent).
        decimal.top = to_i128(whole.len()) - 1 - to_i128(decimal.first) + exponent;
        decimal
    }

    fn digit(&self, index: usize) -> u8 {
        match self.whole.get(index) {
            Some(d) => *d,
            None => self.fraction[index - self.whole.len()],
        }
    }

    fn is_zero(&self) -> bool {
        self.first == self.last
    }

    /// The power of ten of the last significant digit; `None` for zero.
    fn lowest(&self) -> Option<i128> {
        (!self.is_zero()).then(|| self.top - to_i128(self.last - self.first) + 1)
    }

    /// How many decimals the value has (`2` for `912.390`, `0` for `1.5e2`).
    pub(super) fn decimals(&self) -> u128 {
        self.lowest()
            .map_or(0, |lowest| u128::try_from(-lowest).unwrap_or(0))
    }

    /// `N` when the value is `10^-N` (`1`, `0.01`, `1e-2`), `None` otherwise.
    pub(super) fn places_of_unit(&self) -> Option<u32> {
        let one = !self.negative && self.last - self.first == 1 && self.digit(self.first) == b'1';
        one.then(|| u32::try_from(-self.top).ok()).flatten()
    }

    /// The values' order, exactly.
    pub(super) fn compare(&self, other: &Decimal<'_>) -> Ordering {
        let sign = |d: &Decimal<'_>| match (d.is_zero(), d.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let magnitude = self.top.cmp(&other.top).then_with(|| {
            let (n, m) = (self.last - self.first, other.last - other.first);
            (0..n.min(m))
                .map(|i| {
                    self.digit(self.first + i)
                        .cmp(&other.digit(other.first + i))
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| n.cmp(&m))
        });
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

fn to_i128(n: usize) -> i128 {
    i128::try_from(n).unwrap_or(i128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_counted_on_the_exact_value() {
        for (text, expected) in [
            ("0", 0),
            ("70.71", 2),
            ("912.390", 2),
            ("-0.010", 2),
            ("0.30000000000000004", 17),
            ("1.5e2", 0),
            ("1.2345e2", 2),
            ("1.50e1", 0),
            ("1.5e-2", 3),
            ("15e-1", 1),
            ("1500e-2", 0),
            ("1e-99999999999999999999", 99999999999999999999),
            ("1e-9999999999999999999999999999999999999999", FAR as u128),
            // Within i128 but at its edge: clamped before any arithmetic.
            ("1e-170141183460469231731687303715884105728", FAR as u128),
            (
                "0.1e-170141183460469231731687303715884105728",
                FAR as u128 + 1,
            ),
            ("10e170141183460469231731687303715884105727", 0),
            ("1e+9999999999999999999999999999999999999999", 0),
            ("0e-7", 0),
            ("0.000", 0),
            ("12E+3", 0),
            ("-0.5E-1", 2),
        ] {
            assert_eq!(Decimal::parse(text).decimals(), expected, "{text}");
        }
    }

    #[test]
    fn a_power_of_ten_is_recognised_in_every_spelling() {
        for (text, places) in [
            ("1", Some(0)),
            ("0.01", Some(2)),
            ("0.0100", Some(2)),
            ("1e-4", Some(4)),
            ("10e-5", Some(4)),
            ("0.1E-1", Some(2)),
            ("100e-2", Some(0)),
            ("-0.01", None),
            ("0.011", None),
            ("0.02", None),
            ("0.25", None),
            ("10", None),
            ("0", None),
        ] {
            assert_eq!(Decimal::parse(text).places_of_unit(), places, "{text}");
        }
    }

    #[test]
    fn values_compare_exactly_in_every_spelling() {
        // Ascending; each line's spellings are equal.
        let ladder: &[&[&str]] = &[
            &["-1e+9999999999999999999999999999999999999999"],
            &["-999999999999.991"],
            &[
                "-999999999999.99",
                "-99999999999999e-2",
                "-0.99999999999999E12",
            ],
            &["-1", "-1.000", "-10e-1"],
            &["-0.5"],
            &["-1e-400"],
            &["0", "-0", "0.000", "0e99", "-0.0e-3"],
            &["1e-400"],
            &["0.30000000000000004"],
            &["0.5", "5e-1", "0.50"],
            &["1", "1.0", "100e-2", "0.001e3"],
            &["1.0000000000000000000000000001"],
            &["99.99"],
            &["100", "1e2", "1E+2"],
            &["999999999999.99", "99999999999999e-2"],
            &["999999999999.991"],
            &["1000000000000"],
            &["123456789012345678901234567890.12"],
            &["1e+9999999999999999999999999999999999999999"],
        ];
        for (i, line) in ladder.iter().enumerate() {
            for (j, other) in ladder.iter().enumerate() {
                for a in *line {
                    for b in *other {
                        assert_eq!(
                            Decimal::parse(a).compare(&Decimal::parse(b)),
                            i.cmp(&j),
                            "{a} against {b}"
                        );
                    }
                }
            }
        }
        // Exponents at the edge of i128 are clamped before any arithmetic: such a number still
        // compares right with every ordinary one.
        let order = |a: &str, b: &str| Decimal::parse(a).compare(&Decimal::parse(b));
        let big = "10e170141183460469231731687303715884105727";
        let tiny = "0.1e-170141183460469231731687303715884105728";
        assert_eq!(
            order(big, "123456789012345678901234567890.12"),
            Ordering::Greater
        );
        assert_eq!(
            order(&format!("-{big}"), "-999999999999.991"),
            Ordering::Less
        );
        assert_eq!(order(tiny, "0"), Ordering::Greater);
        assert_eq!(order(tiny, "1e-400"), Ordering::Less);
        assert_eq!(order(&format!("-{tiny}"), "0"), Ordering::Less);
        assert_eq!(order(&format!("-{tiny}"), "-1e-400"), Ordering::Greater);
    }
}
