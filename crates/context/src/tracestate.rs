//! The `tracestate` header: parse (several header lines combined), validate,
//! mutate as a vendor does, truncate by the spec's order, and a report of
//! every entry and every rule broken.

use crate::rule::{Checker, Collect, FirstError, Rule, Severity, Sink, Stop, Violation};
use crate::traceparent::{display_text, excerpt};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// At most this many list members (§3.3.1.2).
pub const MAX_MEMBERS: usize = 32;
/// A key has at most this many characters (§3.3.1.3.1).
pub const MAX_KEY_LEN: usize = 256;
/// A value has at most this many characters (§3.3.1.3.2).
pub const MAX_VALUE_LEN: usize = 256;
/// Vendors must propagate at least this many characters of the combined header (§3.3.1.5).
pub const PROPAGATION_LIMIT: usize = 512;
/// When truncating, entries longer than this go first (§3.3.1.5).
pub const LARGE_ENTRY_LEN: usize = 128;

/// A valid `tracestate`: at most 32 entries with distinct keys, in order, the
/// leftmost being the vendor that wrote the current `traceparent`.
///
/// Kept as one canonical string (`k1=v1,k2=v2`, no optional whitespace) and
/// the offsets of each entry: parsing allocates twice, whatever the count.
///
/// ```
/// use tracelab_context::TraceState;
/// let mut ts = TraceState::parse("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE")?;
/// ts.insert("congo", "ucfJifl5GOE")?;
/// assert_eq!(ts.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
/// # Ok::<(), tracelab_context::Violation>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TraceState {
    buf: String,
    /// For each entry: the offsets of its key start, its '=' and its end in `buf`.
    entries: Vec<(u32, u32, u32)>,
}

impl TraceState {
    /// Parses one header value, stopping at the first rule broken.
    pub fn parse(value: &str) -> Result<TraceState, Violation> {
        TraceStateView::parse(value).map(|view| view.to_state())
    }

    /// Parses several header lines as HTTP combines them (joined by commas).
    pub fn parse_lines(lines: &[&str]) -> Result<TraceState, Violation> {
        TraceState::parse(&combine_lines(lines))
    }

