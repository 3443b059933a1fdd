//! Storing: acknowledged means committed.
//!
//! Each `ingest_*` call writes a whole export request in one SQLite
//! transaction and returns after it commits, so a receiver that
//! acknowledges on `Ok` never acknowledges anything a crash could take
//! back. Invalid items are turned down one by one (the rest is stored) and
//! named by their place in the request, in OTLP/JSON's field names, for
//! the receiver's partial-success answer.

use std::collections::{HashMap, HashSet};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use crate::value::{
    attribute_tag_hash, check_value, fnv1a, hex, index_text, nesting, value_to_text,
    MAX_VALUE_NESTING,
};
use crate::{now_unix_nanos, to_i64, Store, StoreError};

/// The service of a resource without `service.name`, as the OpenTelemetry
/// specification names it.
pub(crate) const UNKNOWN_SERVICE: &str = "unknown_service";

/// At most this many problems are spelled out in a message; the rest are
/// counted.
const LISTED_PROBLEMS: usize = 10;

/// What [`Store::ingest_traces`] made of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Spans kept: stored now, or already stored by an earlier export of
    /// the same (trace id, span id).
    pub accepted_spans: u64,
    /// Spans turned down as invalid; OTLP's `rejected_spans`.
    pub rejected_spans: u64,
    /// Of the accepted spans, those already stored (a retried export, or
    /// the same span twice in one request), which were not written again.
    pub duplicate_spans: u64,
    /// Why spans were rejected, and where in the request they are; OTLP's
    /// partial-success `error_message`. `None` when none were.
    pub message: Option<String>,
}

/// What [`Store::ingest_logs`] made of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogsOutcome {
    pub accepted_log_records: u64,
    /// OTLP's `rejected_log_records`.
    pub rejected_log_records: u64,
    /// Of the accepted records, those already stored byte for byte (with
    /// the same resource and scope), which were not written again.
    pub duplicate_log_records: u64,
    pub message: Option<String>,
}

/// What [`Store::ingest_metrics`] made of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsOutcome {
    pub accepted_data_points: u64,
    /// OTLP's `rejected_data_points`.
    pub rejected_data_points: u64,
    /// Of the accepted points, those in metrics already stored byte for
    /// byte (a retried export), which were not written again.
    pub duplicate_data_points: u64,
    pub message: Option<String>,
}

impl Store {
    /// Stores every valid span of `request` in one transaction and returns
    /// once it is committed; received now (see [`Store::ingest_traces_at`]).
    pub fn ingest_traces(
        &self,
        request: &ExportTraceServiceRequest,
    ) -> Result<IngestOutcome, StoreError> {
        self.ingest_traces_at(request, now_unix_nanos())
    }

