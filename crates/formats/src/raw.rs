//! The files' JSON as typed values, read by serde straight from the bytes:
//! strings borrowed from the input (copied only when they hold escapes),
//! unknown fields skipped without being built, and every field lenient: a
//! value of the wrong type does not fail the document but is kept as what
//! was [`Found`], so that the reader can name its path and say what was
//! wrong, and leave out only the span (or attribute, …) it belonged to.
//!
//! The only errors serde_json raises are the file's own: not JSON, cut
//! short, or nested past its limit of 128 levels where tracelab reads it
//! (an unknown field is skipped by serde_json without descending into it).
//!
//! One visitor serves every type: serde_json's parser is generic over the
//! visitor, so a visitor per type would copy the parser once per type into
//! the size-bound wasm worker. Instead the one visitor hands each value to
//! a [`Sink`] (a `dyn` the field's type implements through [`Shape`]), and
//! lists and objects come as [`Seq`] and [`Map`], which read their items
//! into sinks in turn.
//!
//! Deserialisation descends as the JSON nests, a few frames for one level
//! of JSON, so serde_json's limit bounds it; the readers then walk these
//! values with explicit stacks and cap attribute values at
//! [`crate::MAX_VALUE_DEPTH`].

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string from the file: borrowed, or owned when it held escapes.
pub(crate) type Text<'de> = Cow<'de, str>;

/// A list from the file: each element read leniently on its own.
pub(crate) type List<'de, T> = Vec<Field<'de, T>>;

/// A field whose value is a string, number or boolean: kept as found, and
/// read as its type by the reader (one type for every scalar field keeps
/// the code the wasm worker carries small).
pub(crate) type Scalar<'de> = Field<'de, Found<'de>>;

/// What a value was, kept when it did not fit, for a problem's "found …".
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Found<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Text<'de>),
    /// An array of this many elements (not kept).
    Array(usize),
    /// An object (not kept).
    Object,
}

impl Found<'_> {
    /// What the value is, for "expected …, found …" messages (the value
    /// itself is quoted only when short, so a message stays one line).
    pub(crate) fn describe(&self) -> String {
        match self {
            Found::Null => "null".to_string(),
            Found::Bool(value) => format!("{value}"),
            Found::U64(number) => format!("the number {number}"),
            Found::I64(number) => format!("the number {number}"),
            Found::F64(number) => format!("the number {}", f64_text(*number)),
            Found::Str(text) if text.chars().count() <= 40 => format!("the string {text:?}"),
            Found::Str(text) => format!("a string of {} characters", text.chars().count()),
            Found::Array(n_items) => format!("an array of {n_items}"),
            Found::Object => "an object".to_string(),
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Found::U64(_) | Found::I64(_) | Found::F64(_))
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Found::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// An unsigned 64-bit integer, as a JSON number or a decimal string
    /// (the protobuf JSON mapping writes 64-bit integers as strings, since
    /// JavaScript's numbers cannot hold them).
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Found::U64(number) => Some(*number),
            Found::Str(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// A signed 64-bit integer, as a JSON number or a decimal string.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Found::U64(number) => i64::try_from(*number).ok(),
            Found::I64(number) => Some(*number),
            Found::Str(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// A double: any JSON number, or the JSON mapping's strings for the
    /// non-finite ones (and a number in a string).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Found::U64(number) => Some(*number as f64),
            Found::I64(number) => Some(*number as f64),
            Found::F64(number) => Some(*number),
            Found::Str(text) => match &**text {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                other => other.parse().ok(),
            },
            _ => None,
        }
    }
}

/// A double as serde_json writes it (`1.5`, `1e300`); JSON has no
/// non-finite numbers, so those never come from a file.
pub(crate) fn f64_text(number: f64) -> String {
    match serde_json::Number::from_f64(number) {
        Some(number) => number.to_string(),
        None => "that is not finite".to_string(),
    }
}

/// One field's value: absent (missing, or `null`, which protobuf's JSON
/// mapping reads as absent), read, or [`Found`] when it did not fit.
#[derive(Debug, Default)]
pub(crate) enum Field<'de, T> {
    #[default]
    Absent,
    Ok(T),
    Bad(Box<Found<'de>>),
}

