//! Redaction of personal data before anything is stored or sent to a provider.
//!
//! Passes, in this order (each sees the output of the previous one):
//! 1. **e-mail** `local@domain.tld` (ASCII local part `[A-Za-z0-9._%+-]`, a dotted domain
//!    whose last label has two letters or more) → `[EMAIL]`;
//! 2. **card** — 13–19 digits that pass the Luhn check, written contiguously or in groups of
//!    2–6 digits joined by single spaces or dashes (`4111 1111 1111 1111`,
//!    `3782-822463-10005`) → `[CARD]`. Within a run of such groups, every sequence of whole
//!    groups is tried (longest first, left to right), so a card written next to other short
//!    numbers (`12 4111 1111 1111 1111`) is still caught;
//! 3. **national id** — US SSN `123-45-6789`, Spanish DNI `12345678Z` (`12345678-Z`,
//!    `12345678 Z`) and NIE `X1234567L` → `[NATIONAL_ID]`;
//! 4. **phone** — `+` and 8–15 digits in groups, or 9–15 digits in groups of 2–4 (a single
//!    group of 9–10 digits) joined by spaces, dashes or parentheses; date-like runs
//!    (`2024-01-15 10`) are left alone → `[PHONE]`.

use std::ops::Range;

/// How many values of each kind were redacted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Redactions {
    /// E-mail addresses.
    pub emails: u32,
    /// Card numbers.
    pub cards: u32,
    /// National ids (SSN, DNI, NIE).
    pub national_ids: u32,
    /// Phone numbers.
    pub phones: u32,
}

impl Redactions {
    /// Total number of redacted values.
    pub fn total(&self) -> u32 {
        self.emails + self.cards + self.national_ids + self.phones
    }

    /// Adds the counts of `other`.
    pub fn add(&mut self, other: Redactions) {
        self.emails += other.emails;
        self.cards += other.cards;
        self.national_ids += other.national_ids;
        self.phones += other.phones;
    }
}

/// Placeholder of an e-mail address.
pub const EMAIL: &str = "[EMAIL]";
/// Placeholder of a card number.
pub const CARD: &str = "[CARD]";
/// Placeholder of a national id.
pub const NATIONAL_ID: &str = "[NATIONAL_ID]";
/// Placeholder of a phone number.
pub const PHONE: &str = "[PHONE]";

/// Redacts `text` and counts what was replaced.
pub fn redact(text: &str) -> (String, Redactions) {
    let mut counts = Redactions::default();
    let (text, n) = pass(text, email_spans, EMAIL);
    counts.emails = n;
    let (text, n) = pass(&text, card_spans, CARD);
    counts.cards = n;
    let (text, n) = pass(&text, national_id_spans, NATIONAL_ID);
    counts.national_ids = n;
    let (text, n) = pass(&text, phone_spans, PHONE);
    counts.phones = n;
    (text, counts)
}

/// Whether `digits` (ASCII digits only) pass the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn pass(text: &str, find: fn(&[char]) -> Vec<Range<usize>>, placeholder: &str) -> (String, u32) {
    let chars: Vec<char> = text.chars().collect();
    let spans = find(&chars);
    if spans.is_empty() {
        return (text.to_owned(), 0);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in &spans {
        out.extend(&chars[at..span.start]);
        out.push_str(placeholder);
        at = span.end;
    }
    out.extend(&chars[at..]);
    (out, u32::try_from(spans.len()).unwrap_or(u32::MAX))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn email_spans(chars: &[char]) -> Vec<Range<usize>> {
    let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (at, _) in chars.iter().enumerate().filter(|(_, c)| **c == '@') {
        if spans.last().is_some_and(|s| at < s.end) {
            continue;
        }
        let mut start = at;
        while start > 0 && is_local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < chars.len() && is_domain(chars[end]) {
            end += 1;
        }
        while end > at + 1 && ".-".contains(chars[end - 1]) {
            end -= 1;
        }
        let domain: String = chars[at + 1..end].iter().collect();
        let tld_ok = domain.rsplit_once('.').is_some_and(|(head, tld)| {
            !head.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
        });
        if start < at && tld_ok && !domain.starts_with('.') {
            spans.push(start..end);
        }
    }
    spans
}

/// Whether a digit group may be joined to its neighbours in a card number (`4111 1111 …`,
/// `3782 822463 10005`).
fn joinable(group: &Range<usize>) -> bool {
    (2..=6).contains(&group.len())
}

/// The digit groups of the run starting at `start`: maximal digit sequences, joined across a
/// single space or dash when both neighbours are [`joinable`].
fn card_run(chars: &[char], start: usize) -> Vec<Range<usize>> {
    let group_at = |from: usize| {
        let mut end = from;
        while end < chars.len() && chars[end].is_ascii_digit() {
            end += 1;
        }
        from..end
    };
    let mut groups = vec![group_at(start)];
    loop {
        let Some(last) = groups.last() else {
            return groups;
        };
        let sep = last.end;
        let next = group_at(sep + 1);
        let joins = joinable(last)
            && sep < chars.len()
            && matches!(chars[sep], ' ' | '-')
            && joinable(&next);
        if !joins {
            return groups;
        }
        groups.push(next);
    }
}

fn card_spans(chars: &[char]) -> Vec<Range<usize>> {
    let digit = |c: char| u8::try_from(c.to_digit(10).unwrap_or(0)).unwrap_or(0);
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let groups = card_run(chars, i);
        let mut a = 0;
        while a < groups.len() {
            // the longest Luhn-valid card of 13–19 digits made of whole groups from `a`
            let mut digits: Vec<u8> = Vec::new();
            let mut found = None;
            for (b, group) in groups.iter().enumerate().skip(a) {
                digits.extend(chars[group.clone()].iter().map(|c| digit(*c)));
                if digits.len() > 19 {
                    break;
                }
                if digits.len() >= 13 && luhn_valid(&digits) {
                    found = Some(b);
                }
            }
            match found {
                Some(b) => {
                    spans.push(groups[a].start..groups[b].end);
                    a = b + 1;
                }
                None => a += 1,
            }
        }
        i = groups.last().map_or(i + 1, |g| g.end.max(i + 1));
    }
    spans
}

