//! What the Build page edits, and its URL fragment.
//!
//! Format: `#tp=<traceparent>&ts=<tracestate>&url=<request URL>`, each
//! value as `encodeURIComponent` writes it, `ts` left out when there is no
//! entry, `url` when it is the demo's ([`DEMO_URL`], also what a link
//! without `url` gets, so older links read as before). The values are
//! exactly as typed (so a link to a half-typed, invalid header reopens it as
//! it was), at most 4096 characters encoded together. The fragment is never
//! sent to a server.

use leptos::prelude::*;
use tracelab_context::snippet::DEMO_URL;
use tracelab_context::traceparent::VERSION_00_LEN;
use tracelab_context::{tracestate, IdSource, RandomIds, SpanId, TraceFlags, TraceId};

use crate::pages::decode::fragment::{self, Malformed, TooLong};

/// The editor keeps a few entries past the spec's 32, so that the person
/// sees what the limit does, but not without bound: each is a row of inputs.
pub const MAX_EDITOR_ENTRIES: usize = tracestate::MAX_MEMBERS + 8;

const TP_KEY: &str = "tp=";
const TS_KEY: &str = "ts=";
const URL_KEY: &str = "url=";

/// The key "Add entry" gives a new entry: `vendor<n>`, `n` one past the
/// number of entries, or the next number free when that key is taken (after
/// a removal, say), so that a new key never repeats one in the list.
pub fn fresh_key<'a>(keys: impl Iterator<Item = &'a str> + Clone) -> String {
    let mut n = keys.clone().count() + 1;
    loop {
        let key = format!("vendor{n}");
        if !keys.clone().any(|taken| taken == key) {
            return key;
        }
        n += 1;
    }
}

/// One `tracestate` entry in the editor. `id` stays with the entry when it
/// moves, so its row (and the focus in it) moves with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: usize,
    pub key: RwSignal<String>,
    pub value: RwSignal<String>,
}

/// The header being built. The ids are kept as typed, not as parsed values,
/// so that validation can say what is wrong with what is on screen.
#[derive(Clone, Copy)]
pub struct Built {
    pub trace_id: RwSignal<String>,
    pub parent_id: RwSignal<String>,
    /// Only the sampled and random bits: a sender sends the others as zero.
    pub flags: RwSignal<TraceFlags>,
    pub entries: RwSignal<Vec<Entry>>,
    /// The request URL the snippets send to.
    pub url: RwSignal<String>,
    next_entry_id: StoredValue<usize>,
}

impl Built {
    pub fn new() -> Self {
        Built {
            trace_id: RwSignal::new(String::new()),
            parent_id: RwSignal::new(String::new()),
            flags: RwSignal::new(TraceFlags(TraceFlags::SAMPLED | TraceFlags::RANDOM)),
            entries: RwSignal::new(Vec::new()),
            url: RwSignal::new(DEMO_URL.to_owned()),
            next_entry_id: StoredValue::new(0),
        }
    }

    /// Back to an empty page, before a link is read again: no ids, the
    /// default flags and URL, no entry.
    pub fn clear(&self) {
        self.trace_id.set(String::new());
        self.parent_id.set(String::new());
        self.flags
            .set(TraceFlags(TraceFlags::SAMPLED | TraceFlags::RANDOM));
        self.entries.set(Vec::new());
        self.url.set(DEMO_URL.to_owned());
    }

    /// "Add entry": a new entry with a key no other entry has.
    pub fn add_fresh_entry(&self) {
        let key = self.entries.with(|entries| {
            let keys: Vec<String> = entries.iter().map(|e| e.key.get()).collect();
            fresh_key(keys.iter().map(String::as_str))
        });
        self.add_entry(&key, "value");
    }