    /// As [`Store::ingest_traces`], received at `received_unix_nanos`
    /// (retention ages traces by when they were received).
    pub fn ingest_traces_at(
        &self,
        request: &ExportTraceServiceRequest,
        received_unix_nanos: u64,
    ) -> Result<IngestOutcome, StoreError> {
        let mut conn = self.write();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("starting to store spans"))?;
        let outcome = write_traces(&tx, request, to_i64(received_unix_nanos))
            .map_err(self.sql("storing spans"))?;
        tx.commit().map_err(self.sql("committing spans"))?;
        self.committed(&conn);
        Ok(outcome)
    }

    /// Stores several requests in one transaction (group commit) and
    /// returns, once it is committed, each request's outcome in order: what
    /// [`Store::ingest_traces`] would have returned for it alone.
    ///
    /// For a receiver with a queue: requests that arrive while a commit is
    /// under way are written together in the next, so the cost of a commit
    /// (and of the transaction's fixed work) is shared, and each request is
    /// still acknowledged only after the commit that holds it. If writing
    /// one request fails, the whole transaction is rolled back and each
    /// request is written again in its own transaction, so one request's
    /// error is never another's, and an `Ok` is always committed.
    pub fn ingest_traces_batch(
        &self,
        requests: &[&ExportTraceServiceRequest],
    ) -> Vec<Result<IngestOutcome, StoreError>> {
        self.ingest_traces_batch_at(requests, now_unix_nanos())
    }

    /// As [`Store::ingest_traces_batch`], received at `received_unix_nanos`.
    pub fn ingest_traces_batch_at(
        &self,
        requests: &[&ExportTraceServiceRequest],
        received_unix_nanos: u64,
    ) -> Vec<Result<IngestOutcome, StoreError>> {
        match requests {
            [] => return Vec::new(),
            [request] => return vec![self.ingest_traces_at(request, received_unix_nanos)],
            _ => {}
        }
        let received = to_i64(received_unix_nanos);
        let together = (|| {
            let mut conn = self.write();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(self.sql("starting to store spans"))?;
            let outcomes = requests
                .iter()
                .map(|request| write_traces(&tx, request, received))
                .collect::<rusqlite::Result<Vec<IngestOutcome>>>()
                .map_err(self.sql("storing spans"))?;
            tx.commit().map_err(self.sql("committing spans"))?;
            self.committed(&conn);
            Ok::<_, StoreError>(outcomes)
        })();
        match together {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // Rolled back (the transaction is dropped on the error path):
            // one by one, so each gets its own answer.
            Err(_) => requests
                .iter()
                .map(|request| self.ingest_traces_at(request, received_unix_nanos))
                .collect(),
        }
    }

    /// Stores every valid log record of `request` in one transaction and
    /// returns once it is committed. A record's trace and span ids are kept
    /// in their own columns, so [`Store::logs_for_trace`] finds it.
    pub fn ingest_logs(
        &self,
        request: &ExportLogsServiceRequest,
    ) -> Result<LogsOutcome, StoreError> {
        self.ingest_logs_at(request, now_unix_nanos())
    }

    /// As [`Store::ingest_logs`], received at `received_unix_nanos`.
    pub fn ingest_logs_at(
        &self,
        request: &ExportLogsServiceRequest,
        received_unix_nanos: u64,
    ) -> Result<LogsOutcome, StoreError> {
        let mut conn = self.write();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("starting to store logs"))?;
        let outcome = write_logs(&tx, request, to_i64(received_unix_nanos))
            .map_err(self.sql("storing logs"))?;
        tx.commit().map_err(self.sql("committing logs"))?;
        self.committed(&conn);
        Ok(outcome)
    }

    /// Stores every valid metric of `request` (each with its batch of data
    /// points) in one transaction and returns once it is committed.
    pub fn ingest_metrics(
        &self,
        request: &ExportMetricsServiceRequest,
    ) -> Result<MetricsOutcome, StoreError> {
        self.ingest_metrics_at(request, now_unix_nanos())
    }

    /// As [`Store::ingest_metrics`], received at `received_unix_nanos`.
    pub fn ingest_metrics_at(
        &self,
        request: &ExportMetricsServiceRequest,
        received_unix_nanos: u64,
    ) -> Result<MetricsOutcome, StoreError> {
        let mut conn = self.write();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("starting to store metrics"))?;
        let outcome = write_metrics(&tx, request, to_i64(received_unix_nanos))
            .map_err(self.sql("storing metrics"))?;
        tx.commit().map_err(self.sql("committing metrics"))?;
        self.committed(&conn);
        Ok(outcome)
    }
}

/// The items turned down so far, and the first few reasons.
#[derive(Default)]
struct Rejections {
    items: u64,
    problems: Vec<String>,
    unlisted: usize,
}

impl Rejections {
    fn reject(&mut self, items: u64, problem: impl FnOnce() -> String) {
        self.items += items;
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(problem());
        } else {
            self.unlisted += 1;
        }
    }

    fn message(&self, singular: &str, plural: &str) -> Option<String> {
        if self.problems.is_empty() {
            return None;
        }
        let noun = if self.items == 1 { singular } else { plural };
        let mut message = format!(
            "{} {noun} rejected: {}",
            self.items,
            self.problems.join("; ")
        );
        if self.unlisted > 0 {
            message.push_str(&format!("; and {} more problems", self.unlisted));
        }
        Some(message)
    }
}

/// A resource as stored: its row and its service.
struct StoredResourceRow {
    id: i64,
    service: String,
}

