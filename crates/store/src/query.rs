//! Querying: what the search form lists, the trace search, and whole traces
//! decoded back to the OTLP structs they were received as.

use std::collections::HashMap;
use std::fmt::Write as _;

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::value::{index_text, tag_hash};
use crate::{to_i64, to_u64, Store, StoreError};

/// How many traces a search returns when it does not say (Jaeger UI's default).
pub const DEFAULT_LIMIT: usize = 20;
/// The most traces one search returns (Jaeger UI's largest choice).
pub const MAX_LIMIT: usize = 1500;

/// A trace search: the traces with at least one span that matches every
/// criterion given (criteria left `None`/empty match anything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceQuery {
    /// The span's service (its resource's `service.name`).
    pub service: Option<String>,
    /// The span's name.
    pub operation: Option<String>,
    /// `(key, value)` pairs the span must all have, as span attributes or
    /// attributes of its resource; values compare as text (see
    /// [`value_to_text`](crate::value_to_text): `200` matches the integer
    /// 200, `true` the boolean). As Jaeger translates them: `error=true`
    /// also matches a span with error status, `span.kind=server` (client,
    /// producer, consumer, internal) its kind, and `otel.status_code=OK`
    /// (`ERROR`) its status.
    pub tags: Vec<(String, String)>,
    /// The span starts at or after this (Unix nanoseconds).
    pub start_min: Option<u64>,
    /// The span starts at or before this (Unix nanoseconds).
    pub start_max: Option<u64>,
    /// The span lasts at least this long (nanoseconds).
    pub duration_min: Option<u64>,
    /// The span lasts at most this long (nanoseconds).
    pub duration_max: Option<u64>,
    /// How many traces at most: [`DEFAULT_LIMIT`] when `None` or 0, never
    /// more than [`MAX_LIMIT`].
    pub limit: Option<usize>,
    /// Only spans with error status.
    pub error_only: bool,
}

impl TraceQuery {
    /// The limit the search applies.
    pub fn effective_limit(&self) -> usize {
        match self.limit {
            None | Some(0) => DEFAULT_LIMIT,
            Some(limit) => limit.min(MAX_LIMIT),
        }
    }
}

/// An operation of a service, as Jaeger's `/api/operations` lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    /// `server`, `client`, `producer`, `consumer`, `internal`, or empty
    /// when the span kind was unspecified.
    pub span_kind: String,
}

/// A resource as stored, with the schema URL it came with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredResource {
    pub resource: Resource,
    pub schema_url: String,
    /// Its `service.name`, or `unknown_service`.
    pub service_name: String,
}

/// An instrumentation scope as stored, with the schema URL it came with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredScope {
    pub scope: InstrumentationScope,
    pub schema_url: String,
}

/// A span exactly as received, and where its resource and scope are in
/// the trace's lists.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSpan {
    pub span: Span,
    /// Index into [`StoredTrace::resources`].
    pub resource: usize,
    /// Index into [`StoredTrace::scopes`].
    pub scope: usize,
}

/// Every stored span of one trace, ordered by start time (then span id),
/// with the resources and scopes they name, each listed once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredTrace {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    pub spans: Vec<StoredSpan>,
    pub resources: Vec<StoredResource>,
    pub scopes: Vec<StoredScope>,
}

impl StoredTrace {
    /// The resource of `span`.
    pub fn resource_of(&self, span: &StoredSpan) -> &StoredResource {
        &self.resources[span.resource]
    }

    /// The instrumentation scope of `span`.
    pub fn scope_of(&self, span: &StoredSpan) -> &StoredScope {
        &self.scopes[span.scope]
    }

    /// The trace as OTLP groups it (spans under their scope under their
    /// resource), e.g. for an OTLP/JSON download or Jaeger's api_v3.
    pub fn to_resource_spans(&self) -> Vec<ResourceSpans> {
        let mut groups: Vec<ResourceSpans> = Vec::new();
        // (resource idx) → group idx, and (group idx, scope idx) → scope group idx.
        let mut resource_groups: HashMap<usize, usize> = HashMap::new();
        let mut scope_groups: HashMap<(usize, usize), usize> = HashMap::new();
        for stored in &self.spans {
            let group_idx = *resource_groups.entry(stored.resource).or_insert_with(|| {
                let resource = &self.resources[stored.resource];
                groups.push(ResourceSpans {
                    resource: Some(resource.resource.clone()),
                    scope_spans: Vec::new(),
                    schema_url: resource.schema_url.clone(),
                });
                groups.len() - 1
            });
            let group = &mut groups[group_idx];
            let scope_idx = *scope_groups
                .entry((group_idx, stored.scope))
                .or_insert_with(|| {
                    let scope = &self.scopes[stored.scope];
                    group.scope_spans.push(ScopeSpans {
                        scope: Some(scope.scope.clone()),
                        spans: Vec::new(),
                        schema_url: scope.schema_url.clone(),
                    });
                    group.scope_spans.len() - 1
                });
            group.scope_spans[scope_idx].spans.push(stored.span.clone());
        }
        groups
    }
}