    /// Builds a state from entries, checking each and the list rules.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TraceState, Violation> {
        // Each entry is checked on its own first: joined, a value holding
        // ",b=2" would silently become a second entry.
        let mut joined = Vec::new();
        for (key, value) in entries {
            check_member(key, value)?;
            joined.push(format!("{key}={value}"));
        }
        TraceState::parse(&joined.join(","))
    }

    fn push(&mut self, key: &str, value: &str) {
        if !self.buf.is_empty() {
            self.buf.push(',');
        }
        // `check` limits a header to far below 4 GiB of members we keep.
        let start = self.buf.len() as u32;
        self.buf.push_str(key);
        let eq = self.buf.len() as u32;
        self.buf.push('=');
        self.buf.push_str(value);
        self.entries.push((start, eq, self.buf.len() as u32));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, leftmost first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|&(start, eq, end)| {
            (
                &self.buf[start as usize..eq as usize],
                &self.buf[eq as usize + 1..end as usize],
            )
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value to send: canonical, with no optional whitespace.
    pub fn header_value(&self) -> &str {
        &self.buf
    }

    fn rebuild(entries: Vec<(String, String)>) -> TraceState {
        let mut state = TraceState::default();
        for (k, v) in &entries {
            state.push(k, v);
        }
        state
    }

    fn owned_entries(&self) -> Vec<(String, String)> {
        self.entries()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Adds or updates a vendor's entry, which moves to the front (§3.5).
    /// When the list is full, the rightmost entry is dropped to make room and
    /// returned.
    pub fn insert(
        &mut self,
        key: &str,
        value: &str,
    ) -> Result<Option<(String, String)>, Violation> {
        check_member(key, value)?;
        let mut entries = self.owned_entries();
        entries.retain(|(k, _)| k != key);
        let dropped = if entries.len() >= MAX_MEMBERS {
            entries.pop()
        } else {
            None
        };
        entries.insert(0, (key.to_owned(), value.to_owned()));
        *self = TraceState::rebuild(entries);
        Ok(dropped)
    }

    /// Removes a key's entry; returns whether there was one.
    pub fn remove(&mut self, key: &str) -> bool {
        let mut entries = self.owned_entries();
        let before = entries.len();
        entries.retain(|(k, _)| k != key);
        let removed = entries.len() != before;
        if removed {
            *self = TraceState::rebuild(entries);
        }
        removed
    }

    /// Moves the entry at `from` to position `to` (0-based), as an editor
    /// reorders entries. Out-of-range positions leave the state unchanged.
    pub fn move_entry(&mut self, from: usize, to: usize) {
        let mut entries = self.owned_entries();
        if from < entries.len() && to < entries.len() {
            let entry = entries.remove(from);
            entries.insert(to, entry);
            *self = TraceState::rebuild(entries);
        }
    }

    /// Which entries a compliant vendor drops, in order, to fit the combined
    /// header within `limit` characters (§3.3.1.5): entries longer than 128
    /// characters first, then from the end. Indices are 0-based positions.
    pub fn truncation_order(&self, limit: usize) -> Vec<usize> {
        truncation_order(self.entries().map(|(k, v)| k.len() + 1 + v.len()), limit)
    }

    /// Drops entries by [`TraceState::truncation_order`] and returns them.
    pub fn truncate(&mut self, limit: usize) -> Vec<(String, String)> {
        let order = self.truncation_order(limit);
        if order.is_empty() {
            return Vec::new();
        }
        let entries = self.owned_entries();
        let dropped = order.iter().map(|&i| entries[i].clone()).collect();
        let kept = entries
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !order.contains(i))
            .map(|(_, e)| e)
            .collect();
        *self = TraceState::rebuild(kept);
        dropped
    }
}

/// A valid `tracestate` borrowed from the header value it was parsed from:
/// the entries are offsets into that value, so parsing allocates nothing.
/// What a service uses to check an incoming header; [`TraceStateView::to_state`]
/// makes the owned [`TraceState`] to mutate and send on.
///
/// ```
/// use tracelab_context::tracestate::TraceStateView;
/// let view = TraceStateView::parse("rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE")?;
/// assert_eq!(view.get("congo"), Some("t61rcWkgMzE"));
/// assert_eq!(view.to_state().to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// # Ok::<(), tracelab_context::Violation>(())
/// ```
#[derive(Clone, Copy)]
pub struct TraceStateView<'a> {
    value: &'a str,
    /// For each entry: its key's start, its '=' and its end in `value`.
    entries: [(usize, usize, usize); MAX_MEMBERS],
    len: usize,
}

impl<'a> TraceStateView<'a> {
    /// Parses one header value, stopping at the first rule broken.
    pub fn parse(value: &'a str) -> Result<TraceStateView<'a>, Violation> {
        let mut sink = FirstError::default();
        let mut view = TraceStateView {
            value,
            entries: [(0, 0, 0); MAX_MEMBERS],
            len: 0,
        };
        let result = check(value, &mut sink, |member| {
            // Past 32 members `check` reports an error, so the view is never returned.
            if let (Some(value_range), true) = (&member.value, view.len < MAX_MEMBERS) {
                view.entries[view.len] = (member.key.start, member.key.end, value_range.end);
                view.len += 1;
            }
        });
        match (result, sink.error) {
            (Ok(0), _) => Ok(view),
            (_, Some(error)) => Err(error),
            // A reported error always lands in the sink; keep this total anyway.
            (_, None) => Err(Violation {
                rule: Rule::TraceStateMissingEquals,
                severity: Severity::Error,
                start: 0,
                end: value.len(),
                message: "the value could not be parsed".into(),
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries, leftmost first, borrowed from the header value.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> + '_ {
        let value = self.value;
        self.entries[..self.len]
            .iter()
            .map(move |&(start, eq, end)| (&value[start..eq], &value[eq + 1..end]))
    }

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The owned state, canonical (no optional whitespace).
    pub fn to_state(&self) -> TraceState {
        let size = self.entries[..self.len]
            .iter()
            .map(|(s, _, e)| e - s + 1)
            .sum::<usize>();
        let mut state = TraceState {
            buf: String::with_capacity(size),
            entries: Vec::with_capacity(self.len),
        };
        for (key, value) in self.entries() {
            state.push(key, value);
        }
        state
    }
}

impl fmt::Debug for TraceStateView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}

/// The truncation order for entries of the given lengths (each `key=value`).
fn truncation_order(lengths: impl Iterator<Item = usize>, limit: usize) -> Vec<usize> {
    let lengths: Vec<usize> = lengths.collect();
    let mut total = lengths.iter().sum::<usize>() + lengths.len().saturating_sub(1);
    let mut remaining = lengths.len();
    let mut dropped = vec![false; lengths.len()];
    let mut order = Vec::new();
    // First pass: only entries over 128 characters; second pass: any entry.
    for large_only in [true, false] {
        for i in (0..lengths.len()).rev() {
            if total <= limit {
                return order;
            }
            if dropped[i] || (large_only && lengths[i] <= LARGE_ENTRY_LEN) {
                continue;
            }
            // Removing an entry removes a comma too, unless it was the last one left.
            total -= lengths[i] + usize::from(remaining > 1);
            remaining -= 1;
            dropped[i] = true;
            order.push(i);
        }
    }
    order
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.buf)
    }
}

impl fmt::Debug for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}

