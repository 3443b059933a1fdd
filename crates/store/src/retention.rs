//! Retention: whole traces evicted, oldest first, to stay under an age and
//! a size.
//!
//! "Oldest" is by when a trace was last received (the store's own clock,
//! `traces.last_received_unix_nano`), not by its spans' timestamps: a trace
//! still receiving spans is never cut in half, spans stamped by a skewed
//! or replayed clock (an import of last year's traces) are not evicted the
//! moment they arrive, and the order needs no look at the spans.
//!
//! Size is what SQLite's pages in use take, `(page_count -
//! freelist_count) * page_size`, measured after each round of deletes,
//! rather than a counter of span bytes kept on the side: it counts
//! everything the file holds (the attribute index, the other indexes, logs,
//! metrics), so the limit is what the disk sees, and it cannot drift from
//! the truth after a crash or a schema change. Freed pages are handed back
//! to the file system afterwards (`PRAGMA incremental_vacuum`).

use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rusqlite::{params, Transaction, TransactionBehavior};

use crate::checkpoint;
use crate::ingest::span_tag_hashes;
use crate::{to_i64, to_u64, used_bytes, Store, StoreError};

/// How much the store keeps; `None` is no limit on that side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Evict traces last received longer ago than this (and logs and
    /// metrics received longer ago).
    pub max_age: Option<Duration>,
    /// Evict the oldest traces (and the logs and metrics received no later
    /// than them) until the store's pages in use take at most this many
    /// bytes.
    pub max_bytes: Option<u64>,
}

/// What one [`Store::enforce_retention`] evicted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub traces_evicted: u64,
    pub spans_evicted: u64,
    /// Log records evicted: those of evicted traces, and any received
    /// before the age limit (or before the newest trace evicted for size).
    pub logs_evicted: u64,
    /// Stored metric exports evicted, by the same rule as uncorrelated logs.
    pub metrics_evicted: u64,
    /// The store's size afterwards (see [`Store::size_bytes`]).
    pub bytes_after: u64,
}

/// Traces evicted per transaction, so an ingest waits at most one round.
const TRACES_PER_ROUND: i64 = 500;

/// How long eviction retries the checkpoint that shrinks the file (see
/// `checkpoint::checkpoint_for`); past it the file shrinks at a later
/// checkpoint.
const SHRINK_CHECKPOINT_PATIENCE: Duration = Duration::from_millis(250);

impl Store {
    /// Evicts what the store's [`Retention`] does not allow, as of
    /// `now_unix_nanos`: first every trace last received more than
    /// `max_age` ago, then the oldest traces until the size is at most
    /// `max_bytes`. Whole traces go, with their logs. Runs in rounds of
    /// short transactions, so ingest goes on in between.
    pub fn enforce_retention(&self, now_unix_nanos: u64) -> Result<RetentionReport, StoreError> {
        let mut report = RetentionReport::default();

        if let Some(max_age) = self.retention.max_age {
            let max_age = u64::try_from(max_age.as_nanos()).unwrap_or(u64::MAX);
            let cutoff = to_i64(now_unix_nanos.saturating_sub(max_age));
            loop {
                let mut conn = self.write();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(self.sql("evicting old traces"))?;
                let newest = evict_oldest_traces(&tx, cutoff, TRACES_PER_ROUND, &mut report)
                    .map_err(self.sql("evicting old traces"))?;
                if newest.is_none() {
                    evict_received_before(&tx, cutoff, &mut report)
                        .map_err(self.sql("evicting old logs and metrics"))?;
                }
                tx.commit().map_err(self.sql("committing evictions"))?;
                if newest.is_none() {
                    break;
                }
            }
        }

        if let Some(max_bytes) = self.retention.max_bytes {
            loop {
                let mut conn = self.write();
                let used = used_bytes(&conn).map_err(self.sql("measuring the store"))?;
                if used <= max_bytes {
                    break;
                }
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(self.sql("evicting traces for size"))?;
                let evicted = evict_for_size(&tx, used, max_bytes, &mut report)
                    .map_err(self.sql("evicting traces for size"))?;
                tx.commit().map_err(self.sql("committing evictions"))?;
                if !evicted {
                    // Nothing left to evict: what remains is the schema itself.
                    break;
                }
            }
        }

        let conn = self.write();
        if report.traces_evicted + report.logs_evicted + report.metrics_evicted > 0 {
            conn.execute(
                "DELETE FROM operations WHERE NOT EXISTS (SELECT 1 FROM spans s WHERE s.service = operations.service \
                 AND s.name = operations.name AND s.kind = operations.kind)",
                [],
            )
            .map_err(self.sql("pruning operations"))?;
            // Hand the freed pages back to the file system. The pragma frees
            // one page per step, so it is stepped to the end; in WAL mode the
            // file shrinks at the checkpoint, so one runs now (a passive one,
            // which never waits for readers). The checkpoint thread may be
            // running its own at this moment, which makes ours return busy
            // at once: retry for a moment, so the file shrinks now rather
            // than at the next commit's checkpoint.
            let vacuum = (|| -> rusqlite::Result<()> {
                let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
                let mut rows = stmt.query([])?;
                while rows.next()?.is_some() {}
                checkpoint::checkpoint_for(&conn, SHRINK_CHECKPOINT_PATIENCE)?;
                Ok(())
            })();
            vacuum.map_err(self.sql("returning free pages"))?;
        }
        report.bytes_after = used_bytes(&conn).map_err(self.sql("measuring the store"))?;
        Ok(report)
    }