impl<'de, T> Field<'de, T> {
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// The value, or what was found instead (`null` for an absent one: an
    /// element of a list, or a field that must be there).
    pub(crate) fn get(&self) -> Result<&T, Found<'de>> {
        match self {
            Field::Ok(value) => Ok(value),
            Field::Absent => Err(Found::Null),
            Field::Bad(found) => Err((**found).clone()),
        }
    }

    fn set(&mut self, read: Result<T, Found<'de>>) {
        *self = match read {
            Ok(value) => Field::Ok(value),
            Err(found) => Field::Bad(Box::new(found)),
        };
    }
}

/// serde_json stopped: its error is kept by the [`Seq`] or [`Map`] that met
/// it, and given back where the one visitor returns.
#[derive(Debug)]
pub(crate) struct Stop;

/// Where one value goes.
pub(crate) trait Sink<'de> {
    fn null(&mut self);
    /// A boolean, number or string.
    fn scalar(&mut self, value: Found<'de>);
    fn seq(&mut self, seq: &mut Seq<'_, 'de>) -> Result<(), Stop>;
    fn map(&mut self, map: &mut Map<'_, 'de>) -> Result<(), Stop>;
}

/// The JSON shapes a type is read from; anything else is kept as
/// [`Found`].
pub(crate) trait Shape<'de>: Sized {
    /// A boolean, number or string; the value back when it does not fit.
    fn from_scalar(value: Found<'de>) -> Result<Self, Found<'de>> {
        Err(value)
    }
    fn from_seq(seq: &mut Seq<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        Ok(Err(Found::Array(seq.skip_rest()?)))
    }
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        map.skip_rest()?;
        Ok(Err(Found::Object))
    }
}

impl<'de, T: Shape<'de>> Sink<'de> for Field<'de, T> {
    fn null(&mut self) {
        *self = Field::Absent;
    }
    fn scalar(&mut self, value: Found<'de>) {
        self.set(T::from_scalar(value));
    }
    fn seq(&mut self, seq: &mut Seq<'_, 'de>) -> Result<(), Stop> {
        self.set(T::from_seq(seq)?);
        Ok(())
    }
    fn map(&mut self, map: &mut Map<'_, 'de>) -> Result<(), Stop> {
        self.set(T::from_map(map)?);
        Ok(())
    }
}

/// Reads one JSON document into `sink`: the one place serde_json is
/// driven. The error is the document's own (not JSON, cut short, nested
/// too deep, something after it).
pub(crate) fn read<'de>(bytes: &'de [u8], sink: &mut dyn Sink<'de>) -> serde_json::Result<()> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Into { sink }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// The one visitor: hands the value to its sink.
struct Into<'s, 'de> {
    sink: &'s mut dyn Sink<'de>,
}

impl<'de> DeserializeSeed<'de> for Into<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Into<'_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.sink.null();
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.sink.null();
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<(), E> {
        self.sink.scalar(Found::Bool(value));
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        self.sink.scalar(Found::U64(value));
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<(), E> {
        self.sink.scalar(Found::I64(value));
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        self.sink.scalar(Found::F64(value));
        Ok(())
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<(), E> {
        self.sink.scalar(Found::Str(Cow::Borrowed(value)));
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        self.sink.scalar(Found::Str(Cow::Owned(value.to_owned())));
        Ok(())
    }
    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<(), E> {
        self.sink.scalar(Found::Str(Cow::Owned(value)));
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<(), A::Error> {
        let mut erased = SeqOf {
            access,
            error: None,
        };
        let result = self.sink.seq(&mut Seq(&mut erased));
        finish(result, erased.error)
    }
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<(), A::Error> {
        let mut erased = MapOf {
            access,
            error: None,
        };
        let result = self.sink.map(&mut Map(&mut erased));
        finish(result, erased.error)
    }
}

/// serde's error back from a [`Stop`].
fn finish<E: serde::de::Error>(result: Result<(), Stop>, error: Option<E>) -> Result<(), E> {
    match (result, error) {
        (Ok(()), _) => Ok(()),
        (Err(Stop), Some(error)) => Err(error),
        (Err(Stop), None) => Err(E::custom("stopped without an error")),
    }
}

trait ErasedSeq<'de> {
    fn next(&mut self, sink: &mut dyn Sink<'de>) -> Result<bool, Stop>;
    fn skip(&mut self) -> Result<bool, Stop>;
}

struct SeqOf<A, E> {
    access: A,
    error: Option<E>,
}

impl<'de, A: SeqAccess<'de>> ErasedSeq<'de> for SeqOf<A, A::Error> {
    fn next(&mut self, sink: &mut dyn Sink<'de>) -> Result<bool, Stop> {
        match self.access.next_element_seed(Into { sink }) {
            Ok(more) => Ok(more.is_some()),
            Err(error) => {
                self.error = Some(error);
                Err(Stop)
            }
        }
    }
    fn skip(&mut self) -> Result<bool, Stop> {
        match self.access.next_element::<IgnoredAny>() {
            Ok(more) => Ok(more.is_some()),
            Err(error) => {
                self.error = Some(error);
                Err(Stop)
            }
        }
    }
}

/// A JSON array being read.
pub(crate) struct Seq<'a, 'de>(&'a mut dyn ErasedSeq<'de>);

impl<'de> Seq<'_, 'de> {
    /// Reads the next element into `sink`; false at the end.
    pub(crate) fn next(&mut self, sink: &mut dyn Sink<'de>) -> Result<bool, Stop> {
        self.0.next(sink)
    }

    /// Skips the elements left (serde_json skips without descending); how
    /// many there were.
    pub(crate) fn skip_rest(&mut self) -> Result<usize, Stop> {
        let mut n_items = 0;
        while self.0.skip()? {
            n_items += 1;
        }
        Ok(n_items)
    }
}