fn write_traces(
    tx: &Transaction<'_>,
    request: &ExportTraceServiceRequest,
    received: i64,
) -> rusqlite::Result<IngestOutcome> {
    let mut outcome = IngestOutcome::default();
    let mut rejections = Rejections::default();
    // Written once per request rather than once per span: the spans each
    // trace gained, in the order first seen, and the operations seen.
    let mut new_spans_per_trace: HashMap<[u8; 16], u64> = HashMap::new();
    let mut traces_in_order: Vec<[u8; 16]> = Vec::new();
    // The tag index's rows of the spans written, (hash, span row).
    let mut tags: Vec<(i64, i64)> = Vec::new();
    for (resource_idx, resource_spans) in request.resource_spans.iter().enumerate() {
        let mut operations: HashSet<(&str, i32)> = HashSet::new();
        let resource_field = || format!("resourceSpans[{resource_idx}].resource.attributes");
        if let Some(problem) = resource_spans
            .resource
            .as_ref()
            .and_then(|resource| check_resource(resource, resource_field))
        {
            let n_spans: usize = resource_spans
                .scope_spans
                .iter()
                .map(|scope_spans| scope_spans.spans.len())
                .sum();
            if n_spans > 0 {
                rejections.reject(n_spans as u64, || {
                    format!("{problem} (so its {n_spans} spans)")
                });
            }
            continue;
        }
        let mut resource_row: Option<StoredResourceRow> = None;
        for (scope_idx, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            let scope_field = || {
                format!("resourceSpans[{resource_idx}].scopeSpans[{scope_idx}].scope.attributes")
            };
            if let Some(problem) = scope_spans
                .scope
                .as_ref()
                .and_then(|scope| check_scope(scope, scope_field))
            {
                let n_spans = scope_spans.spans.len();
                if n_spans > 0 {
                    rejections.reject(n_spans as u64, || {
                        format!("{problem} (so its {n_spans} spans)")
                    });
                }
                continue;
            }
            let mut scope_id: Option<i64> = None;
            for (span_idx, span) in scope_spans.spans.iter().enumerate() {
                if let Err(problem) = check_span(span) {
                    rejections.reject(1, || {
                        format!("resourceSpans[{resource_idx}].scopeSpans[{scope_idx}].spans[{span_idx}].{problem}")
                    });
                    continue;
                }
                // Interned on the first valid span only: a resource whose
                // spans are all rejected leaves nothing behind.
                let resource = first_use(&mut resource_row, || {
                    intern_resource(
                        tx,
                        resource_spans.resource.as_ref(),
                        &resource_spans.schema_url,
                    )
                })?;
                let scope = *first_use(&mut scope_id, || {
                    intern_scope(tx, scope_spans.scope.as_ref(), &scope_spans.schema_url)
                })?;
                outcome.accepted_spans += 1;
                if !insert_span(tx, span, resource, scope, &mut tags)? {
                    outcome.duplicate_spans += 1;
                    continue;
                }
                operations.insert((span.name.as_str(), span.kind));
                // Checked: 16 bytes.
                let trace_id: [u8; 16] = span.trace_id.as_slice().try_into().unwrap_or_default();
                *new_spans_per_trace.entry(trace_id).or_insert_with(|| {
                    traces_in_order.push(trace_id);
                    0
                }) += 1;
            }
        }
        if let Some(resource) = &resource_row {
            let mut insert_operation = tx.prepare_cached(
                "INSERT OR IGNORE INTO operations (service, name, kind) VALUES (?1, ?2, ?3)",
            )?;
            for (name, kind) in operations {
                insert_operation.execute(params![resource.service, name, kind])?;
            }
        }
    }
    insert_span_tags(tx, &mut tags)?;
    let mut upsert_trace = tx.prepare_cached(
        "INSERT INTO traces (trace_id, first_received_unix_nano, last_received_unix_nano, span_count) \
         VALUES (?1, ?2, ?2, ?3) \
         ON CONFLICT (trace_id) DO UPDATE SET \
         last_received_unix_nano = max(last_received_unix_nano, excluded.last_received_unix_nano), \
         span_count = span_count + excluded.span_count",
    )?;
    for trace_id in traces_in_order {
        let new_spans = new_spans_per_trace.get(&trace_id).copied().unwrap_or(0);
        upsert_trace.execute(params![hex(&trace_id), received, to_i64(new_spans)])?;
    }
    outcome.rejected_spans = rejections.items;
    outcome.message = rejections.message("span", "spans");
    Ok(outcome)
}

