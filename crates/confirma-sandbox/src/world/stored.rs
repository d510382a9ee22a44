//! Values read back from storage, turned into stricter types (a currency code, an invoice number
//! as the wire's digits, a count as the wire's `int32`). They were checked when written, so a
//! value that does not fit means the stored data is wrong, not the request: the answer is a 500
//! in the error format and the log names the field and the value, instead of a panic.

use super::Failure;

/// `value`, stored as `field`, as `T`.
pub fn fit<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, Failure> {
    value.parse().map_err(|_| unfit(field, value))
}

/// A count or a number of days as the wire's `int32`.
pub fn int32<N: TryInto<i32> + Copy + std::fmt::Display>(
    field: &'static str,
    n: N,
) -> Result<i32, Failure> {
    n.try_into().map_err(|_| unfit(field, &n.to_string()))
}

fn unfit(field: &'static str, value: &str) -> Failure {
    tracing::error!(
        field,
        value = %confirma_server::clip(value),
        "a stored value does not fit its type; the answer is a 500"
    );
    Failure::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_does_not_fit_is_an_internal_failure_not_a_panic() {
        assert_eq!(fit::<u32>("count", "12"), Ok(12));
        assert_eq!(fit::<u32>("count", "twelve"), Err(Failure::Internal));
        assert_eq!(int32("total", 5_usize), Ok(5));
        assert_eq!(int32("total", usize::MAX), Err(Failure::Internal));
        assert_eq!(int32("days", -1_i64), Ok(-1));
    }
}
