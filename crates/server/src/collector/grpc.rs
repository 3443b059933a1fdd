//! OTLP/gRPC: the trace, logs and metrics export services (tonic), gzip
//! accepted, each message at most the receiver's limit once decompressed.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::{Accepted, Export, Receiver, Refusal};

/// The three export services on one axum router (served over HTTP/2).
pub fn router(receiver: Receiver) -> axum::Router {
    let limit = receiver.limits.max_body_bytes;
    let service = Grpc(receiver);
    tonic::service::Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        LogsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        MetricsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .into_axum_router()
}

#[derive(Clone)]
struct Grpc(Receiver);

impl Grpc {
    async fn accept(&self, export: Export) -> Result<Accepted, Status> {
        self.0
            .accept(export)
            .await
            .map_err(|refusal| match refusal {
                // UNAVAILABLE is the code OTLP clients retry with backoff.
                Refusal::Busy { message, .. } => Status::unavailable(message),
            })
    }
}

/// The partial success of an answer, when the store turned items down.
fn partial(accepted: &Accepted) -> Option<(i64, String)> {
    (accepted.rejected > 0 || accepted.message.is_some()).then(|| {
        (
            accepted.rejected,
            accepted.message.clone().unwrap_or_default(),
        )
    })
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let accepted = self.accept(Export::Traces(request.into_inner())).await?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: partial(&accepted).map(|(rejected_spans, error_message)| {
                ExportTracePartialSuccess {
                    rejected_spans,
                    error_message,
                }
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let accepted = self.accept(Export::Logs(request.into_inner())).await?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: partial(&accepted).map(|(rejected_log_records, error_message)| {
                ExportLogsPartialSuccess {
                    rejected_log_records,
                    error_message,
                }
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let accepted = self.accept(Export::Metrics(request.into_inner())).await?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: partial(&accepted).map(|(rejected_data_points, error_message)| {
                ExportMetricsPartialSuccess {
                    rejected_data_points,
                    error_message,
                }
            }),
        }))
    }
}