/// Why `span` cannot be stored, as `field: problem` (relative to the span).
fn check_span(span: &Span) -> Result<(), String> {
    check_id("traceId", &span.trace_id, 16)?;
    check_id("spanId", &span.span_id, 8)?;
    if !matches!(span.parent_span_id.len(), 0 | 8) {
        return Err(format!(
            "parentSpanId: {} bytes, expected 8 (or none for a root span)",
            span.parent_span_id.len()
        ));
    }
    check_time("startTimeUnixNano", span.start_time_unix_nano)?;
    check_time("endTimeUnixNano", span.end_time_unix_nano)?;
    if span.end_time_unix_nano < span.start_time_unix_nano {
        return Err(format!(
            "endTimeUnixNano: {} is before startTimeUnixNano {}",
            span.end_time_unix_nano, span.start_time_unix_nano
        ));
    }
    check_nesting(&span.attributes, || "attributes".to_owned())?;
    for (event_idx, event) in span.events.iter().enumerate() {
        check_nesting(&event.attributes, || {
            format!("events[{event_idx}].attributes")
        })?;
    }
    for (link_idx, link) in span.links.iter().enumerate() {
        check_nesting(&link.attributes, || format!("links[{link_idx}].attributes"))?;
    }
    Ok(())
}

fn check_id(field: &str, id: &[u8], len: usize) -> Result<(), String> {
    if id.len() != len {
        return Err(format!("{field}: {} bytes, expected {len}", id.len()));
    }
    if id.iter().all(|byte| *byte == 0) {
        return Err(format!("{field}: all zeros, which is not a valid id"));
    }
    Ok(())
}

fn check_time(field: &str, unix_nanos: u64) -> Result<(), String> {
    if i64::try_from(unix_nanos).is_err() {
        return Err(format!(
            "{field}: {unix_nanos} is after the year 2262, the latest time the store can keep"
        ));
    }
    Ok(())
}

/// `Err` names the first attribute nested too deeply to read back.
fn check_nesting(attributes: &[KeyValue], field: impl FnOnce() -> String) -> Result<(), String> {
    match attributes.iter().position(|pair| pair.value.as_ref().is_some_and(|value| nesting(value) > MAX_VALUE_NESTING)) {
        None => Ok(()),
        Some(idx) => Err(format!(
            "{}[{idx}].value: arrays and key-value lists nested more than {MAX_VALUE_NESTING} deep, \
             more than the store can read back",
            field()
        )),
    }
}

fn check_resource(resource: &Resource, field: impl FnOnce() -> String) -> Option<String> {
    check_nesting(&resource.attributes, field).err()
}

/// What `slot` holds, made by `make` when it is first needed: the resource
/// and scope rows are interned on the first valid item of theirs only, so
/// that a resource or scope whose items are all rejected leaves nothing
/// behind.
fn first_use<T, E>(slot: &mut Option<T>, make: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
    match slot {
        Some(value) => Ok(value),
        None => Ok(slot.insert(make()?)),
    }
}

fn check_scope(scope: &InstrumentationScope, field: impl FnOnce() -> String) -> Option<String> {
    check_nesting(&scope.attributes, field).err()
}

/// The resource's `service.name`, or [`UNKNOWN_SERVICE`] when it has none
/// (or an empty one, or one that is not a string).
pub(crate) fn service_name(resource: Option<&Resource>) -> String {
    resource
        .into_iter()
        .flat_map(|resource| &resource.attributes)
        .find(|pair| pair.key == "service.name")
        .and_then(
            |pair| match pair.value.as_ref().and_then(|value| value.value.as_ref()) {
                Some(any_value::Value::StringValue(name)) if !name.is_empty() => Some(name.clone()),
                _ => None,
            },
        )
        .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned())
}