impl FromStr for TraceState {
    type Err = Violation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TraceState::parse(s)
    }
}

/// Combines several `tracestate` header lines into one value, as HTTP does
/// for a list header (RFC 9110 §5.3).
pub fn combine_lines(lines: &[&str]) -> String {
    lines.join(",")
}

/// Checks one key and value as [`TraceState::insert`] needs.
fn check_member(key: &str, value: &str) -> Result<(), Violation> {
    let member = format!("{key}={value}");
    let mut sink = FirstError::default();
    let mut checker = Checker::new(&mut sink);
    let eq = key.len();
    let _ = check_key(&mut checker, &member, 0..eq)
        .and_then(|_| check_value(&mut checker, &member, eq + 1..member.len()));
    match sink.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// One list member as found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MemberLayout {
    /// The member without surrounding whitespace.
    pub(crate) range: Range<usize>,
    pub(crate) key: Range<usize>,
    /// `None` when the member has no '='.
    pub(crate) value: Option<Range<usize>>,
    pub(crate) valid: bool,
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Byte classes of the tracestate grammar, as a table: members are checked
/// byte by byte on every request a service receives.
const KEY_FIRST: u8 = 1;
const KEY_CHAR: u8 = 2;
const VALUE_CHAR: u8 = 4;
const COMMA: u8 = 8;
const EQUALS: u8 = 16;
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b',' as usize] = COMMA;
    table[b'=' as usize] = EQUALS;
    let mut b = 0x20;
    while b <= 0x7e {
        // `nblk-chr` and the space: printable ASCII except ',' and '='.
        if b != b',' as usize && b != b'=' as usize {
            table[b] |= VALUE_CHAR;
        }
        let lower_or_digit = (b >= b'a' as usize && b <= b'z' as usize)
            || (b >= b'0' as usize && b <= b'9' as usize);
        if lower_or_digit {
            table[b] |= KEY_FIRST | KEY_CHAR;
        }
        if b == b'_' as usize
            || b == b'-' as usize
            || b == b'*' as usize
            || b == b'/' as usize
            || b == b'@' as usize
        {
            table[b] |= KEY_CHAR;
        }
        b += 1;
    }
    table
};

fn is_key_first(b: u8) -> bool {
    CLASSES[usize::from(b)] & KEY_FIRST != 0
}

fn is_key_char(b: u8) -> bool {
    CLASSES[usize::from(b)] & KEY_CHAR != 0
}

fn is_value_char(b: u8) -> bool {
    CLASSES[usize::from(b)] & VALUE_CHAR != 0
}