    /// The `traceparent` value as built: version 00 and the fields as typed.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id.get(),
            self.parent_id.get(),
            self.flags.get()
        )
    }

    /// The `tracestate` value as built, and where each entry sits in it
    /// (byte ranges, in entry order), so a rule broken can be shown on its
    /// entry.
    pub fn tracestate(&self) -> (String, Vec<(usize, std::ops::Range<usize>)>) {
        let mut value = String::new();
        let mut ranges = Vec::new();
        self.entries.with(|entries| {
            for entry in entries {
                if !value.is_empty() {
                    value.push(',');
                }
                let start = value.len();
                entry.key.with(|k| value.push_str(k));
                value.push('=');
                entry.value.with(|v| value.push_str(v));
                ranges.push((entry.id, start..value.len()));
            }
        });
        (value, ranges)
    }

    /// A fresh trace: new random ids, sampled and random. Fails (and changes
    /// nothing) only where the platform has no random source.
    /// The error is getrandom's, in words.
    pub fn new_trace(&self) -> Result<(), String> {
        let trace_id = TraceId::random().map_err(|e| e.to_string())?;
        let parent_id = SpanId::random().map_err(|e| e.to_string())?;
        self.trace_id.set(trace_id.to_string());
        self.parent_id.set(parent_id.to_string());
        self.flags
            .set(TraceFlags(TraceFlags::SAMPLED | TraceFlags::RANDOM));
        Ok(())
    }

    pub fn add_entry(&self, key: &str, value: &str) {
        let id = self.next_entry_id.get_value();
        self.next_entry_id.set_value(id + 1);
        let entry = Entry {
            id,
            key: RwSignal::new(key.to_owned()),
            value: RwSignal::new(value.to_owned()),
        };
        self.entries.update(|entries| {
            if entries.len() < MAX_EDITOR_ENTRIES {
                entries.push(entry);
            }
        });
    }

    pub fn remove_entry(&self, id: usize) {
        self.entries
            .update(|entries| entries.retain(|e| e.id != id));
    }

    /// Moves an entry one place up (`-1`) or down (`1`); at either end it stays.
    pub fn move_entry(&self, id: usize, by: isize) {
        self.entries.update(|entries| {
            let Some(from) = entries.iter().position(|e| e.id == id) else {
                return;
            };
            let Some(to) = from.checked_add_signed(by).filter(|&to| to < entries.len()) else {
                return;
            };
            entries.swap(from, to);
        });
    }

    /// Loads the state from the URL fragment. Returns a note when the link
    /// held something that could not be used as it was, and `false` when
    /// there was no traceparent to load.
    pub fn load_from_url(&self) -> (bool, Option<String>) {
        let mut notes = Vec::new();
        let tp = match fragment::read_param(TP_KEY) {
            Ok(tp) => tp,
            Err(Malformed) => {
                notes.push("the link's #tp= part is not valid percent-encoding");
                None
            }
        };
        let ts = match fragment::read_param(TS_KEY) {
            Ok(ts) => ts,
            Err(Malformed) => {
                notes.push("the link's ts= part is not valid percent-encoding");
                None
            }
        };
        match fragment::read_param(URL_KEY) {
            Ok(Some(url)) => self.url.set(url),
            Ok(None) => {}
            Err(Malformed) => notes.push("the link's url= part is not valid percent-encoding"),
        }
        let mut loaded = false;
        if let Some(tp) = tp {
            // Split as typed, not parsed: a link to an invalid header opens
            // with the same mistakes shown. Only the 00 layout is editable.
            let parts: Vec<&str> = tp.trim().splitn(4, '-').collect();
            match parts.as_slice() {
                _ if tp.len() > 4 * VERSION_00_LEN => {
                    notes.push("the link's traceparent is far too long to be one, so a new trace was started");
                }
                [version, trace_id, parent_id, flags] => {
                    if *version != "00" {
                        notes.push("the link's traceparent is not version 00; this page builds version 00, the only one published");
                    }
                    self.trace_id.set((*trace_id).to_owned());
                    self.parent_id.set((*parent_id).to_owned());
                    match u8::from_str_radix(flags, 16) {
                        Ok(bits) => {
                            let flags = TraceFlags(bits);
                            if flags.unknown_bits() != 0 {
                                notes.push("the link's flags set bits no version defines; a sender sends them as zero, so they were cleared");
                            }
                            self.flags.set(TraceFlags(bits & TraceFlags::KNOWN));
                        }
                        Err(_) => notes.push("the link's trace-flags are not two hex digits, so the default flags are used"),
                    }
                    loaded = true;
                }
                _ => notes.push(
                    "the link's traceparent does not have four fields, so a new trace was started",
                ),
            }
        }
        if let Some(ts) = ts {
            // The diagnosis lists entries as found, even invalid ones, so a
            // link keeps an entry that breaks a rule for the person to fix.
            let report = tracestate::diagnose(&ts);
            if report.entries.len() > MAX_EDITOR_ENTRIES {
                notes.push("the link's tracestate has more entries than the editor keeps; the rest were left out");
            }
            for entry in report.entries.iter().take(MAX_EDITOR_ENTRIES) {
                self.add_entry(&entry.key, entry.value.as_deref().unwrap_or_default());
            }
        }
        let note = (!notes.is_empty()).then(|| {
            let mut note = notes.join("; ");
            note.push('.');
            capitalize(&note)
        });
        (loaded, note)
    }

    /// Writes the state into the URL; returns a note when it is too long.
    pub fn save_to_url(
        traceparent: &str,
        tracestate: &str,
        url: &str,
        page_path: &str,
    ) -> Option<String> {
        // The demo's URL is the default: left out, so links stay short.
        let url = if url == DEMO_URL { "" } else { url };
        fragment::write_params(
            &[(TP_KEY, traceparent), (TS_KEY, tracestate), (URL_KEY, url)],
            page_path,
        )
            .err()
            .map(|TooLong| {
                format!(
                    "This header is too long to keep in the link (over {} characters encoded), so the address bar does not hold it.",
                    fragment::MAX_ENCODED
                )
            })
    }
}