fn digits_at(chars: &[char], at: usize, n: usize) -> bool {
    at + n <= chars.len() && chars[at..at + n].iter().all(char::is_ascii_digit)
}

fn boundary_before(chars: &[char], at: usize) -> bool {
    at == 0 || !is_word(chars[at - 1])
}

fn boundary_after(chars: &[char], at: usize) -> bool {
    at >= chars.len() || !is_word(chars[at])
}

/// Matches an id letter after `at` (directly, after `-`, or after a space when upper-case).
fn id_letter(chars: &[char], at: usize) -> Option<usize> {
    match chars.get(at) {
        Some(c) if c.is_ascii_alphabetic() => Some(at + 1),
        Some('-') => chars
            .get(at + 1)
            .filter(|c| c.is_ascii_alphabetic())
            .map(|_| at + 2),
        Some(' ') => chars
            .get(at + 1)
            .filter(|c| c.is_ascii_uppercase())
            .map(|_| at + 2),
        _ => None,
    }
}

fn national_id_at(chars: &[char], i: usize) -> Option<usize> {
    if !boundary_before(chars, i) {
        return None;
    }
    // US SSN: ddd-dd-dddd
    if digits_at(chars, i, 3)
        && chars.get(i + 3) == Some(&'-')
        && digits_at(chars, i + 4, 2)
        && chars.get(i + 6) == Some(&'-')
        && digits_at(chars, i + 7, 4)
        && boundary_after(chars, i + 11)
    {
        return Some(i + 11);
    }
    // DNI: 8 digits and a letter.
    if digits_at(chars, i, 8) {
        return id_letter(chars, i + 8).filter(|end| boundary_after(chars, *end));
    }
    // NIE: X/Y/Z, 7 digits and a letter.
    if chars.get(i).is_some_and(|c| "XYZxyz".contains(*c)) && digits_at(chars, i + 1, 7) {
        return id_letter(chars, i + 8).filter(|end| boundary_after(chars, *end));
    }
    None
}

fn national_id_spans(chars: &[char]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match national_id_at(chars, i) {
            Some(end) => {
                spans.push(i..end);
                i = end;
            }
            None => i += 1,
        }
    }
    spans
}

/// A phone number starting at `i`: `Ok(end)`, or `Err(next)` where the scan resumes.
fn phone_at(chars: &[char], i: usize) -> Result<usize, usize> {
    let prev_ok = i == 0 || !(is_word(chars[i - 1]) || chars[i - 1] == '.');
    let plus = chars[i] == '+';
    let opens = chars[i] == '(' || plus;
    if !prev_ok || !(chars[i].is_ascii_digit() || (opens && digits_at(chars, i + 1, 1))) {
        return Err(i + 1);
    }
    let mut end = i + 1;
    while end < chars.len()
        && (chars[end].is_ascii_digit()
            || "-()".contains(chars[end])
            || (chars[end] == ' ' && chars.get(end + 1).is_some_and(|c| *c != ' ')))
    {
        end += 1;
    }
    while end > i && !chars[end - 1].is_ascii_digit() {
        end -= 1;
    }
    let next = end.max(i + 1);
    if !boundary_after(chars, end) {
        return Err(next);
    }
    let text: String = chars[i..end].iter().collect();
    let groups: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let digits: usize = groups.iter().map(|g| g.len()).sum();
    let date_like = groups.len() > 1
        && groups[0].len() == 4
        && (groups[0].starts_with("19") || groups[0].starts_with("20"))
        && groups[1].len() <= 2;
    let phone = if plus {
        (8..=15).contains(&digits)
    } else if groups.len() == 1 {
        (9..=10).contains(&digits)
    } else {
        (9..=15).contains(&digits)
            && groups.iter().all(|g| (2..=4).contains(&g.len()))
            && !date_like
    };
    if phone {
        Ok(end)
    } else {
        Err(next)
    }
}

