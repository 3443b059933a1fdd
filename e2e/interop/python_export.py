"""Records one small trace with OpenTelemetry's Python SDK and exports it
over OTLP (or Zipkin's v2 JSON) to the given endpoint, as any Python
service would; prints its trace id (32 lowercase hex digits) on stdout.

    python python_export.py --endpoint http://127.0.0.1:4317 --protocol grpc \
        --service interop-python-grpc [--compression gzip]

`--protocol zipkin-json` uses opentelemetry-exporter-zipkin-json, which
POSTs Zipkin v2 JSON to the endpoint's /api/v2/spans (Zipkin's collector
API); e2e/interop-files.test.mjs captures that body as a trace file.

The trace has the shape e2e/interop.test.mjs expects (the JavaScript
exporter, js_export.mjs, records the same one):

    GET /interop          server, every attribute type, the event cache.miss
      render interop      internal, status OK
        SELECT interop    client, status ERROR with a description,
                          a link to GET /interop

Timestamps are fixed offsets (in nanoseconds, some below a microsecond)
from a start rounded to the millisecond, so the test can check durations
to the microsecond. Exits 1 if the collector did not acknowledge the export.
"""

import argparse
import sys
import time

import grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode


class RecordingExporter(SpanExporter):
    """Passes spans to `inner` and keeps each export's result, so that a
    refused or failed export ends the script with an error instead of
    leaving the test to time out."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)


def exporter_for(protocol, endpoint, compression):
    if protocol == "grpc":
        return GrpcSpanExporter(
            endpoint=endpoint,
            insecure=True,
            timeout=10,
            compression=grpc.Compression.Gzip if compression == "gzip" else None,
        )
    if protocol == "http/protobuf":
        return HttpSpanExporter(
            endpoint=f"{endpoint.rstrip('/')}/v1/traces",
            timeout=10,
            compression=(
                HttpCompression.Gzip if compression == "gzip" else HttpCompression.NoCompression
            ),
        )
    if protocol == "zipkin-json":
        return ZipkinExporter(endpoint=f"{endpoint.rstrip('/')}/api/v2/spans", timeout=10)
    raise SystemExit(f"unknown protocol {protocol!r}: grpc, http/protobuf or zipkin-json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="http://HOST:PORT of the collector")
    parser.add_argument(
        "--protocol", required=True, choices=["grpc", "http/protobuf", "zipkin-json"]
    )
    parser.add_argument("--service", required=True, help="service.name of the resource")
    parser.add_argument("--compression", default="none", choices=["none", "gzip"])
    args = parser.parse_args()

    # Resource.create adds the SDK's own telemetry.sdk.* attributes.
    resource = Resource.create(
        {
            "service.name": args.service,
            "service.version": "1.2.3",
            "interop.resource.bool": True,
            "interop.resource.int": 7,
            "interop.resource.float": 0.125,
            "interop.resource.strings": ["x", "y"],
        }
    )
    exporter = RecordingExporter(exporter_for(args.protocol, args.endpoint, args.compression))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tracelab-interop", "1.0.0")

    base = time.time_ns() // 1_000_000 * 1_000_000
    root = tracer.start_span(
        "GET /interop",
        kind=SpanKind.SERVER,
        start_time=base,
        attributes={
            "interop.string": 'tracelab "interop" \u2713',
            "interop.bool": True,
            "interop.int": -42,
            "interop.float": 2.5,
            "interop.strings": ["a", 'b "c"'],
            "interop.ints": [1, -2, 3],
            "interop.bools": [True, False],
            "interop.floats": [1.5, -0.25],
            # Beyond JavaScript's exact integers: Jaeger writes it as a string.
            "interop.int.large": 2**62,
        },
    )
    root_context = trace.set_span_in_context(root)
    render = tracer.start_span(
        "render interop",
        context=root_context,
        kind=SpanKind.INTERNAL,
        start_time=base + 1_000_500,
    )
    query = tracer.start_span(
        "SELECT interop",
        context=trace.set_span_in_context(render),
        kind=SpanKind.CLIENT,
        start_time=base + 2_000_000,
        attributes={"db.system.name": "sqlite", "server.port": 5432},
        links=[Link(root.get_span_context(), {"interop.link.reason": "retry"})],
    )
    root.add_event(
        "cache.miss",
        {
            "interop.event.key": "band-7",
            "interop.event.attempt": 2,
            "interop.event.retry": True,
            "interop.event.ratio": 0.75,
        },
        timestamp=base + 3_000_250,
    )
    query.set_status(Status(StatusCode.ERROR, "interop-db refused the connection"))
    query.end(end_time=base + 6_000_000)
    render.set_status(Status(StatusCode.OK))
    render.end(end_time=base + 8_000_000)
    root.end(end_time=base + 9_000_999)

    flushed = provider.force_flush()
    provider.shutdown()
    if not flushed or not exporter.results:
        print("the spans were not exported in time", file=sys.stderr)
        return 1
    failed = [result for result in exporter.results if result != SpanExportResult.SUCCESS]
    if failed:
        print(f"the collector did not acknowledge the export: {failed}", file=sys.stderr)
        return 1
    print(trace.format_trace_id(root.get_span_context().trace_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
