//! Money arithmetic shared by invoices, cases and settlements: exact decimals, rounded to cents.

use rust_decimal::{Decimal, RoundingStrategy};

/// Money rounds to cents, half away from zero (11.985 → 11.99), as invoices do, and always
/// carries exactly two decimals (5.0 becomes 5.00) so that amounts look the same on the wire.
pub fn cents(x: Decimal) -> Decimal {
    let mut x = x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    x.rescale(2);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_half_away_from_zero_and_always_show_two_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(cents(d("11.985")).to_string(), "11.99");
        assert_eq!(cents(d("-11.985")).to_string(), "-11.99");
        assert_eq!(cents(d("5")).to_string(), "5.00");
        assert_eq!(cents(d("0.004")).to_string(), "0.00");
    }
}
