//! Check digits of Finnish and international identifiers: business IDs (Y-tunnus), payment
//! references (Finnish 7-3-1 and RF / ISO 11649) and IBANs (ISO 13616, mod 97).

/// A Finnish business ID, `NNNNNNN-C` with weights 7, 9, 10, 5, 8, 4, 2 (mod 11). Six-digit IDs
/// are zero-padded, as the registry does.
pub fn business_id_valid(id: &str) -> bool {
    let Some((digits, check)) = id.split_once('-') else {
        return false;
    };
    if !(6..=7).contains(&digits.len())
        || check.len() != 1
        || !digits
            .bytes()
            .chain(check.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let padded = format!("{digits:0>7}");
    let sum: u32 = padded
        .bytes()
        .zip([7, 9, 10, 5, 8, 4, 2])
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = match sum % 11 {
        0 => 0,
        1 => return false,
        r => 11 - r,
    };
    u32::from(check.as_bytes()[0] - b'0') == expected
}

/// The check digit of a Finnish reference base (weights 7, 3, 1 from the right).
pub fn reference_check_digit(base: &str) -> u8 {
    let sum: u32 = base
        .bytes()
        .rev()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// A Finnish reference number: 4 to 20 digits (spaces allowed), the last being the check digit.
pub fn finnish_reference_valid(reference: &str) -> bool {
    let digits: String = reference.chars().filter(|c| *c != ' ').collect();
    (4..=20).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && reference_check_digit(&digits[..digits.len() - 1])
            == digits.as_bytes()[digits.len() - 1] - b'0'
}

/// A Finnish reference number built from `base` (digits) with its check digit appended.
pub fn finnish_reference(base: &str) -> String {
    format!("{base}{}", reference_check_digit(base))
}

/// ISO 7064 mod 97 of an alphanumeric string (letters count as 10..35).
fn mod97(s: &str) -> Option<u32> {
    let mut rem = 0u32;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

/// An RF creditor reference (ISO 11649): `RF` + 2 check digits + up to 21 characters.
pub fn rf_reference_valid(reference: &str) -> bool {
    let r: String = reference
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    r.bytes().all(|b| b.is_ascii_alphanumeric())
        && r.len() >= 5
        && r.len() <= 25
        && r.starts_with("RF")
        && r[2..4].bytes().all(|b| b.is_ascii_digit())
        && mod97(&format!("{}{}", &r[4..], &r[..4])) == Some(1)
}

/// A payment reference in either accepted form.
pub fn payment_reference_valid(reference: &str) -> bool {
    finnish_reference_valid(reference) || rf_reference_valid(reference)
}

/// A payment reference as it is matched: without spaces, letters upper-case.
pub fn normalized_reference(reference: &str) -> String {
    reference
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Whether a (normalized) reference is on `prefix`: a Finnish reference starting with it, or an
/// RF reference whose body (after `RF` and the two check digits) does.
pub fn reference_on_prefix(reference: &str, prefix: &str) -> bool {
    let body = match reference.strip_prefix("RF") {
        Some(rest) => rest.get(2..).unwrap_or(""),
        None => reference,
    };
    body.starts_with(prefix)
}

/// An IBAN: country code, check digits and BBAN, mod 97 = 1; Finnish IBANs are 18 characters.
pub fn iban_valid(iban: &str) -> bool {
    let s: String = iban
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    if !s.bytes().all(|b| b.is_ascii_alphanumeric())
        || s.len() < 15
        || s.len() > 34
        || !s[..2].bytes().all(|b| b.is_ascii_uppercase())
    {
        return false;
    }
    if s.starts_with("FI") && s.len() != 18 {
        return false;
    }
    mod97(&format!("{}{}", &s[4..], &s[..4])) == Some(1)
}

/// A Finnish VAT number: `FI` followed by the business ID's eight digits.
pub fn vat_number_matches(vat: &str, business_id: &str) -> bool {
    vat.strip_prefix("FI")
        .is_some_and(|digits| digits == business_id.replace('-', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_ids() {
        // From the documentation and the spec's examples.
        assert!(business_id_valid("0646115-8"));
        assert!(business_id_valid("2942108-7"));
        assert!(business_id_valid("3120495-4"));
        assert!(!business_id_valid("0646115-9"));
        assert!(
            !business_id_valid("123456-7"),
            "the documentation's placeholder"
        );
        assert!(!business_id_valid("06461158"));
    }

    #[test]
    fn references() {
        assert!(
            finnish_reference_valid("1337109"),
            "valid per the reference notes"
        );
        assert!(
            !finnish_reference_valid("2516000017"),
            "the documentation's placeholder"
        );
        assert_eq!(finnish_reference("251600001"), "2516000013");
        assert!(finnish_reference_valid("10452026001456"));
        assert!(finnish_reference_valid("8090801781763"));
        assert!(rf_reference_valid("RF18539007547034"), "ISO 11649 example");
        assert!(
            !rf_reference_valid("RF71234567890123456789"),
            "the documentation's placeholder"
        );
    }

    #[test]
    fn references_on_a_prefix() {
        assert_eq!(
            normalized_reference("rf18 5390 0754 7034"),
            "RF18539007547034"
        );
        assert!(reference_on_prefix("10452026001456", "1045"));
        assert!(!reference_on_prefix("10462026001456", "1045"));
        assert!(reference_on_prefix("RF18539007547034", "5390"));
        assert!(!reference_on_prefix("RF18539007547034", "1045"));
    }

    #[test]
    fn ibans() {
        assert!(iban_valid("FI5657122300048216"));
        assert!(iban_valid("FI21 1234 5600 0007 85"));
        assert!(
            !iban_valid("FI12345678912345678"),
            "19 characters: the documentation's placeholder"
        );
        assert!(!iban_valid("FI5657122300048217"));
    }

    #[test]
    fn no_input_makes_a_check_panic() {
        // Multi-byte characters where the checks slice (found by schemathesis on an IBAN).
        let tricky = [
            "",
            "-",
            "é",
            "FIé",
            "RF",
            "RFé1",
            "RF1é",
            "Ä12345678901234567",
            "FI😀123456789012345",
            "1234567-é",
            "é-1",
            "RF18 5390 0754 7034 😀",
            "\u{0}",
            "FI\u{0}2942108",
        ];
        for input in tricky {
            let _ = business_id_valid(input);
            let _ = finnish_reference_valid(input);
            let _ = rf_reference_valid(input);
            let _ = payment_reference_valid(input);
            let _ = iban_valid(input);
            let _ = vat_number_matches(input, "2942108-7");
            let _ = reference_on_prefix(&normalized_reference(input), "1045");
        }
        assert!(!iban_valid("FIé657122300048216"));
        assert!(!rf_reference_valid("RFé8539007547034"));
    }

    #[test]
    fn vat_numbers() {
        assert!(vat_number_matches("FI29421087", "2942108-7"));
        assert!(!vat_number_matches("FI1234567", "2942108-7"));
    }
}