trait ErasedMap<'de> {
    fn next_key(&mut self) -> Result<Option<Text<'de>>, Stop>;
    fn next_value(&mut self, sink: &mut dyn Sink<'de>) -> Result<(), Stop>;
    fn skip_value(&mut self) -> Result<(), Stop>;
}

struct MapOf<A, E> {
    access: A,
    error: Option<E>,
}

impl<'de, A: MapAccess<'de>> ErasedMap<'de> for MapOf<A, A::Error> {
    fn next_key(&mut self) -> Result<Option<Text<'de>>, Stop> {
        match self.access.next_key_seed(Key) {
            Ok(key) => Ok(key),
            Err(error) => {
                self.error = Some(error);
                Err(Stop)
            }
        }
    }
    fn next_value(&mut self, sink: &mut dyn Sink<'de>) -> Result<(), Stop> {
        self.access.next_value_seed(Into { sink }).map_err(|error| {
            self.error = Some(error);
            Stop
        })
    }
    fn skip_value(&mut self) -> Result<(), Stop> {
        match self.access.next_value::<IgnoredAny>() {
            Ok(_) => Ok(()),
            Err(error) => {
                self.error = Some(error);
                Err(Stop)
            }
        }
    }
}

/// A JSON object being read.
pub(crate) struct Map<'a, 'de>(&'a mut dyn ErasedMap<'de>);

impl<'de> Map<'_, 'de> {
    /// The next key, borrowed unless it held escapes; `None` at the end.
    pub(crate) fn next_key(&mut self) -> Result<Option<Text<'de>>, Stop> {
        self.0.next_key()
    }

    /// Reads the value of the key just read into `sink`.
    pub(crate) fn next_value(&mut self, sink: &mut dyn Sink<'de>) -> Result<(), Stop> {
        self.0.next_value(sink)
    }

    /// Skips the value of the key just read, unbuilt.
    pub(crate) fn skip_value(&mut self) -> Result<(), Stop> {
        self.0.skip_value()
    }

    /// Skips every entry left.
    pub(crate) fn skip_rest(&mut self) -> Result<(), Stop> {
        while self.next_key()?.is_some() {
            self.skip_value()?;
        }
        Ok(())
    }
}

/// An object's key, borrowed unless it held escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Text<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Text<'de>;
    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a key")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<Text<'de>, E> {
        Ok(Cow::Borrowed(value))
    }
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Text<'de>, E> {
        Ok(Cow::Owned(value.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Text<'de>, E> {
        Ok(Cow::Owned(value))
    }
}

// ---------------------------------------------------------------------------
// The shapes of single values

/// Any value at all (a scalar field, a Jaeger tag's value read by its
/// `type`): only `null` reads as absent.
impl<'de> Shape<'de> for Found<'de> {
    fn from_scalar(value: Found<'de>) -> Result<Self, Found<'de>> {
        Ok(value)
    }
    fn from_seq(seq: &mut Seq<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        Ok(Ok(Found::Array(seq.skip_rest()?)))
    }
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        map.skip_rest()?;
        Ok(Ok(Found::Object))
    }
}