/// The row of `resource` (absent means empty), adding it if new.
fn intern_resource(
    tx: &Transaction<'_>,
    resource: Option<&Resource>,
    schema_url: &str,
) -> rusqlite::Result<StoredResourceRow> {
    let encoded = resource.map(Message::encode_to_vec).unwrap_or_default();
    let hash = fnv1a(&[&encoded, schema_url.as_bytes()]);
    let service = service_name(resource);
    let existing: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM resources WHERE hash = ?1 AND schema_url = ?2 AND encoded = ?3",
        )?
        .query_row(params![hash, schema_url, encoded], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(StoredResourceRow { id, service });
    }
    tx.prepare_cached(
        "INSERT INTO resources (hash, service, schema_url, encoded) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![hash, service, schema_url, encoded])?;
    let id = tx.last_insert_rowid();
    let mut insert_attribute = tx.prepare_cached(
        "INSERT INTO resource_attributes (resource_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for pair in resource
        .into_iter()
        .flat_map(|resource| &resource.attributes)
    {
        insert_attribute.execute(params![id, pair.key, attribute_text(pair)])?;
    }
    Ok(StoredResourceRow { id, service })
}

/// The row of `scope` (absent means empty), adding it if new.
fn intern_scope(
    tx: &Transaction<'_>,
    scope: Option<&InstrumentationScope>,
    schema_url: &str,
) -> rusqlite::Result<i64> {
    let encoded = scope.map(Message::encode_to_vec).unwrap_or_default();
    let hash = fnv1a(&[&encoded, schema_url.as_bytes()]);
    let existing: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM scopes WHERE hash = ?1 AND schema_url = ?2 AND encoded = ?3",
        )?
        .query_row(params![hash, schema_url, encoded], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let (name, version) = scope.map_or(("", ""), |scope| {
        (scope.name.as_str(), scope.version.as_str())
    });
    tx.prepare_cached(
        "INSERT INTO scopes (hash, name, version, schema_url, encoded) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![hash, name, version, schema_url, encoded])?;
    Ok(tx.last_insert_rowid())
}

/// What the attribute index holds for `pair`'s value.
fn attribute_text(pair: &KeyValue) -> String {
    index_text(pair.value.as_ref().map(value_to_text).unwrap_or_default())
}

/// Hex of an optional id: `None` when absent or all zeros.
fn optional_id(id: &[u8]) -> Option<String> {
    (!id.is_empty() && id.iter().any(|byte| *byte != 0)).then(|| hex(id))
}

/// The tag index's rows for a span: one per attribute (a key repeated with
/// the same text is one row).
pub(crate) fn span_tag_hashes(span: &Span) -> impl Iterator<Item = i64> + '_ {
    span.attributes
        .iter()
        .map(|pair| attribute_tag_hash(&pair.key, pair.value.as_ref()))
}

/// Tag rows written by one statement: `INSERT ... VALUES (?, ?), ...`
/// with this many rows. Each statement run has a fixed cost (finding it in
/// the statement cache, binding, stepping, resetting) about that of a row,
/// so the rows of a whole request go in statements of 64 (128 parameters,
/// far below SQLite's limit of 32,766).
const TAGS_PER_STATEMENT: usize = 64;

/// Writes `rows` ((hash, span row) pairs) to the tag index, sorted first so
/// that consecutive rows land on the same B-tree pages.
fn insert_span_tags(tx: &Transaction<'_>, rows: &mut [(i64, i64)]) -> rusqlite::Result<()> {
    static INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let rows: Vec<String> = (0..TAGS_PER_STATEMENT)
            .map(|row| format!("(?{}, ?{})", 2 * row + 1, 2 * row + 2))
            .collect();
        format!(
            "INSERT OR IGNORE INTO span_tags (hash, span_row) VALUES {}",
            rows.join(", ")
        )
    });
    rows.sort_unstable();
    let mut chunks = rows.chunks_exact(TAGS_PER_STATEMENT);
    if chunks.len() > 0 {
        let mut insert = tx.prepare_cached(&INSERT_MANY)?;
        for chunk in chunks.by_ref() {
            for (idx, (hash, span_row)) in chunk.iter().enumerate() {
                insert.raw_bind_parameter(2 * idx + 1, hash)?;
                insert.raw_bind_parameter(2 * idx + 2, span_row)?;
            }
            insert.raw_execute()?;
        }
    }
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO span_tags (hash, span_row) VALUES (?1, ?2)")?;
    for (hash, span_row) in chunks.remainder() {
        insert.execute(params![hash, span_row])?;
    }
    Ok(())
}