fn check_key<S: Sink>(
    checker: &mut Checker<'_, S>,
    value: &str,
    key: Range<usize>,
) -> Result<(), Stop> {
    let text = &value[key.clone()];
    // The common case first, in one pass: a valid key is ASCII, so its
    // length in bytes is its length in characters.
    if let Some((&first, rest)) = text.as_bytes().split_first() {
        if is_key_first(first) && rest.iter().all(|&b| is_key_char(b)) && text.len() <= MAX_KEY_LEN
        {
            return Ok(());
        }
    }
    let Some(&first) = text.as_bytes().first() else {
        return checker.report(Rule::TraceStateKeyEmpty, key.start..key.start + 1, || {
            "the member starts with '=': its key is empty".to_owned()
        });
    };
    if !is_key_first(first) {
        let first_len = text.chars().next().map_or(1, char::len_utf8);
        checker.report(
            Rule::TraceStateKeyFirstChar,
            key.start..key.start + first_len,
            || {
                format!(
                    "key '{}' starts with '{}'",
                    excerpt(text),
                    excerpt(&text[..first_len])
                )
            },
        )?;
    }
    // The first character was judged above; judge the rest by the wider set.
    let first_len = text.chars().next().map_or(1, char::len_utf8);
    checker.runs(
        &text[first_len..],
        key.start + first_len,
        Rule::TraceStateKeyChar,
        false,
        |b| !is_key_char(b),
        |run| format!("key '{}' has '{}'", excerpt(text), excerpt(run)),
    )?;
    let chars = text.chars().count();
    if chars > MAX_KEY_LEN {
        checker.report(Rule::TraceStateKeyLength, key, || {
            format!("key has {chars} characters")
        })?;
    }
    Ok(())
}

fn check_value<S: Sink>(
    checker: &mut Checker<'_, S>,
    value: &str,
    range: Range<usize>,
) -> Result<(), Stop> {
    let text = &value[range.clone()];
    if !text.is_empty()
        && text.len() <= MAX_VALUE_LEN
        && !text.ends_with(' ')
        && text.bytes().all(is_value_char)
    {
        return Ok(());
    }
    if text.is_empty() {
        return checker.report(
            Rule::TraceStateValueEmpty,
            range.start.saturating_sub(1)..range.end,
            || "nothing follows '='".to_owned(),
        );
    }
    checker.runs(
        text,
        range.start,
        Rule::TraceStateValueChar,
        false,
        |b| !is_value_char(b),
        |run| format!("value has '{}'", excerpt(run)),
    )?;
    // In a header, trailing spaces are optional whitespace and never reach
    // here; a value given to `insert` must not end with one (`nblk-chr`).
    if text.ends_with(' ') {
        let from = text.trim_end_matches(' ').len();
        checker.report(
            Rule::TraceStateValueChar,
            range.start + from..range.end,
            || "the value ends with a space".to_owned(),
        )?;
    }
    let chars = text.chars().count();
    if chars > MAX_VALUE_LEN {
        checker.report(Rule::TraceStateValueLength, range, || {
            format!("value has {chars} characters")
        })?;
    }
    Ok(())
}

/// A cheap fingerprint of a key: its length and its first and last eight
/// bytes. Keys that differ in these never need comparing byte by byte; keys
/// of one header mostly do (`vendor1`, `vendor2`), at the cost of a few
/// loads rather than a multiply per byte.
fn fingerprint(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let k = n.min(8);
    let mut head = [0u8; 8];
    head[..k].copy_from_slice(&bytes[..k]);
    let mut tail = [0u8; 8];
    tail[8 - k..].copy_from_slice(&bytes[n - k..]);
    u64::from_le_bytes(head) ^ u64::from_le_bytes(tail).rotate_left(29) ^ ((n as u64) << 53)
}

