//! The demo's data: the band the original demo asked for ("Fugazi") and a
//! few more, their reviews, and the JSON shapes the services answer with.
//! Everything is derived from constants, so it is the same on every run.

use serde::{Deserialize, Serialize};
use tracelab_trace::generate::SplitMix64;

/// The band the original demo's client asked for.
pub const DEMO_BAND_ID: &str = "553be815-76f3-49db-b9d7-caca4b23cc3e";

/// The most reviews a band can have (the original returned 1 to 20).
pub const MAX_REVIEWS: usize = 20;

/// A band as bands-api stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BandRecord {
    pub uuid: &'static str,
    pub name: &'static str,
    /// How many reviews reviews-api holds for it; the demo band's count is a
    /// switch of the lesson instead.
    pub n_reviews: usize,
    /// When the record was created, Unix seconds.
    pub created_unix_seconds: u64,
}

/// 2023-03-30T10:33:58Z, the instant of the original demo's printed output.
pub const DEMO_EPOCH_UNIX_SECONDS: u64 = 1_680_172_438;

pub const BANDS: [BandRecord; 4] = [
    BandRecord {
        uuid: DEMO_BAND_ID,
        name: "Fugazi",
        n_reviews: 3,
        created_unix_seconds: DEMO_EPOCH_UNIX_SECONDS - 86_400 * 400,
    },
    BandRecord {
        uuid: "0c7e5c3b-3d5e-4a8e-9f57-2b8b1f0d6a41",
        name: "Sleater-Kinney",
        n_reviews: 4,
        created_unix_seconds: DEMO_EPOCH_UNIX_SECONDS - 86_400 * 300,
    },
    BandRecord {
        uuid: "9b2d7f0e-6c1a-4f3b-8e4d-5a6c7b8d9e0f",
        name: "Minor Threat",
        n_reviews: 2,
        created_unix_seconds: DEMO_EPOCH_UNIX_SECONDS - 86_400 * 200,
    },
    BandRecord {
        uuid: "e4f1a2b3-c4d5-4e6f-a7b8-c9d0e1f2a3b4",
        name: "Bikini Kill",
        n_reviews: 0,
        created_unix_seconds: DEMO_EPOCH_UNIX_SECONDS - 86_400 * 100,
    },
];

/// The band with `uuid` (already lowercased), if bands-api has it.
pub fn find_band(uuid: &str) -> Option<(usize, &'static BandRecord)> {
    BANDS.iter().enumerate().find(|(_, band)| band.uuid == uuid)
}

/// One review, as reviews-api answers and bands-api passes on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub uuid: String,
    pub body: String,
    pub created: String,
}

/// A band with its reviews: bands-api's response, in the original's field order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub uuid: String,
    pub name: String,
    pub reviews: Vec<Review>,
    pub created: String,
}

/// Review `number` (1-based) of `of` for the band at `band_idx`, as stored:
/// its own uuid and its own creation time.
pub fn stored_review(band_idx: usize, number: usize, of: usize) -> Review {
    let band_created = BANDS
        .get(band_idx)
        .map_or(DEMO_EPOCH_UNIX_SECONDS, |band| band.created_unix_seconds);
    // A review a day after the band, plus a few seconds so no two look alike.
    let created_seconds = band_created + 86_400 * number as u64 + 37 * number as u64;
    let created_micros = (number as u64 * 104_729) % 1_000_000;
    Review {
        uuid: uuid_from_seed(((band_idx as u64) << 32) | number as u64),
        body: review_body(number, of),
        created: iso_timestamp(created_seconds * 1_000_000_000 + created_micros * 1_000),
    }
}

/// The body text of the original demo.
pub fn review_body(number: usize, of: usize) -> String {
    format!("This is the review {number} of {of} for this band.")
}

/// A version-4 uuid made from `seed`: random-looking, the same every run.
pub fn uuid_from_seed(seed: u64) -> String {
    let mut rng = SplitMix64::new(seed ^ 0x5eed_0fc0_ffee);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// True for the 8-4-4-4-12 hex form of a uuid (either case).
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text
            .bytes()
            .enumerate()
            .all(|(position, byte)| match position {
                8 | 13 | 18 | 23 => byte == b'-',
                _ => byte.is_ascii_hexdigit(),
            })
}

/// Unix nanoseconds as Python's `datetime.isoformat()` printed them in the
/// original (UTC, microseconds, no zone): `2023-03-30T10:33:58.886900`.
pub fn iso_timestamp(unix_nanos: u64) -> String {
    let seconds = unix_nanos / 1_000_000_000;
    let micros = (unix_nanos % 1_000_000_000) / 1_000;
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}",
        second_of_day / 3_600,
        (second_of_day / 60) % 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`), so no date crate is needed for one format.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_the_original_did() {
        assert_eq!(
            iso_timestamp(DEMO_EPOCH_UNIX_SECONDS * 1_000_000_000 + 886_900_000),
            "2023-03-30T10:33:58.886900"
        );
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000000");
        assert_eq!(
            iso_timestamp(951_782_400 * 1_000_000_000),
            "2000-02-29T00:00:00.000000"
        );
    }

    #[test]
    fn uuids_are_well_formed_and_distinct() {
        let first = uuid_from_seed(1);
        assert!(is_uuid(&first), "{first}");
        assert_eq!(&first[14..15], "4", "version 4");
        assert_ne!(first, uuid_from_seed(2));
        assert!(BANDS.iter().all(|band| is_uuid(band.uuid)));
        assert!(!is_uuid("553be815-76f3-49db-b9d7-caca4b23cc3"));
        assert!(!is_uuid("553be815x76f3-49db-b9d7-caca4b23cc3e"));
        assert!(!is_uuid("ü53be815-76f3-49db-b9d7-caca4b23cc3"));
    }
}