/// Writes one checked span and adds its tag index rows to `tags` (written
/// together at the end of the request); `false` if (trace id, span id) was
/// already stored.
fn insert_span(
    tx: &Transaction<'_>,
    span: &Span,
    resource: &StoredResourceRow,
    scope_id: i64,
    tags: &mut Vec<(i64, i64)>,
) -> rusqlite::Result<bool> {
    let trace_id = hex(&span.trace_id);
    // Checked: both times fit in an i64 and the end is not before the start.
    let start = to_i64(span.start_time_unix_nano);
    let end = to_i64(span.end_time_unix_nano);
    let (status_code, status_message) = span
        .status
        .as_ref()
        .map_or((0, ""), |status| (status.code, status.message.as_str()));
    let inserted = tx
        .prepare_cached(
            "INSERT INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_unix_nano, \
             end_unix_nano, duration_nano, status_code, status_message, flags, trace_state, resource_id, \
             scope_id, encoded) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
             ON CONFLICT (trace_id, span_id) DO NOTHING",
        )?
        .execute(params![
            trace_id,
            hex(&span.span_id),
            optional_id(&span.parent_span_id),
            resource.service,
            span.name,
            span.kind,
            start,
            end,
            end - start,
            status_code,
            status_message,
            i64::from(span.flags),
            span.trace_state,
            resource.id,
            scope_id,
            span.encode_to_vec(),
        ])?;
    if inserted == 0 {
        return Ok(false);
    }
    let span_row = tx.last_insert_rowid();
    tags.extend(span_tag_hashes(span).map(|hash| (hash, span_row)));
    Ok(true)
}

fn write_logs(
    tx: &Transaction<'_>,
    request: &ExportLogsServiceRequest,
    received: i64,
) -> rusqlite::Result<LogsOutcome> {
    let mut outcome = LogsOutcome::default();
    let mut rejections = Rejections::default();
    for (resource_idx, resource_logs) in request.resource_logs.iter().enumerate() {
        let resource_field = || format!("resourceLogs[{resource_idx}].resource.attributes");
        if let Some(problem) = resource_logs
            .resource
            .as_ref()
            .and_then(|resource| check_resource(resource, resource_field))
        {
            let n_records: usize = resource_logs
                .scope_logs
                .iter()
                .map(|scope_logs| scope_logs.log_records.len())
                .sum();
            if n_records > 0 {
                rejections.reject(n_records as u64, || {
                    format!("{problem} (so its {n_records} log records)")
                });
            }
            continue;
        }
        let mut resource_row: Option<StoredResourceRow> = None;
        for (scope_idx, scope_logs) in resource_logs.scope_logs.iter().enumerate() {
            let scope_field =
                || format!("resourceLogs[{resource_idx}].scopeLogs[{scope_idx}].scope.attributes");
            if let Some(problem) = scope_logs
                .scope
                .as_ref()
                .and_then(|scope| check_scope(scope, scope_field))
            {
                let n_records = scope_logs.log_records.len();
                if n_records > 0 {
                    rejections.reject(n_records as u64, || {
                        format!("{problem} (so its {n_records} log records)")
                    });
                }
                continue;
            }
            let mut scope_id: Option<i64> = None;
            for (record_idx, record) in scope_logs.log_records.iter().enumerate() {
                if let Err(problem) = check_log(record) {
                    rejections.reject(1, || {
                        format!("resourceLogs[{resource_idx}].scopeLogs[{scope_idx}].logRecords[{record_idx}].{problem}")
                    });
                    continue;
                }
                let resource = first_use(&mut resource_row, || {
                    intern_resource(
                        tx,
                        resource_logs.resource.as_ref(),
                        &resource_logs.schema_url,
                    )
                })?;
                let scope = *first_use(&mut scope_id, || {
                    intern_scope(tx, scope_logs.scope.as_ref(), &scope_logs.schema_url)
                })?;
                outcome.accepted_log_records += 1;
                if !insert_log(tx, record, resource, scope, received)? {
                    outcome.duplicate_log_records += 1;
                }
            }
        }
    }
    outcome.rejected_log_records = rejections.items;
    outcome.message = rejections.message("log record", "log records");
    Ok(outcome)
}