/// The one parser: walks the members of `value`, checks every rule, reports
/// to `sink`, hands each member to `on_member`, and returns the error count.
pub(crate) fn check<S: Sink>(
    value: &str,
    sink: &mut S,
    mut on_member: impl FnMut(MemberLayout),
) -> Result<usize, Stop> {
    let mut checker = Checker::new(sink);
    let bytes = value.as_bytes();
    // Keys seen so far: a scan of a stack array for the usual few (no
    // allocation), a map past the member limit.
    // Each key is kept with a hash, so the scan compares integers and only
    // compares text when two hashes agree.
    let mut keys = [(0usize, 0usize, 0usize, 0u64); MAX_MEMBERS];
    let mut n_keys = 0;
    let mut key_map: Option<HashMap<&str, usize>> = None;
    let mut count = 0usize;
    let mut over_limit_from = None;
    let mut pos = 0;
    let mut content_end = 0;
    while pos <= bytes.len() {
        let mut start = pos;
        while start < bytes.len() && is_ows(bytes[start]) {
            start += 1;
        }
        // Two tight loops, one to the '=' and one to the comma, that also
        // fold the byte classes of the key and the value, so a valid member
        // is read once. (`str::find` calls `memchr`, whose setup costs more
        // than the few dozen bytes of a member.)
        let mut i = start;
        let mut key_classes = u8::MAX;
        while i < bytes.len() {
            let class = CLASSES[usize::from(bytes[i])];
            if class & (COMMA | EQUALS) != 0 {
                break;
            }
            key_classes &= class;
            i += 1;
        }
        let eq = if i < bytes.len() && bytes[i] == b'=' {
            i
        } else {
            usize::MAX
        };
        let mut value_classes = u8::MAX;
        if eq != usize::MAX {
            i += 1;
            while i < bytes.len() {
                let class = CLASSES[usize::from(bytes[i])];
                if class & COMMA != 0 {
                    break;
                }
                value_classes &= class;
                i += 1;
            }
        }
        let key_ok = key_classes & KEY_CHAR != 0;
        let value_ok = value_classes & VALUE_CHAR != 0;
        let comma = i;
        let mut end = comma;
        while end > start && is_ows(bytes[end - 1]) {
            end -= 1;
        }
        pos = comma + 1;
        if start == end {
            // Empty and whitespace-only members are allowed (§3.3.1.2).
            continue;
        }
        content_end = end;
        count += 1;
        if count == MAX_MEMBERS + 1 {
            over_limit_from = Some(start);
        }
        let plainly_valid = key_ok
            && value_ok
            && eq != usize::MAX
            && eq > start
            && is_key_first(bytes[start])
            && eq - start <= MAX_KEY_LEN
            && end > eq + 1
            && end - eq - 1 <= MAX_VALUE_LEN;
        let errors_before = checker.errors;
        let member = &value[start..end];
        // `eq` may lie past trailing whitespace only if there was none before it.
        let layout = match (eq < end).then(|| eq - start) {
            None => {
                checker.report(Rule::TraceStateMissingEquals, start..end, || {
                    format!("member {count} '{}' has no '='", excerpt(member))
                })?;
                MemberLayout {
                    range: start..end,
                    key: start..end,
                    value: None,
                    valid: false,
                }
            }
            Some(eq) => {
                let key = start..start + eq;
                let val = start + eq + 1..end;
                if !plainly_valid {
                    check_key(&mut checker, value, key.clone())?;
                    check_value(&mut checker, value, val.clone())?;
                }
                let key_text = &value[key.clone()];
                let previous = match &mut key_map {
                    Some(map) => match map.entry(key_text) {
                        Entry::Occupied(first) => Some(*first.get()),
                        Entry::Vacant(slot) => {
                            slot.insert(count);
                            None
                        }
                    },
                    None => {
                        let hash = fingerprint(key_text.as_bytes());
                        let found = keys[..n_keys]
                            .iter()
                            .find(|(s, e, _, h)| *h == hash && &value[*s..*e] == key_text)
                            .map(|(_, _, n, _)| *n);
                        if n_keys < MAX_MEMBERS {
                            keys[n_keys] = (key.start, key.end, count, hash);
                            n_keys += 1;
                        } else {
                            // Keep each key's first position, so a later
                            // duplicate names the member it repeats.
                            let mut map: HashMap<&str, usize> = HashMap::new();
                            for (s, e, n, _) in &keys {
                                map.entry(&value[*s..*e]).or_insert(*n);
                            }
                            map.entry(key_text).or_insert(count);
                            key_map = Some(map);
                        }
                        found
                    }
                };
                if let Some(first) = previous {
                    checker.report(Rule::TraceStateDuplicateKey, key.clone(), || {
                        format!(
                            "key '{}' of member {count} already appears as member {first}",
                            excerpt(key_text)
                        )
                    })?;
                }
                MemberLayout {
                    range: start..end,
                    key,
                    value: Some(val),
                    valid: false,
                }
            }
        };
        on_member(MemberLayout {
            valid: checker.errors == errors_before,
            ..layout
        });
    }
    if let Some(from) = over_limit_from {
        checker.report(Rule::TraceStateTooManyMembers, from..content_end, || {
            format!(
                "{count} members; the {} from member {} on are over the limit",
                count - MAX_MEMBERS,
                MAX_MEMBERS + 1
            )
        })?;
    }
    Ok(checker.errors)
}

