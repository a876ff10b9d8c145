//! Dates and times as pages show them: UTC, day month year.

use mfa_core::Timestamp;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil(days: u64) -> (u64, usize, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, usize::try_from(month).unwrap_or(1), day)
}

/// `30 Nov 2026`.
#[must_use]
pub(crate) fn date(at: Timestamp) -> String {
    let (year, month, day) = civil(at.unix() / 86_400);
    format!("{day} {} {year}", MONTHS[(month - 1) % 12])
}

/// `14:05 UTC`.
#[must_use]
pub(crate) fn time_of_day(at: Timestamp) -> String {
    let secs = at.unix() % 86_400;
    format!("{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// `30 Nov 2026, 14:05 UTC`.
#[must_use]
pub(crate) fn date_time(at: Timestamp) -> String {
    format!("{}, {}", date(at), time_of_day(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(date_time(Timestamp::from_unix(0)), "1 Jan 1970, 00:00 UTC");
        assert_eq!(date(Timestamp::from_unix(951_782_400)), "29 Feb 2000");
        assert_eq!(
            date_time(Timestamp::from_unix(1_796_054_700)),
            "30 Nov 2026, 16:05 UTC"
        );
    }
}