fn phone_spans(chars: &[char]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match phone_at(chars, i) {
            Ok(end) => {
                spans.push(i..end);
                i = end;
            }
            Err(next) => i = next,
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redacts_each_kind() {
        let cases: &[(&str, &str)] = &[
            (
                "mail me at ana.perez+tfg@uni.example.es.",
                "mail me at [EMAIL].",
            ),
            ("card 4111 1111 1111 1111 thanks", "card [CARD] thanks"),
            ("card 4111-1111-1111-1111", "card [CARD]"),
            ("amex 378282246310005", "amex [CARD]"),
            ("glued 12 4111 1111 1111 1111 ok", "glued 12 [CARD] ok"),
            ("ssn 123-45-6789 ok", "ssn [NATIONAL_ID] ok"),
            (
                "DNI 12345678Z y NIE X1234567L",
                "DNI [NATIONAL_ID] y NIE [NATIONAL_ID]",
            ),
            ("dni 12345678-z", "dni [NATIONAL_ID]"),
            ("llámame al 600 123 456", "llámame al [PHONE]"),
            ("call +34 600-12-34-56 now", "call [PHONE] now"),
            ("US (555) 123-4567", "US [PHONE]"),
            ("tel 612345678", "tel [PHONE]"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input).0, *expected, "input {input:?}");
        }
    }

    #[test]
    fn leaves_ordinary_text_and_code_alone() {
        let cases = [
            "for i in range(10): print(i * 3.14159)",
            "at 2024-01-15 10:30:45 the job failed",
            "Luhn-invalid 4111 1111 1111 1112",
            "id 550e8400-e29b-41d4-a716-446655440000",
            "version 1.2.3 on 192.168.1.20",
            "user@localhost has no domain",
            "the numbers 1 2 3 4 5 6 7 8 9 10",
            "tengo 12345678 a las",
        ];
        for input in cases {
            let (out, counts) = redact(input);
            assert_eq!(out, input);
            assert_eq!(counts.total(), 0, "input {input:?}");
        }
    }

    #[test]
    fn counts_what_it_replaced() {
        let (_, counts) = redact("a@b.co c@d.io 4111111111111111 600123456 123-45-6789");
        assert_eq!(
            counts,
            Redactions {
                emails: 2,
                cards: 1,
                national_ids: 1,
                phones: 1
            }
        );
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid(&[
            4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
        ]));
        assert!(!luhn_valid(&[
            4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2
        ]));
        assert!(!luhn_valid(&[]));
    }

    /// A Luhn-valid 16-digit number from 15 random digits.
    fn card_from(prefix: &[u8]) -> Vec<u8> {
        (0..10u8)
            .map(|check| {
                let mut digits = prefix.to_vec();
                digits.push(check);
                digits
            })
            .find(|d| luhn_valid(d))
            .unwrap_or_default()
    }

    fn only_digits(text: &str) -> String {
        text.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
    }

    proptest! {
        #[test]
        fn never_leaves_a_luhn_valid_card(
            prefix in proptest::collection::vec(0u8..10, 15),
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
            before in "[a-z0-9 .,:]{0,40}",
            after in "[a-z0-9 .,:]{0,40}",
        ) {
            let card = card_from(&prefix);
            let written: Vec<String> = card
                .chunks(4)
                .map(|c| c.iter().map(|d| char::from(b'0' + d)).collect())
                .collect();
            let text = format!("{before} {} {after}", written.join(sep));
            let (out, _) = redact(&text);
            let plain: String = card.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(!only_digits(&out).contains(&plain), "{text:?} -> {out:?}");
        }

        #[test]
        fn redaction_never_panics_and_keeps_text_without_digits_or_at(
            text in "[^0-9@]{0,200}",
        ) {
            let (out, counts) = redact(&text);
            prop_assert_eq!(counts.total(), 0);
            prop_assert_eq!(out, text);
        }
    }
}