fn check_log(record: &LogRecord) -> Result<(), String> {
    if !matches!(record.trace_id.len(), 0 | 16) {
        return Err(format!(
            "traceId: {} bytes, expected 16 (or none)",
            record.trace_id.len()
        ));
    }
    if !matches!(record.span_id.len(), 0 | 8) {
        return Err(format!(
            "spanId: {} bytes, expected 8 (or none)",
            record.span_id.len()
        ));
    }
    check_time("timeUnixNano", record.time_unix_nano)?;
    check_time("observedTimeUnixNano", record.observed_time_unix_nano)?;
    if let Some(body) = &record.body {
        check_value("body", body)?;
    }
    check_nesting(&record.attributes, || "attributes".to_owned())
}

/// Writes one checked log record; `false` if the same record (same bytes,
/// resource and scope) was already stored. Log records have no id, so a
/// retried export is recognised by content.
fn insert_log(
    tx: &Transaction<'_>,
    record: &LogRecord,
    resource: &StoredResourceRow,
    scope_id: i64,
    received: i64,
) -> rusqlite::Result<bool> {
    let encoded = record.encode_to_vec();
    let hash = fnv1a(&[&encoded]);
    let existing: Option<i64> = tx
        .prepare_cached(
            "SELECT 1 FROM logs WHERE hash = ?1 AND resource_id = ?2 AND scope_id = ?3 AND encoded = ?4 LIMIT 1",
        )?
        .query_row(params![hash, resource.id, scope_id, encoded], |row| row.get(0))
        .optional()?;
    if existing.is_some() {
        return Ok(false);
    }
    // When the event time is unknown, the time the collector saw it.
    let time = if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    tx.prepare_cached(
        "INSERT INTO logs (hash, trace_id, span_id, service, time_unix_nano, severity_number, severity_text, \
         resource_id, scope_id, received_unix_nano, encoded) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        hash,
        optional_id(&record.trace_id),
        optional_id(&record.span_id),
        resource.service,
        to_i64(time),
        record.severity_number,
        record.severity_text,
        resource.id,
        scope_id,
        received,
        encoded,
    ])?;
    Ok(true)
}

fn write_metrics(
    tx: &Transaction<'_>,
    request: &ExportMetricsServiceRequest,
    received: i64,
) -> rusqlite::Result<MetricsOutcome> {
    let mut outcome = MetricsOutcome::default();
    let mut rejections = Rejections::default();
    for (resource_idx, resource_metrics) in request.resource_metrics.iter().enumerate() {
        let resource_field = || format!("resourceMetrics[{resource_idx}].resource.attributes");
        if let Some(problem) = resource_metrics
            .resource
            .as_ref()
            .and_then(|resource| check_resource(resource, resource_field))
        {
            let points: u64 = resource_metrics
                .scope_metrics
                .iter()
                .flat_map(|scope_metrics| &scope_metrics.metrics)
                .map(|metric| metric_shape(metric).points)
                .sum();
            rejections.reject(points, || {
                format!("{problem} (so its {points} data points)")
            });
            continue;
        }
        let mut resource_row: Option<StoredResourceRow> = None;
        for (scope_idx, scope_metrics) in resource_metrics.scope_metrics.iter().enumerate() {
            let scope_field = || {
                format!(
                    "resourceMetrics[{resource_idx}].scopeMetrics[{scope_idx}].scope.attributes"
                )
            };
            if let Some(problem) = scope_metrics
                .scope
                .as_ref()
                .and_then(|scope| check_scope(scope, scope_field))
            {
                let points: u64 = scope_metrics
                    .metrics
                    .iter()
                    .map(|metric| metric_shape(metric).points)
                    .sum();
                rejections.reject(points, || {
                    format!("{problem} (so its {points} data points)")
                });
                continue;
            }
            let mut scope_id: Option<i64> = None;
            for (metric_idx, metric) in scope_metrics.metrics.iter().enumerate() {
                let shape = metric_shape(metric);
                let encoded = metric.encode_to_vec();
                if let Err(problem) = check_metric(metric, &shape, &encoded) {
                    rejections.reject(shape.points, || {
                        format!("resourceMetrics[{resource_idx}].scopeMetrics[{scope_idx}].metrics[{metric_idx}].{problem}")
                    });
                    continue;
                }
                let resource = first_use(&mut resource_row, || {
                    intern_resource(
                        tx,
                        resource_metrics.resource.as_ref(),
                        &resource_metrics.schema_url,
                    )
                })?;
                let scope = *first_use(&mut scope_id, || {
                    intern_scope(tx, scope_metrics.scope.as_ref(), &scope_metrics.schema_url)
                })?;
                outcome.accepted_data_points += shape.points;
                if !insert_metric(tx, metric, &shape, encoded, resource, scope, received)? {
                    outcome.duplicate_data_points += shape.points;
                }
            }
        }
    }
    outcome.rejected_data_points = rejections.items;
    outcome.message = rejections.message("data point", "data points");
    Ok(outcome)
}

