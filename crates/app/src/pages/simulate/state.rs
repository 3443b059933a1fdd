//! The Simulate page's state (lesson step, switches, seed) and its URL
//! fragment, so that a link reopens the same lesson and, with the same seed,
//! the same trace.
//!
//! Format: `#step=<1-6>&seed=<decimal u64>&sw=<tokens>`, every key optional.
//! - `step`: the lesson step whose text is shown and whose preset the
//!   switches start from; absent or unreadable, step 1.
//! - `seed`: the simulation's seed; absent or unreadable, [`DEFAULT_SEED`].
//! - `sw`: the switches, when they differ from the step's preset (the page
//!   leaves `sw` out otherwise, so a plain step link stays short). Tokens
//!   joined by `.`: the `data-switch` name of every on/off switch that is on
//!   (`Switches::FLAGS`: `trace-client`, `sampled`, …; a flag not listed is
//!   off), `reviews-<0-20>` for the number of reviews (absent: the preset's),
//!   and `fail-500` or `fail-timeout` when reviews-api fails. Every character
//!   of these tokens survives `encodeURIComponent` unescaped, so links stay
//!   readable: `#step=4&seed=7&sw=trace-client.trace-bands.sampled.reviews-5`.
//!
//! The fragment is input: nothing here panics on it, and whatever cannot be
//! read is replaced by the default and named in a note for the page to show.

use tracelab_demo::data::MAX_REVIEWS;
use tracelab_demo::lesson;
use tracelab_demo::{Failure, Switches};

/// The seed of `/simulate` without a fragment: fixed, so that the bare page
/// is as reproducible as a link.
pub const DEFAULT_SEED: u64 = 1;

/// Keys of the fragment, written with their `=` as the fragment helpers take them.
pub const STEP_KEY: &str = "step=";
pub const SEED_KEY: &str = "seed=";
pub const SWITCHES_KEY: &str = "sw=";

/// Separates the tokens of `sw=`; `encodeURIComponent` leaves `.` alone.
const SEPARATOR: char = '.';
const REVIEWS_PREFIX: &str = "reviews-";
const FAIL_PREFIX: &str = "fail-";

/// What the page's lesson state is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonState {
    /// 1 to 6.
    pub step: u8,
    pub seed: u64,
    pub switches: Switches,
}

impl Default for LessonState {
    fn default() -> LessonState {
        LessonState {
            step: 1,
            seed: DEFAULT_SEED,
            switches: preset(1),
        }
    }
}

/// The switches step `number` starts from (step 1's for an unknown number).
pub fn preset(number: u8) -> Switches {
    lesson::step(number)
        .or_else(|| lesson::STEPS.first())
        .map(|step| step.switches())
        .unwrap_or_default()
}