impl<'de, T: Shape<'de>> Shape<'de> for Vec<Field<'de, T>> {
    fn from_seq(seq: &mut Seq<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        let mut items = Vec::new();
        loop {
            let mut item = Field::Absent;
            if !seq.next(&mut item)? {
                break;
            }
            items.push(item);
        }
        Ok(Ok(items))
    }
}

/// A field that OTLP's JSON mapping lets be spelt several ways (the
/// lowerCamelCase name, the proto name, an older name): the first spelling
/// of the list that is present wins, whatever the order in the file, and
/// [`Aliased::name`] says which it was, for paths.
#[derive(Debug)]
pub(crate) struct Aliased<'de, T> {
    pub(crate) name: &'static str,
    rank: usize,
    pub(crate) value: Field<'de, T>,
}

impl<T> Default for Aliased<'_, T> {
    fn default() -> Self {
        Aliased {
            name: "",
            rank: usize::MAX,
            value: Field::Absent,
        }
    }
}

/// Where a struct keeps a field's value as it is read.
pub(crate) trait Slot<'de> {
    /// Reads the value of the key `name` just read from `map`; `rank` is
    /// the spelling's place in the field's list of spellings.
    fn read(&mut self, map: &mut Map<'_, 'de>, name: &'static str, rank: usize)
        -> Result<(), Stop>;
}

impl<'de, T: Shape<'de>> Slot<'de> for Field<'de, T> {
    // A repeated key: the last wins, as in a JSON object read into a map.
    fn read(
        &mut self,
        map: &mut Map<'_, 'de>,
        _name: &'static str,
        _rank: usize,
    ) -> Result<(), Stop> {
        map.next_value(self)
    }
}

impl<'de, T: Shape<'de>> Slot<'de> for Aliased<'de, T> {
    fn read(
        &mut self,
        map: &mut Map<'_, 'de>,
        name: &'static str,
        rank: usize,
    ) -> Result<(), Stop> {
        let mut value = Field::Absent;
        map.next_value(&mut value)?;
        if !value.is_absent() && (self.value.is_absent() || rank <= self.rank) {
            self.name = name;
            self.rank = rank;
            self.value = value;
        }
        Ok(())
    }
}

/// A struct's fields, by their place in its [`object!`] list.
pub(crate) trait Slots<'de> {
    fn slot(&mut self, field: u8) -> Option<&mut dyn Slot<'de>>;
}

/// Reads an object's entries into the fields `keys` names (each key's
/// spelling and field), skipping the others unbuilt. One function for
/// every struct: the keys are data, not code per struct.
fn read_fields<'de>(
    map: &mut Map<'_, 'de>,
    keys: &[(&'static str, u8)],
    slots: &mut dyn Slots<'de>,
) -> Result<(), Stop> {
    while let Some(key) = map.next_key()? {
        let Some(position) = keys.iter().position(|(name, _)| *name == key) else {
            map.skip_value()?;
            continue;
        };
        let (name, field) = keys[position];
        let rank = keys[..position]
            .iter()
            .filter(|(_, other)| *other == field)
            .count();
        match slots.slot(field) {
            Some(slot) => slot.read(map, name, rank)?,
            None => map.skip_value()?,
        }
    }
    Ok(())
}

/// A struct read from a JSON object: each field from the keys listed for
/// it (several for an [`Aliased`] field, in order of preference), unknown
/// keys skipped unbuilt.
macro_rules! object {
    ($(#[$meta:meta])* $name:ident<$de:lifetime> { $($field:ident: $type:ty = $($key:literal)|+,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub(crate) struct $name<$de> {
            $(pub(crate) $field: $type,)*
            _input: PhantomData<&$de str>,
        }

        const _: () = {
            /// The fields, numbered.
            #[allow(non_camel_case_types)]
            enum Name {
                $($field,)*
            }
            const KEYS: &[(&str, u8)] = &[$($(($key, Name::$field as u8),)+)*];

            impl<$de> Slots<$de> for $name<$de> {
                fn slot(&mut self, field: u8) -> Option<&mut dyn Slot<$de>> {
                    $(if field == Name::$field as u8 {
                        return Some(&mut self.$field);
                    })*
                    None
                }
            }

            impl<$de> Shape<$de> for $name<$de> {
                fn from_map(map: &mut Map<'_, $de>) -> Result<Result<Self, Found<$de>>, Stop> {
                    let mut out = Self::default();
                    read_fields(map, KEYS, &mut out)?;
                    Ok(Ok(out))
                }
            }
        };
    };
}

/// An object whose keys are data (Jaeger's processes by id, Zipkin's
/// tags): its entries in file order.
#[derive(Debug, Default)]
pub(crate) struct Entries<'de, T>(pub(crate) Vec<(Text<'de>, Field<'de, T>)>);

impl<'de, T> Entries<'de, T> {
    /// The value of `key`, with the key as written (a repeated key: the
    /// last, as in a JSON object read into a map).
    pub(crate) fn get(&self, key: &str) -> Option<(&str, &Field<'de, T>)> {
        self.0
            .iter()
            .rev()
            .find(|(written, _)| written == key)
            .map(|(written, value)| (&**written, value))
    }
}

impl<'de, T: Shape<'de>> Shape<'de> for Entries<'de, T> {
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let mut value = Field::Absent;
            map.next_value(&mut value)?;
            entries.push((key, value));
        }
        Ok(Ok(Entries(entries)))
    }
}

