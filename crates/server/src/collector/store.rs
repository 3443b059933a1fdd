//! The span store as the receivers' [`Ingest`]: each request committed in
//! one SQLite transaction before it is acknowledged.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tracelab_store::{Store, StoreError};

use super::{Accepted, Ingest, IngestError};

/// A store error as the receivers answer it: every failure to write is
/// "try again later", so a client retries instead of dropping its data; the
/// message says what failed.
fn unavailable(error: StoreError) -> IngestError {
    if !error.is_transient() {
        tracing::error!("the span store could not write: {error}");
    }
    IngestError::Unavailable(error.to_string())
}

fn accepted(rejected: u64, message: Option<String>) -> Accepted {
    Accepted {
        rejected: i64::try_from(rejected).unwrap_or(i64::MAX),
        message,
    }
}

impl Ingest for Store {
    fn traces(&self, request: &ExportTraceServiceRequest) -> Result<Accepted, IngestError> {
        let outcome = self.ingest_traces(request).map_err(unavailable)?;
        Ok(accepted(outcome.rejected_spans, outcome.message))
    }

    fn traces_batch(
        &self,
        requests: &[&ExportTraceServiceRequest],
    ) -> Vec<Result<Accepted, IngestError>> {
        self.ingest_traces_batch(requests)
            .into_iter()
            .map(|outcome| {
                let outcome = outcome.map_err(unavailable)?;
                Ok(accepted(outcome.rejected_spans, outcome.message))
            })
            .collect()
    }

    fn logs(&self, request: &ExportLogsServiceRequest) -> Result<Accepted, IngestError> {
        let outcome = self.ingest_logs(request).map_err(unavailable)?;
        Ok(accepted(outcome.rejected_log_records, outcome.message))
    }

    fn metrics(&self, request: &ExportMetricsServiceRequest) -> Result<Accepted, IngestError> {
        let outcome = self.ingest_metrics(request).map_err(unavailable)?;
        Ok(accepted(outcome.rejected_data_points, outcome.message))
    }
}