/// The sentences `tracelab_context` writes start in lowercase, to be put
/// inside others; a paragraph of its own starts with a capital.
///
/// ASCII only: those sentences are English and start with an ASCII letter or
/// a quote, and `char::to_uppercase` would bring Unicode's case tables
/// (kilobytes) into the browser bundle for them.
pub fn capitalize(text: &str) -> String {
    let mut text = text.to_owned();
    // `None` when the first character is not one byte long: left as it is.
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// The ids a receiver draws when it continues (or restarts) the trace.
/// Drawn once per new trace rather than on every keystroke, so that the
/// "next hop" does not change while the person types elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHopIds {
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

impl NextHopIds {
    pub fn draw() -> Self {
        NextHopIds {
            trace_id: RandomIds.new_trace_id(),
            span_id: RandomIds.new_span_id(),
        }
    }
}

impl IdSource for NextHopIds {
    fn new_trace_id(&mut self) -> TraceId {
        self.trace_id
    }
    fn new_span_id(&mut self) -> SpanId {
        self.span_id
    }
}

#[cfg(test)]
mod tests {
    use super::{capitalize, fresh_key};

    #[test]
    fn a_fresh_key_never_repeats_one_in_the_list() {
        assert_eq!(fresh_key([].into_iter()), "vendor1");
        assert_eq!(fresh_key(["vendor1", "vendor2"].into_iter()), "vendor3");
        // Three added, the first removed: not vendor3 again.
        assert_eq!(fresh_key(["vendor2", "vendor3"].into_iter()), "vendor4");
        assert_eq!(
            fresh_key(["vendor3", "vendor4", "x"].into_iter()),
            "vendor5"
        );
    }

    #[test]
    fn capitalize_raises_only_a_leading_ascii_letter() {
        assert_eq!(capitalize("the header is valid"), "The header is valid");
        assert_eq!(capitalize("“tp” is empty"), "“tp” is empty");
        assert_eq!(capitalize("42 entries"), "42 entries");
        assert_eq!(capitalize(""), "");
    }
}