// ---------------------------------------------------------------------------
// OTLP JSON, and the envelopes around it

object! {
    /// `ExportTraceServiceRequest`.
    OtlpRequest<'de> {
        resource_spans: Aliased<'de, List<'de, ResourceSpans<'de>>> = "resourceSpans" | "resource_spans",
    }
}

object! {
    /// Tempo's trace by id: the same list, named `batches`.
    Tempo<'de> {
        resource_spans: Aliased<'de, List<'de, ResourceSpans<'de>>> = "batches",
    }
}

object! {
    /// Jaeger api_v3's answer: a request in `result`, or an `error`.
    ApiV3<'de> {
        result: Field<'de, OtlpRequest<'de>> = "result",
        error: Field<'de, ApiError<'de>> = "error",
    }
}

object! {
    ApiError<'de> {
        message: Scalar<'de> = "message",
    }
}

object! {
    ResourceSpans<'de> {
        resource: Field<'de, OtlpResource<'de>> = "resource",
        // `instrumentationLibrarySpans` is what OTLP called scopes before
        // 0.15; older Tempo and Jaeger versions still write it.
        scope_spans: Aliased<'de, List<'de, ScopeSpans<'de>>> = "scopeSpans" | "scope_spans" | "instrumentationLibrarySpans",
    }
}

object! {
    OtlpResource<'de> {
        attributes: Field<'de, List<'de, KeyValue<'de>>> = "attributes",
    }
}

object! {
    ScopeSpans<'de> {
        scope: Aliased<'de, OtlpScope<'de>> = "scope" | "instrumentationLibrary",
        spans: Field<'de, List<'de, OtlpSpan<'de>>> = "spans",
    }
}

object! {
    OtlpScope<'de> {
        name: Scalar<'de> = "name",
        version: Scalar<'de> = "version",
        attributes: Field<'de, List<'de, KeyValue<'de>>> = "attributes",
    }
}

object! {
    OtlpSpan<'de> {
        trace_id: Scalar<'de> = "traceId",
        span_id: Scalar<'de> = "spanId",
        parent_span_id: Scalar<'de> = "parentSpanId",
        name: Scalar<'de> = "name",
        start: Scalar<'de> = "startTimeUnixNano",
        end: Scalar<'de> = "endTimeUnixNano",
        kind: Scalar<'de> = "kind",
        trace_state: Scalar<'de> = "traceState",
        flags: Scalar<'de> = "flags",
        status: Field<'de, OtlpStatus<'de>> = "status",
        attributes: Field<'de, List<'de, KeyValue<'de>>> = "attributes",
        events: Field<'de, List<'de, OtlpEvent<'de>>> = "events",
        links: Field<'de, List<'de, OtlpLink<'de>>> = "links",
    }
}

object! {
    OtlpStatus<'de> {
        code: Scalar<'de> = "code",
        message: Scalar<'de> = "message",
    }
}

object! {
    OtlpEvent<'de> {
        time: Scalar<'de> = "timeUnixNano",
        name: Scalar<'de> = "name",
        attributes: Field<'de, List<'de, KeyValue<'de>>> = "attributes",
    }
}

object! {
    OtlpLink<'de> {
        trace_id: Scalar<'de> = "traceId",
        span_id: Scalar<'de> = "spanId",
        attributes: Field<'de, List<'de, KeyValue<'de>>> = "attributes",
    }
}