    /// The store's place and limits in one sentence, for the startup banner.
    pub fn describe_limits(&self) -> String {
        let place = match &self.path {
            Some(path) => format!("in {}", path.display()),
            None => "in memory".to_owned(),
        };
        match (self.retention.max_age, self.retention.max_bytes) {
            (None, None) => format!("Traces are kept {place} with no limit on age or size."),
            (Some(age), None) => format!(
                "Traces are kept {place} for {}; older traces are evicted whole.",
                human_duration(age)
            ),
            (None, Some(bytes)) => format!(
                "Traces are kept {place} up to {}; the oldest traces are evicted whole beyond that.",
                human_bytes(bytes)
            ),
            (Some(age), Some(bytes)) => format!(
                "Traces are kept {place} for {} and up to {}; the oldest traces are evicted whole first.",
                human_duration(age),
                human_bytes(bytes)
            ),
        }
    }
}

/// Evicts up to `limit` traces last received before `received_before`,
/// oldest first, with their spans, attributes and logs. Returns the latest
/// `last_received_unix_nano` among them, `None` if there was none.
fn evict_oldest_traces(
    tx: &Transaction<'_>,
    received_before: i64,
    limit: i64,
    report: &mut RetentionReport,
) -> rusqlite::Result<Option<i64>> {
    let victims: Vec<(String, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT trace_id, last_received_unix_nano FROM traces WHERE last_received_unix_nano < ?1 \
             ORDER BY last_received_unix_nano, trace_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![received_before, limit], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut newest = None;
    for (trace_id, last_received) in victims {
        delete_span_tags(tx, &trace_id)?;
        let spans = tx
            .prepare_cached("DELETE FROM spans WHERE trace_id = ?1")?
            .execute([&trace_id])?;
        let logs = tx
            .prepare_cached("DELETE FROM logs WHERE trace_id = ?1")?
            .execute([&trace_id])?;
        tx.prepare_cached("DELETE FROM traces WHERE trace_id = ?1")?
            .execute([&trace_id])?;
        report.traces_evicted += 1;
        report.spans_evicted += spans as u64;
        report.logs_evicted += logs as u64;
        newest = Some(last_received);
    }
    Ok(newest)
}

/// Deletes the tag index's rows of the spans of `trace_id`. The index is
/// keyed by tag alone (one small row per attribute, nothing more), so the
/// rows of a span are found again from its attributes, which its encoded
/// bytes hold.
fn delete_span_tags(tx: &Transaction<'_>, trace_id: &str) -> rusqlite::Result<()> {
    let mut spans = tx.prepare_cached("SELECT id, encoded FROM spans WHERE trace_id = ?1")?;
    let mut delete_tag =
        tx.prepare_cached("DELETE FROM span_tags WHERE hash = ?1 AND span_row = ?2")?;
    let mut rows = spans.query([trace_id])?;
    while let Some(row) = rows.next()? {
        let span_row: i64 = row.get(0)?;
        let encoded = row.get_ref(1)?.as_blob()?;
        // Stored by this store from a checked span, so it decodes. Were it
        // corrupt, its rows are found the slow way (a scan), rather than
        // left behind for a later span given the same row id.
        let Ok(span) = Span::decode(encoded) else {
            tx.prepare_cached("DELETE FROM span_tags WHERE span_row = ?1")?
                .execute([span_row])?;
            continue;
        };
        for hash in span_tag_hashes(&span) {
            delete_tag.execute(params![hash, span_row])?;
        }
    }
    Ok(())
}

/// Evicts the logs and metrics received before `cutoff`.
fn evict_received_before(
    tx: &Transaction<'_>,
    cutoff: i64,
    report: &mut RetentionReport,
) -> rusqlite::Result<()> {
    report.logs_evicted +=
        tx.execute("DELETE FROM logs WHERE received_unix_nano < ?1", [cutoff])? as u64;
    report.metrics_evicted += tx.execute(
        "DELETE FROM metrics WHERE received_unix_nano < ?1",
        [cutoff],
    )? as u64;
    Ok(())
}

/// One round of eviction for size, `used` bytes against `max_bytes`:
/// the oldest share of traces that should free the excess (at least a
/// hundredth of them, and at least one), with the logs and metrics received
/// no later than the newest of them; once no trace is left, the oldest
/// hundredth of logs and metrics. `false` if there was nothing to evict.
fn evict_for_size(
    tx: &Transaction<'_>,
    used: u64,
    max_bytes: u64,
    report: &mut RetentionReport,
) -> rusqlite::Result<bool> {
    let traces = to_u64(tx.query_row("SELECT count(*) FROM traces", [], |row| row.get(0))?);
    if traces > 0 {
        // Pages freed lag rows deleted (an index page is freed only when
        // empty), so this estimate errs low and the caller measures again.
        let share = used.saturating_sub(max_bytes) as f64 / used as f64;
        let estimate = (traces as f64 * share).ceil() as u64;
        let limit = estimate.max(traces / 100).max(1);
        if let Some(newest) = evict_oldest_traces(tx, i64::MAX, to_i64(limit), report)? {
            evict_received_before(tx, newest.saturating_add(1), report)?;
        }
        return Ok(true);
    }
    let mut evicted = 0;
    for (table, counter) in [
        ("logs", &mut report.logs_evicted),
        ("metrics", &mut report.metrics_evicted),
    ] {
        let rows = tx.execute(
            &format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY received_unix_nano, id \
                 LIMIT max(1, (SELECT count(*) FROM {table}) / 100))"
            ),
            [],
        )?;
        *counter += rows as u64;
        evicted += rows;
    }
    Ok(evicted > 0)
}