/// What kind of metric, how many points, and the latest point's time.
pub(crate) struct MetricShape {
    pub(crate) kind: &'static str,
    pub(crate) points: u64,
    pub(crate) last_time_unix_nano: u64,
}

pub(crate) fn metric_shape(metric: &Metric) -> MetricShape {
    fn shape<'a>(kind: &'static str, times: impl ExactSizeIterator<Item = &'a u64>) -> MetricShape {
        let points = times.len() as u64;
        let last_time_unix_nano = times.copied().max().unwrap_or(0);
        MetricShape {
            kind,
            points,
            last_time_unix_nano,
        }
    }
    match &metric.data {
        None => MetricShape {
            kind: "empty",
            points: 0,
            last_time_unix_nano: 0,
        },
        Some(metric::Data::Gauge(gauge)) => shape(
            "gauge",
            gauge.data_points.iter().map(|point| &point.time_unix_nano),
        ),
        Some(metric::Data::Sum(sum)) => shape(
            "sum",
            sum.data_points.iter().map(|point| &point.time_unix_nano),
        ),
        Some(metric::Data::Histogram(histogram)) => shape(
            "histogram",
            histogram
                .data_points
                .iter()
                .map(|point| &point.time_unix_nano),
        ),
        Some(metric::Data::ExponentialHistogram(histogram)) => shape(
            "exponential_histogram",
            histogram
                .data_points
                .iter()
                .map(|point| &point.time_unix_nano),
        ),
        Some(metric::Data::Summary(summary)) => shape(
            "summary",
            summary
                .data_points
                .iter()
                .map(|point| &point.time_unix_nano),
        ),
    }
}

fn check_metric(metric: &Metric, shape: &MetricShape, encoded: &[u8]) -> Result<(), String> {
    if metric.name.is_empty() {
        return Err("name: empty, but every metric needs a name".to_owned());
    }
    check_time("dataPoints[].timeUnixNano", shape.last_time_unix_nano)?;
    // Data points carry attributes (and exemplars carry more) in five
    // shapes; rather than walk each, try what matters: reading it back.
    if let Err(error) = Metric::decode(encoded) {
        return Err(format!("values nested too deeply to read back ({error})"));
    }
    Ok(())
}

fn insert_metric(
    tx: &Transaction<'_>,
    metric: &Metric,
    shape: &MetricShape,
    encoded: Vec<u8>,
    resource: &StoredResourceRow,
    scope_id: i64,
    received: i64,
) -> rusqlite::Result<bool> {
    let hash = fnv1a(&[&encoded]);
    let existing: Option<i64> = tx
        .prepare_cached(
            "SELECT 1 FROM metrics WHERE hash = ?1 AND resource_id = ?2 AND scope_id = ?3 AND encoded = ?4 LIMIT 1",
        )?
        .query_row(params![hash, resource.id, scope_id, encoded], |row| row.get(0))
        .optional()?;
    if existing.is_some() {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO metrics (hash, service, name, type, unit, point_count, last_time_unix_nano, resource_id, \
         scope_id, received_unix_nano, encoded) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        hash,
        resource.service,
        metric.name,
        shape.kind,
        metric.unit,
        to_i64(shape.points),
        to_i64(shape.last_time_unix_nano),
        resource.id,
        scope_id,
        received,
        encoded,
    ])?;
    Ok(true)
}