object! {
    KeyValue<'de> {
        key: Scalar<'de> = "key",
        value: Field<'de, AnyValue<'de>> = "value",
    }
}

object! {
    /// `arrayValue`'s and `kvlistValue`'s object.
    Values<'de> {
        values: Field<'de, List<'de, AnyValue<'de>>> = "values",
    }
}

object! {
    KvValues<'de> {
        values: Field<'de, List<'de, KeyValue<'de>>> = "values",
    }
}

/// An OTLP `AnyValue`: the one field it holds (when it holds several, the
/// first of the mapping's order: string, bool, int, double, bytes, array,
/// key-value list, each lowerCamelCase before the proto name).
#[derive(Debug, Default)]
pub(crate) enum AnyValue<'de> {
    /// None of its fields.
    #[default]
    Empty,
    String(Scalar<'de>),
    Bool(Scalar<'de>),
    Int(Scalar<'de>),
    Double(Scalar<'de>),
    Bytes(Scalar<'de>),
    /// The spelling (`arrayValue`, `array_value`) and the object.
    Array(&'static str, Field<'de, Values<'de>>),
    KvList(&'static str, Field<'de, KvValues<'de>>),
}

impl<'de> Shape<'de> for AnyValue<'de> {
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        let mut out = AnyValue::Empty;
        let mut out_rank = usize::MAX;
        while let Some(key) = map.next_key()? {
            // The mapping's order; the proto name just after the camel one.
            let (rank, mut value) = match &*key {
                "stringValue" => (0, AnyValue::String(Field::Absent)),
                "string_value" => (1, AnyValue::String(Field::Absent)),
                "boolValue" => (2, AnyValue::Bool(Field::Absent)),
                "bool_value" => (3, AnyValue::Bool(Field::Absent)),
                "intValue" => (4, AnyValue::Int(Field::Absent)),
                "int_value" => (5, AnyValue::Int(Field::Absent)),
                "doubleValue" => (6, AnyValue::Double(Field::Absent)),
                "double_value" => (7, AnyValue::Double(Field::Absent)),
                "bytesValue" => (8, AnyValue::Bytes(Field::Absent)),
                "bytes_value" => (9, AnyValue::Bytes(Field::Absent)),
                "arrayValue" => (10, AnyValue::Array("arrayValue", Field::Absent)),
                "array_value" => (11, AnyValue::Array("array_value", Field::Absent)),
                "kvlistValue" => (12, AnyValue::KvList("kvlistValue", Field::Absent)),
                "kvlist_value" => (13, AnyValue::KvList("kvlist_value", Field::Absent)),
                _ => {
                    map.skip_value()?;
                    continue;
                }
            };
            let present = match &mut value {
                AnyValue::Empty => false,
                AnyValue::String(field) | AnyValue::Bytes(field) => read_present(map, field)?,
                AnyValue::Bool(field) => read_present(map, field)?,
                AnyValue::Int(field) => read_present(map, field)?,
                AnyValue::Double(field) => read_present(map, field)?,
                AnyValue::Array(_, field) => read_present(map, field)?,
                AnyValue::KvList(_, field) => read_present(map, field)?,
            };
            if present && rank <= out_rank {
                out = value;
                out_rank = rank;
            }
        }
        Ok(Ok(out))
    }
}

/// Reads the value of the key just read into `field`; whether it is there
/// (not `null`).
fn read_present<'de, T: Shape<'de>>(
    map: &mut Map<'_, 'de>,
    field: &mut Field<'de, T>,
) -> Result<bool, Stop> {
    map.next_value(field)?;
    Ok(!field.is_absent())
}

// ---------------------------------------------------------------------------
// Jaeger JSON

/// A Jaeger file: the query API's object (`{"data": […]}`, or one trace on
/// its own), or traces as a bare list.
#[derive(Debug)]
pub(crate) enum JaegerFile<'de> {
    List(List<'de, JaegerTrace<'de>>),
    Object(JaegerTop<'de>),
}

impl<'de> Shape<'de> for JaegerFile<'de> {
    fn from_seq(seq: &mut Seq<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        Ok(Vec::from_seq(seq)?.map(JaegerFile::List))
    }
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        Ok(JaegerTop::from_map(map)?.map(JaegerFile::Object))
    }
}

object! {
    /// The query API's answer, or a trace on its own (`traceID`, `spans`,
    /// `processes` at the top).
    JaegerTop<'de> {
        data: Field<'de, List<'de, JaegerTrace<'de>>> = "data",
        trace_id: Scalar<'de> = "traceID",
        spans: Field<'de, List<'de, JaegerSpan<'de>>> = "spans",
        processes: Field<'de, Processes<'de>> = "processes",
    }
}

object! {
    JaegerTrace<'de> {
        trace_id: Scalar<'de> = "traceID",
        spans: Field<'de, List<'de, JaegerSpan<'de>>> = "spans",
        processes: Field<'de, Processes<'de>> = "processes",
    }
}