/// Reads the state from the fragment's decoded values (`None` for an absent
/// key). Returns the state and a note per value that could not be read.
pub fn parse(
    step: Option<&str>,
    seed: Option<&str>,
    sw: Option<&str>,
) -> (LessonState, Vec<String>) {
    let mut notes = Vec::new();
    let step = match step.map(str::trim) {
        None => 1,
        Some(text) => match text.parse::<u8>() {
            Ok(number) if lesson::step(number).is_some() => number,
            _ => {
                notes.push(format!(
                    "The link's step “{}” is not a step of the lesson (1 to {}), so step 1 is shown.",
                    shorten(text),
                    lesson::STEPS.len()
                ));
                1
            }
        },
    };
    let seed = match seed.map(str::trim) {
        None => DEFAULT_SEED,
        Some(text) => text.parse::<u64>().unwrap_or_else(|_| {
            notes.push(format!(
                "The link's seed “{}” is not a whole number from 0 to {}, so seed {DEFAULT_SEED} is used.",
                shorten(text),
                u64::MAX
            ));
            DEFAULT_SEED
        }),
    };
    let mut switches = preset(step);
    if let Some(text) = sw {
        let n_reviews = switches.n_reviews;
        // Listed flags are on, the others off; the rest keeps the preset.
        for name in Switches::FLAGS {
            switches.set_flag(name, false);
        }
        switches.fail_reviews = Failure::None;
        switches.n_reviews = n_reviews;
        let mut unknown = Vec::new();
        for token in text
            .split(SEPARATOR)
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if switches.set_flag(token, true) {
                continue;
            }
            if let Some(count) = token.strip_prefix(REVIEWS_PREFIX) {
                match count.parse::<usize>() {
                    Ok(count) if count <= MAX_REVIEWS => {
                        // Fits: MAX_REVIEWS is far below u8::MAX.
                        switches.n_reviews = u8::try_from(count).unwrap_or(n_reviews);
                        continue;
                    }
                    _ => {}
                }
            }
            if let Some(kind) = token.strip_prefix(FAIL_PREFIX).and_then(Failure::parse) {
                switches.fail_reviews = kind;
                continue;
            }
            unknown.push(shorten(token));
        }
        if !unknown.is_empty() {
            notes.push(format!(
                "The link's switches include {} that this page does not know; {} ignored.",
                unknown
                    .iter()
                    .map(|token| format!("“{token}”"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if unknown.len() == 1 {
                    "it is"
                } else {
                    "they are"
                }
            ));
        }
    }
    (
        LessonState {
            step,
            seed,
            switches,
        },
        notes,
    )
}

/// The fragment's values for `state`, as (key, value) pairs for
/// `write_params` (which leaves empty values out): `sw` only when the
/// switches differ from the step's preset.
pub fn params(state: &LessonState) -> [(&'static str, String); 3] {
    let sw = if state.switches == preset(state.step) {
        String::new()
    } else {
        switches_token(&state.switches)
    };
    [
        (STEP_KEY, state.step.to_string()),
        (SEED_KEY, state.seed.to_string()),
        (SWITCHES_KEY, sw),
    ]
}

/// The `sw=` value of `switches` (see the module's format).
pub fn switches_token(switches: &Switches) -> String {
    let mut tokens: Vec<String> = Switches::FLAGS
        .iter()
        .filter(|name| switches.flag(name) == Some(true))
        .map(|name| (*name).to_owned())
        .collect();
    tokens.push(format!("{REVIEWS_PREFIX}{}", switches.n_reviews));
    if switches.fail_reviews != Failure::None {
        tokens.push(format!("{FAIL_PREFIX}{}", switches.fail_reviews.as_str()));
    }
    tokens.join(&SEPARATOR.to_string())
}

/// At most 40 characters of a value from the link, for a note: a link can
/// hold anything, and a note must stay one line.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_fragment_is_step_one_silently() {
        let (state, notes) = parse(None, None, None);
        assert_eq!(state, LessonState::default());
        assert!(notes.is_empty());
    }

    #[test]
    fn every_state_survives_the_round_trip() {
        for number in 1..=6 {
            let mut switches = preset(number);
            for (flip, name) in Switches::FLAGS.iter().enumerate() {
                let state = LessonState {
                    step: number,
                    seed: 7,
                    switches: switches.clone(),
                };
                let values = params(&state);
                let value = |key: &str| {
                    values
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| v.as_str())
                        .filter(|v| !v.is_empty())
                };
                let (read, notes) = parse(value(STEP_KEY), value(SEED_KEY), value(SWITCHES_KEY));
                assert_eq!(read, state);
                assert!(notes.is_empty());
                switches.set_flag(name, flip % 2 == 0);
                switches.n_reviews = (flip as u8) * 2;
                switches.fail_reviews =
                    [Failure::None, Failure::ServerError, Failure::Timeout][flip % 3];
            }
        }
    }

    #[test]
    fn unreadable_values_fall_back_with_a_note() {
        let (state, notes) = parse(Some("9"), Some("-1"), Some("nonsense.reviews-99.sampled"));
        assert_eq!((state.step, state.seed), (1, DEFAULT_SEED));
        assert_eq!(state.switches.n_reviews, preset(1).n_reviews);
        assert_eq!(state.switches.flag("sampled"), Some(true));
        assert_eq!(state.switches.flag("pause-bands"), Some(false));
        assert_eq!(notes.len(), 3);
    }
}