/// One entry of a `tracestate` as found, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryReport {
    /// 1-based position in the list, counting non-empty members.
    pub position: usize,
    /// Byte range of the member (without surrounding whitespace) in the value.
    pub start: usize,
    pub end: usize,
    /// The key and value, cut to 300 characters for display.
    pub key: String,
    pub value: Option<String>,
    /// The member's length as sent: `key=value`.
    pub len: usize,
    /// Whether this entry breaks no rule.
    pub valid: bool,
}

/// Everything known about a `tracestate` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStateReport {
    /// The entries found, at most [`TraceStateReport::MAX_ENTRIES`].
    pub entries: Vec<EntryReport>,
    /// Entries found beyond those listed.
    pub entries_omitted: usize,
    pub violations: Vec<Violation>,
    pub omitted: usize,
    /// The combined header's length as it would be propagated (members
    /// joined by single commas, no optional whitespace).
    pub propagated_len: usize,
    /// 1-based positions of the entries a compliant vendor drops first when
    /// truncating to 512 characters, in order (at most
    /// [`TraceStateReport::MAX_ENTRIES`] of them); empty when it fits.
    pub truncation: Vec<usize>,
    pub parsed: Option<TraceState>,
}

impl TraceStateReport {
    /// Past this many entries a list is far over its 32-member limit; the
    /// rest are counted, not listed.
    pub const MAX_ENTRIES: usize = 256;

    pub fn is_valid(&self) -> bool {
        self.parsed.is_some()
    }
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Error)
    }
    /// The violations that point into an entry.
    pub fn violations_of<'a>(
        &'a self,
        entry: &'a EntryReport,
    ) -> impl Iterator<Item = &'a Violation> + 'a {
        self.violations.iter().filter(move |v| {
            v.start < entry.end && v.end > entry.start && v.rule != Rule::TraceStateTooManyMembers
        })
    }
}