/// A log record exactly as received, with its resource and scope.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredLog {
    pub record: LogRecord,
    pub resource: Resource,
    pub scope: InstrumentationScope,
    /// Its resource's `service.name`, or `unknown_service`.
    pub service_name: String,
    /// The span it was logged in (lowercase hex), if any.
    pub span_id: Option<String>,
}

/// One metric of one service, over every export stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSummary {
    pub name: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram`, `summary`, or
    /// `empty` for a metric sent without data.
    #[serde(rename = "type")]
    pub metric_type: String,
    pub service: String,
    /// Data points stored.
    pub points: u64,
    /// The latest data point's time (Unix nanoseconds).
    pub last_time_unix_nano: u64,
}

/// A trace id as the store keeps it: lowercase hex, left-padded with zeros
/// to 32 digits (so a 64-bit Jaeger id finds its trace, as in Jaeger).
pub fn normalize_trace_id(trace_id: &str) -> Result<String, StoreError> {
    let trimmed = trace_id.trim();
    if trimmed.is_empty()
        || trimmed.len() > 32
        || !trimmed.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return Err(StoreError::InvalidQuery {
            message: format!("trace id {trace_id:?}: expected up to 32 hex digits"),
        });
    }
    Ok(format!("{:0>32}", trimmed.to_ascii_lowercase()))
}

/// Jaeger's name for an OTLP span kind (empty when unspecified).
pub(crate) fn span_kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "",
    }
}

impl Store {
    /// Every service that sent a span still stored, sorted.
    pub fn services(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.read();
        let services = (|| {
            let mut stmt =
                conn.prepare_cached("SELECT DISTINCT service FROM operations ORDER BY service")?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        })();
        services.map_err(self.sql("listing services"))
    }

    /// The operations (span names, with their kind) of `service`, sorted by
    /// name then kind. A name used with two kinds is listed twice, as
    /// Jaeger does.
    pub fn operations(&self, service: &str) -> Result<Vec<Operation>, StoreError> {
        let conn = self.read();
        let operations = (|| {
            let mut stmt = conn.prepare_cached(
                "SELECT name, kind FROM operations WHERE service = ?1 ORDER BY name, kind",
            )?;
            let rows = stmt.query_map([service], |row| {
                Ok(Operation {
                    name: row.get(0)?,
                    span_kind: span_kind_name(row.get(1)?).to_owned(),
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<Operation>>>()
        })();
        operations.map_err(self.sql("listing operations"))
    }

    /// The ids of the traces with at least one span matching every
    /// criterion of `query`, newest first: ordered by the start of their
    /// latest matching span, at most [`TraceQuery::effective_limit`].
    pub fn find_traces(&self, query: &TraceQuery) -> Result<Vec<String>, StoreError> {
        let (sql, values) = find_traces_sql(query);
        let conn = self.read();
        let trace_ids = (|| {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(params_from_iter(values), |row| row.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        })();
        trace_ids.map_err(self.sql("finding traces"))
    }

    /// Every stored span of the trace `trace_id` (any case, see
    /// [`normalize_trace_id`]), or `None` if there is none.
    pub fn trace(&self, trace_id: &str) -> Result<Option<StoredTrace>, StoreError> {
        let trace_id = normalize_trace_id(trace_id)?;
        let mut conn = self.read();
        // One read transaction: the spans, resources and scopes of one snapshot.
        let tx = conn.transaction().map_err(self.sql("reading a trace"))?;
        let rows = (|| {
            let mut stmt = tx.prepare_cached(
                "SELECT span_id, resource_id, scope_id, encoded FROM spans WHERE trace_id = ?1 \
                 ORDER BY start_unix_nano, span_id",
            )?;
            let rows = stmt.query_map([&trace_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Vec<u8>>(3)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(self.sql("reading a trace"))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut trace = StoredTrace {
            trace_id: trace_id.clone(),
            ..StoredTrace::default()
        };
        let mut resource_idx: HashMap<i64, usize> = HashMap::new();
        let mut scope_idx: HashMap<i64, usize> = HashMap::new();
        for (span_id, resource_id, scope_id, encoded) in rows {
            let span = Span::decode(encoded.as_slice()).map_err(|error| {
                self.corrupt(format!("span {span_id} of trace {trace_id}"), error)
            })?;
            let resource = match resource_idx.get(&resource_id) {
                Some(idx) => *idx,
                None => {
                    trace.resources.push(self.load_resource(&tx, resource_id)?);
                    resource_idx.insert(resource_id, trace.resources.len() - 1);
                    trace.resources.len() - 1
                }
            };
            let scope = match scope_idx.get(&scope_id) {
                Some(idx) => *idx,
                None => {
                    trace.scopes.push(self.load_scope(&tx, scope_id)?);
                    scope_idx.insert(scope_id, trace.scopes.len() - 1);
                    trace.scopes.len() - 1
                }
            };
            trace.spans.push(StoredSpan {
                span,
                resource,
                scope,
            });
        }
        Ok(Some(trace))
    }

    /// The log records of the trace `trace_id`, in time order, each with
    /// the span it was logged in (if any).
    pub fn logs_for_trace(&self, trace_id: &str) -> Result<Vec<StoredLog>, StoreError> {
        let trace_id = normalize_trace_id(trace_id)?;
        let mut conn = self.read();
        let tx = conn.transaction().map_err(self.sql("reading logs"))?;
        let rows = (|| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, span_id, resource_id, scope_id, encoded FROM logs WHERE trace_id = ?1 \
                 ORDER BY time_unix_nano, id",
            )?;
            let rows = stmt.query_map([&trace_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(self.sql("reading logs"))?;
        let mut resources: HashMap<i64, StoredResource> = HashMap::new();
        let mut scopes: HashMap<i64, StoredScope> = HashMap::new();
        let mut logs = Vec::with_capacity(rows.len());
        for (row_id, span_id, resource_id, scope_id, encoded) in rows {
            let record = LogRecord::decode(encoded.as_slice()).map_err(|error| {
                self.corrupt(format!("log record {row_id} of trace {trace_id}"), error)
            })?;
            let resource = match resources.get(&resource_id) {
                Some(resource) => resource.clone(),
                None => {
                    let resource = self.load_resource(&tx, resource_id)?;
                    resources.insert(resource_id, resource.clone());
                    resource
                }
            };
            let scope = match scopes.get(&scope_id) {
                Some(scope) => scope.clone(),
                None => {
                    let scope = self.load_scope(&tx, scope_id)?;
                    scopes.insert(scope_id, scope.clone());
                    scope
                }
            };
            logs.push(StoredLog {
                record,
                resource: resource.resource,
                scope: scope.scope,
                service_name: resource.service_name,
                span_id,
            });
        }
        Ok(logs)
    }

    /// Every metric stored, per service, name and type: how many data
    /// points and the latest one's time. Sorted by service, then name.
    pub fn list_metrics(&self) -> Result<Vec<MetricSummary>, StoreError> {
        let conn = self.read();
        let metrics = (|| {
            let mut stmt = conn.prepare_cached(
                "SELECT name, type, service, sum(point_count), max(last_time_unix_nano) FROM metrics \
                 GROUP BY service, name, type ORDER BY service, name, type",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(MetricSummary {
                    name: row.get(0)?,
                    metric_type: row.get(1)?,
                    service: row.get(2)?,
                    points: to_u64(row.get(3)?),
                    last_time_unix_nano: to_u64(row.get(4)?),
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })();
        metrics.map_err(self.sql("listing metrics"))
    }

    /// Every stored export of the metric `name` of `service`, oldest first,
    /// each with its data points exactly as received.
    pub fn metric_batches(&self, service: &str, name: &str) -> Result<Vec<Metric>, StoreError> {
        let conn = self.read();
        let rows = (|| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, encoded FROM metrics WHERE service = ?1 AND name = ?2 ORDER BY received_unix_nano, id",
            )?;
            let rows = stmt.query_map(params![service, name], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(self.sql("reading metrics"))?;
        rows.into_iter()
            .map(|(row_id, encoded)| {
                Metric::decode(encoded.as_slice())
                    .map_err(|error| self.corrupt(format!("metric {row_id} ({name})"), error))
            })
            .collect()
    }

    fn load_resource(
        &self,
        conn: &Connection,
        resource_id: i64,
    ) -> Result<StoredResource, StoreError> {
        let row: Option<(String, String, Vec<u8>)> = conn
            .prepare_cached("SELECT service, schema_url, encoded FROM resources WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([resource_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
            })
            .map_err(self.sql("reading a resource"))?;
        let Some((service_name, schema_url, encoded)) = row else {
            return Err(self.corrupt(format!("resource {resource_id}"), "it is missing"));
        };
        let resource = Resource::decode(encoded.as_slice())
            .map_err(|error| self.corrupt(format!("resource {resource_id}"), error))?;
        Ok(StoredResource {
            resource,
            schema_url,
            service_name,
        })
    }

    fn load_scope(&self, conn: &Connection, scope_id: i64) -> Result<StoredScope, StoreError> {
        let row: Option<(String, Vec<u8>)> = conn
            .prepare_cached("SELECT schema_url, encoded FROM scopes WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([scope_id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(self.sql("reading a scope"))?;
        let Some((schema_url, encoded)) = row else {
            return Err(self.corrupt(format!("instrumentation scope {scope_id}"), "it is missing"));
        };
        let scope = InstrumentationScope::decode(encoded.as_slice())
            .map_err(|error| self.corrupt(format!("instrumentation scope {scope_id}"), error))?;
        Ok(StoredScope { scope, schema_url })
    }

    fn corrupt(&self, what: String, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            location: self.location.clone(),
            what,
            detail: detail.to_string(),
        }
    }
}

/// The search as SQL and its parameters. Every criterion is a condition
/// on one span row; the rows are grouped by trace.
fn find_traces_sql(query: &TraceQuery) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT s.trace_id, max(s.start_unix_nano) AS newest FROM spans s WHERE 1 = 1",
    );
    let mut values: Vec<SqlValue> = Vec::new();
    let mut condition = |sql: &mut String, text: &str, value: SqlValue| {
        values.push(value);
        let _ = write!(sql, " AND {text} ?{}", values.len());
    };
    if let Some(service) = &query.service {
        condition(&mut sql, "s.service =", SqlValue::Text(service.clone()));
    }
    if let Some(operation) = &query.operation {
        condition(&mut sql, "s.name =", SqlValue::Text(operation.clone()));
    }
    if let Some(start_min) = query.start_min {
        condition(
            &mut sql,
            "s.start_unix_nano >=",
            SqlValue::Integer(to_i64(start_min)),
        );
    }
    if let Some(start_max) = query.start_max {
        condition(
            &mut sql,
            "s.start_unix_nano <=",
            SqlValue::Integer(to_i64(start_max)),
        );
    }
    if let Some(duration_min) = query.duration_min {
        condition(
            &mut sql,
            "s.duration_nano >=",
            SqlValue::Integer(to_i64(duration_min)),
        );
    }
    if let Some(duration_max) = query.duration_max {
        condition(
            &mut sql,
            "s.duration_nano <=",
            SqlValue::Integer(to_i64(duration_max)),
        );
    }
    if query.error_only {
        sql.push_str(" AND s.status_code = 2");
    }
    for (key, value) in &query.tags {
        values.push(SqlValue::Integer(tag_hash(key, value)));
        let hash_param = values.len();
        values.push(SqlValue::Text(key.clone()));
        let key_param = values.len();
        values.push(SqlValue::Text(index_text(value.clone())));
        let value_param = values.len();
        let _ = write!(
            sql,
            " AND (s.id IN (SELECT span_row FROM span_tags WHERE hash = ?{hash_param}) \
             OR s.resource_id IN (SELECT resource_id FROM resource_attributes WHERE key = ?{key_param} AND value = ?{value_param})"
        );
        // The tags Jaeger's translator derives from span fields.
        match (key.as_str(), value.as_str()) {
            ("error", "true") => sql.push_str(" OR s.status_code = 2"),
            ("otel.status_code", "OK") => sql.push_str(" OR s.status_code = 1"),
            ("otel.status_code", "ERROR") => sql.push_str(" OR s.status_code = 2"),
            ("span.kind", kind) => {
                if let Some(code) = (1..=5).find(|code| span_kind_name(*code) == kind) {
                    let _ = write!(sql, " OR s.kind = {code}");
                }
            }
            _ => {}
        }
        sql.push(')');
    }
    values.push(SqlValue::Integer(query.effective_limit() as i64));
    let _ = write!(
        sql,
        " GROUP BY s.trace_id ORDER BY newest DESC, s.trace_id LIMIT ?{}",
        values.len()
    );
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_normalized() {
        assert_eq!(
            normalize_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736").unwrap(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        // A 64-bit Jaeger trace id is the low half of a 128-bit one.
        assert_eq!(
            normalize_trace_id("a3ce929d0e0e4736").unwrap(),
            "0000000000000000a3ce929d0e0e4736"
        );
        for bad in ["", "xyz", "4bf92f3577b34da6a3ce929d0e0e47360", "4bf9-2f35"] {
            let err = normalize_trace_id(bad).unwrap_err();
            assert!(
                err.to_string().contains("expected up to 32 hex digits"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn limits() {
        let limit = |limit| {
            TraceQuery {
                limit,
                ..TraceQuery::default()
            }
            .effective_limit()
        };
        assert_eq!(limit(None), 20);
        assert_eq!(limit(Some(0)), 20);
        assert_eq!(limit(Some(7)), 7);
        assert_eq!(limit(Some(1_000_000)), 1500);
    }
}