/// `7 days`, `36 hours`, `90 s`: the largest unit that divides evenly.
fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if duration.subsec_nanos() != 0 || secs == 0 {
        return format!("{} ms", duration.as_millis());
    }
    for (unit_secs, singular, plural) in [
        (86_400, "day", "days"),
        (3_600, "hour", "hours"),
        (60, "minute", "minutes"),
    ] {
        if secs.is_multiple_of(unit_secs) {
            let n = secs / unit_secs;
            return format!("{n} {}", if n == 1 { singular } else { plural });
        }
    }
    format!("{secs} s")
}

/// `1 GiB`, `1.5 GiB`, `512 MiB`, `100 bytes`.
fn human_bytes(bytes: u64) -> String {
    for (unit, name) in [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ] {
        if bytes >= unit {
            let value = bytes as f64 / unit as f64;
            let text = format!("{value:.1}");
            return format!("{} {name}", text.strip_suffix(".0").unwrap_or(&text));
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_duration(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(human_duration(Duration::from_secs(86_400)), "1 day");
        assert_eq!(human_duration(Duration::from_secs(36 * 3_600)), "36 hours");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(512 << 20), "512 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }

    #[test]
    fn limits_in_one_sentence() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.describe_limits(),
            "Traces are kept in memory with no limit on age or size."
        );
        let store = store.with_retention(Retention {
            max_age: Some(Duration::from_secs(7 * 86_400)),
            max_bytes: Some(1 << 30),
        });
        assert_eq!(
            store.describe_limits(),
            "Traces are kept in memory for 7 days and up to 1 GiB; the oldest traces are evicted whole first."
        );
    }
}