/// Checks every rule on a `tracestate` value and lists its entries.
///
/// Never panics, whatever the input. Byte ranges are into `value`; pass
/// several header lines through [`combine_lines`] first.
pub fn diagnose(value: &str) -> TraceStateReport {
    let mut sink = Collect::new();
    let mut entries = Vec::new();
    let mut entries_omitted = 0;
    let mut lengths = Vec::new();
    let mut all: Vec<(Range<usize>, Option<Range<usize>>)> = Vec::new();
    let result = check(value, &mut sink, |member| {
        let len = member.range.len();
        lengths.push(len);
        all.push((member.key.clone(), member.value.clone()));
        if entries.len() < TraceStateReport::MAX_ENTRIES {
            entries.push(EntryReport {
                position: lengths.len(),
                start: member.range.start,
                end: member.range.end,
                key: display_text(&value[member.key.clone()], 300),
                value: member
                    .value
                    .as_ref()
                    .map(|r| display_text(&value[r.clone()], 300)),
                len,
                valid: member.valid,
            });
        } else {
            entries_omitted += 1;
        }
    });
    let propagated_len = lengths.iter().sum::<usize>() + lengths.len().saturating_sub(1);
    if propagated_len > PROPAGATION_LIMIT {
        // A warning, not an error: the header stays valid (§3.3.1.5).
        let _ = sink.report(Rule::TraceStateOverPropagationLimit, 0..value.len(), || {
            format!("the combined header is {propagated_len} characters")
        });
    }
    let valid = matches!(result, Ok(0));
    let parsed = if valid {
        let mut state = TraceState {
            buf: String::with_capacity(value.len()),
            entries: Vec::with_capacity(all.len()),
        };
        for (key, val) in &all {
            if let Some(val) = val {
                state.push(&value[key.clone()], &value[val.clone()]);
            }
        }
        Some(state)
    } else {
        None
    };
    let truncation = truncation_order(lengths.iter().copied(), PROPAGATION_LIMIT)
        .into_iter()
        .take(TraceStateReport::MAX_ENTRIES)
        .map(|i| i + 1)
        .collect();
    TraceStateReport {
        entries,
        entries_omitted,
        violations: sink.violations,
        omitted: sink.omitted,
        propagated_len,
        truncation,
        parsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_whitespace_and_empty_members() {
        let ts =
            TraceState::parse(" rojo=00f067aa0ba902b7 ,, \t,congo=t61rcWkgMzE ").expect("valid");
        assert_eq!(ts.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        assert_eq!(ts.get("congo"), Some("t61rcWkgMzE"));
        assert_eq!(TraceState::parse("").map(|t| t.len()), Ok(0));
    }

    #[test]
    fn combines_header_lines() {
        let ts = TraceState::parse_lines(&["rojo=1", "congo=2"]).expect("valid");
        assert_eq!(
            ts.entries().collect::<Vec<_>>(),
            vec![("rojo", "1"), ("congo", "2")]
        );
    }

    #[test]
    fn update_moves_the_vendor_to_the_front() {
        let mut ts =
            TraceState::parse("congo=congosFirstPosition,rojo=rojosFirstPosition").expect("valid");
        ts.insert("congo", "congosSecondPosition")
            .expect("valid entry");
        assert_eq!(
            ts.to_string(),
            "congo=congosSecondPosition,rojo=rojosFirstPosition"
        );
        assert_eq!(
            ts.insert("Bad", "x").map_err(|e| e.rule),
            Err(Rule::TraceStateKeyFirstChar)
        );
        assert!(ts.remove("rojo"));
        assert!(!ts.remove("rojo"));
    }

    #[test]
    fn insert_into_a_full_list_drops_the_last() {
        let entries: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        let mut ts = TraceState::parse(&entries.join(",")).expect("32 is allowed");
        let dropped = ts.insert("new", "v").expect("valid");
        assert_eq!(dropped, Some(("k31".to_owned(), "v".to_owned())));
        assert_eq!(ts.len(), 32);
    }

    #[test]
    fn truncation_drops_large_entries_first_then_from_the_end() {
        let big = "x".repeat(200);
        let mid = "y".repeat(100);
        let value = format!("a={mid},big={big},c={mid},d={mid},e=1");
        let ts = TraceState::parse(&value).expect("valid");
        // 102+1+204+1+102+1+102+1+3 = 517 > 512: dropping the 204-char entry suffices.
        assert_eq!(ts.truncation_order(PROPAGATION_LIMIT), vec![1]);
        assert_eq!(ts.truncation_order(250), vec![1, 4, 3]);
        let mut cut = ts.clone();
        let dropped = cut.truncate(250);
        assert_eq!(dropped.len(), 3);
        assert!(cut.to_string().len() <= 250);
        assert_eq!(
            cut.entries().map(|(k, _)| k).collect::<Vec<_>>(),
            vec!["a", "c"]
        );
    }

    #[test]
    fn report_lists_entries_and_every_error() {
        let report = diagnose("ok=1,Bad=2,noequals,dup=1,dup=2,v=a=b");
        let rules: Vec<_> = report.violations.iter().map(|v| v.rule).collect();
        assert_eq!(
            rules,
            vec![
                Rule::TraceStateKeyFirstChar,
                Rule::TraceStateMissingEquals,
                Rule::TraceStateDuplicateKey,
                Rule::TraceStateValueChar
            ]
        );
        assert_eq!(report.entries.len(), 6);
        assert!(report.entries[0].valid);
        assert!(!report.entries[1].valid);
        assert!(!report.is_valid());
    }
}
