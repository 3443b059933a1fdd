// Records one small trace with OpenTelemetry's JavaScript SDK and exports
// it with @opentelemetry/exporter-trace-otlp-http, which sends OTLP/HTTP
// with a JSON body, as a Node.js service would; prints its trace id (32
// lowercase hex digits) on stdout.
//
//   node js_export.mjs --endpoint http://127.0.0.1:4318 --service interop-js [--compression gzip]
//
// The trace has the shape e2e/interop.test.mjs expects, the one
// python_export.py records too:
//
//   GET /interop          server, every attribute type, the event cache.miss
//     render interop      internal, status OK
//       SELECT interop    client, status ERROR with a description,
//                         a link to GET /interop
//
// Timestamps are fixed offsets (in nanoseconds, some below a microsecond)
// from a start rounded to the millisecond, given as [seconds, nanoseconds]
// so that no precision is lost. Exits 1 if the collector did not
// acknowledge the export.
//
// JavaScript has one number type: the SDK sends an integral number as
// intValue and any other as doubleValue, so every float here has a
// fraction, and there is no integer beyond 2^53 (python_export.py has one).

import { parseArgs } from 'node:util';

import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const { values: args } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    service: { type: 'string' },
    compression: { type: 'string', default: 'none' },
  },
});
if (!args.endpoint || !args.service || !['none', 'gzip'].includes(args.compression)) {
  console.error('usage: node js_export.mjs --endpoint http://HOST:PORT --service NAME [--compression none|gzip]');
  process.exit(2);
}

/** Passes spans to `inner` and keeps each export's result, so that a
 * refused or failed export ends the script with an error instead of
 * leaving the test to time out. */
class RecordingExporter {
  constructor(inner) {
    this.inner = inner;
    this.results = [];
  }

  export(spans, resultCallback) {
    this.inner.export(spans, (result) => {
      this.results.push(result);
      resultCallback(result);
    });
  }

  shutdown() {
    return this.inner.shutdown();
  }

  forceFlush() {
    return this.inner.forceFlush();
  }
}

const exporter = new RecordingExporter(
  new OTLPTraceExporter({
    url: `${args.endpoint.replace(/\/$/, '')}/v1/traces`,
    compression: args.compression,
    timeoutMillis: 10_000,
  }),
);
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({
    'service.name': args.service,
    'service.version': '1.2.3',
    'interop.resource.bool': true,
    'interop.resource.int': 7,
    'interop.resource.float': 0.125,
    'interop.resource.strings': ['x', 'y'],
  }),
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
const tracer = provider.getTracer('tracelab-interop', '1.0.0');

const NANOS_PER_SECOND = 1_000_000_000;
const baseMillis = Date.now();
/** The start plus `offsetNanos`, as [seconds, nanoseconds]. */
function at(offsetNanos) {
  const nanos = (baseMillis % 1000) * 1_000_000 + offsetNanos;
  return [Math.floor(baseMillis / 1000) + Math.floor(nanos / NANOS_PER_SECOND), nanos % NANOS_PER_SECOND];
}

const root = tracer.startSpan('GET /interop', {
  kind: SpanKind.SERVER,
  startTime: at(0),
  attributes: {
    'interop.string': 'tracelab "interop" \u2713',
    'interop.bool': true,
    'interop.int': -42,
    'interop.float': 2.5,
    'interop.strings': ['a', 'b "c"'],
    'interop.ints': [1, -2, 3],
    'interop.bools': [true, false],
    'interop.floats': [1.5, -0.25],
  },
});
const rootContext = trace.setSpan(context.active(), root);
const render = tracer.startSpan(
  'render interop',
  { kind: SpanKind.INTERNAL, startTime: at(1_000_500) },
  rootContext,
);
const query = tracer.startSpan(
  'SELECT interop',
  {
    kind: SpanKind.CLIENT,
    startTime: at(2_000_000),
    attributes: { 'db.system.name': 'sqlite', 'server.port': 5432 },
    links: [{ context: root.spanContext(), attributes: { 'interop.link.reason': 'retry' } }],
  },
  trace.setSpan(context.active(), render),
);
root.addEvent(
  'cache.miss',
  {
    'interop.event.key': 'band-7',
    'interop.event.attempt': 2,
    'interop.event.retry': true,
    'interop.event.ratio': 0.75,
  },
  at(3_000_250),
);
query.setStatus({ code: SpanStatusCode.ERROR, message: 'interop-db refused the connection' });
query.end(at(6_000_000));
render.setStatus({ code: SpanStatusCode.OK });
render.end(at(8_000_000));
root.end(at(9_000_999));

await provider.forceFlush();
await provider.shutdown();
// ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
const failed = exporter.results.filter((result) => result.code !== 0);
if (exporter.results.length === 0) {
  console.error('the spans were not exported');
  process.exit(1);
}
if (failed.length > 0) {
  console.error(`the collector did not acknowledge the export: ${failed.map((result) => result.error).join('; ')}`);
  process.exit(1);
}
console.log(root.spanContext().traceId);