/// A trace's processes by id.
pub(crate) type Processes<'de> = Entries<'de, JaegerProcess<'de>>;

object! {
    JaegerProcess<'de> {
        service_name: Scalar<'de> = "serviceName",
        tags: Field<'de, List<'de, JaegerTag<'de>>> = "tags",
    }
}

object! {
    JaegerTag<'de> {
        key: Scalar<'de> = "key",
        kind: Scalar<'de> = "type",
        value: Field<'de, Found<'de>> = "value",
    }
}

object! {
    JaegerSpan<'de> {
        trace_id: Scalar<'de> = "traceID",
        span_id: Scalar<'de> = "spanID",
        operation_name: Scalar<'de> = "operationName",
        start: Scalar<'de> = "startTime",
        duration: Scalar<'de> = "duration",
        flags: Scalar<'de> = "flags",
        references: Field<'de, List<'de, JaegerReference<'de>>> = "references",
        tags: Field<'de, List<'de, JaegerTag<'de>>> = "tags",
        logs: Field<'de, List<'de, JaegerLog<'de>>> = "logs",
        process: Field<'de, JaegerProcess<'de>> = "process",
        process_id: Scalar<'de> = "processID",
    }
}

object! {
    JaegerReference<'de> {
        ref_type: Scalar<'de> = "refType",
        trace_id: Scalar<'de> = "traceID",
        span_id: Scalar<'de> = "spanID",
        tags: Field<'de, List<'de, JaegerTag<'de>>> = "tags",
    }
}

object! {
    JaegerLog<'de> {
        timestamp: Scalar<'de> = "timestamp",
        fields: Field<'de, List<'de, JaegerTag<'de>>> = "fields",
    }
}

// ---------------------------------------------------------------------------
// Zipkin v2 JSON

object! {
    ZipkinSpan<'de> {
        trace_id: Scalar<'de> = "traceId",
        id: Scalar<'de> = "id",
        parent_id: Scalar<'de> = "parentId",
        name: Scalar<'de> = "name",
        kind: Scalar<'de> = "kind",
        timestamp: Scalar<'de> = "timestamp",
        duration: Scalar<'de> = "duration",
        shared: Scalar<'de> = "shared",
        local_endpoint: Field<'de, ZipkinEndpoint<'de>> = "localEndpoint",
        remote_endpoint: Field<'de, ZipkinEndpoint<'de>> = "remoteEndpoint",
        tags: Field<'de, ZipkinTags<'de>> = "tags",
        annotations: Field<'de, List<'de, ZipkinAnnotation<'de>>> = "annotations",
    }
}

object! {
    ZipkinEndpoint<'de> {
        service_name: Scalar<'de> = "serviceName",
        ipv4: Scalar<'de> = "ipv4",
        ipv6: Scalar<'de> = "ipv6",
        port: Scalar<'de> = "port",
    }
}

object! {
    ZipkinAnnotation<'de> {
        timestamp: Scalar<'de> = "timestamp",
        value: Scalar<'de> = "value",
    }
}

/// Zipkin's tags: any keys, each value read as it is.
pub(crate) type ZipkinTags<'de> = Entries<'de, Found<'de>>;

// ---------------------------------------------------------------------------
// A file of no format tracelab reads

/// Its top-level keys, to say what was found.
#[derive(Debug, Default)]
pub(crate) struct Keys(pub(crate) Vec<String>);

impl<'de> Shape<'de> for Keys {
    fn from_map(map: &mut Map<'_, 'de>) -> Result<Result<Self, Found<'de>>, Stop> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key()? {
            map.skip_value()?;
            keys.push(key.into_owned());
        }
        Ok(Ok(Keys(keys)))
    }
}
