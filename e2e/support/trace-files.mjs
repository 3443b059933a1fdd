// Trace files for the Import page's browser tests and benchmark, written
// from one plain list of spans in each format's own shape: OTLP JSON (and
// the Collector's one-request-per-line form), Jaeger JSON and Zipkin v2.
//
// A span: { traceId (32 hex), spanId (16 hex), parentId (16 hex or null),
// name, service, startUs, durationUs, error (bool) }.

/** `n` spans of one trace: a root and a tree of children below it. */
export function makeSpans(n, { traceId = '4bf92f3577b34da6a3ce929d0e0e4736', startUs = 1_700_000_000_000_000, services = ['frontend', 'bands-api', 'reviews-api'] } = {}) {
  const spans = [];
  for (let i = 0; i < n; i += 1) {
    spans.push({
      traceId,
      spanId: (BigInt(0x1000) + BigInt(i)).toString(16).padStart(16, '0'),
      // Each span's parent is the one at (i - 1) / 4: a tree of fan-out 4.
      parentId: i === 0 ? null : (BigInt(0x1000) + BigInt(Math.floor((i - 1) / 4))).toString(16).padStart(16, '0'),
      name: i === 0 ? 'GET /bands' : `step ${i}`,
      service: services[i % services.length],
      startUs: startUs + i * 10,
      durationUs: Math.max(1, 10_000 - i),
      error: i === 2,
    });
  }
  return spans;
}

function bySpanService(spans) {
  const groups = new Map();
  for (const span of spans) {
    if (!groups.has(span.service)) {
      groups.set(span.service, []);
    }
    groups.get(span.service).push(span);
  }
  return groups;
}

/** One OTLP JSON request (`{"resourceSpans": …}`), as a string. */
export function otlpJson(spans) {
  const resourceSpans = [...bySpanService(spans)].map(([service, own]) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [{
      scope: { name: 'e2e', version: '1' },
      spans: own.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        ...(span.parentId ? { parentSpanId: span.parentId } : {}),
        name: span.name,
        kind: 2,
        startTimeUnixNano: `${BigInt(span.startUs) * 1000n}`,
        endTimeUnixNano: `${BigInt(span.startUs + span.durationUs) * 1000n}`,
        attributes: [{ key: 'http.request.method', value: { stringValue: 'GET' } }],
        status: span.error ? { code: 2, message: 'boom' } : {},
      })),
    }],
  }));
  return JSON.stringify({ resourceSpans });
}

/** The Collector's file exporter: one OTLP JSON request per line. */
export function otlpJsonLines(spans) {
  const half = Math.ceil(spans.length / 2);
  return `${otlpJson(spans.slice(0, half))}\n${otlpJson(spans.slice(half))}\n`;
}

/** Jaeger JSON (`{"data": [trace, …]}`), one trace per trace id. */
export function jaegerJson(spans) {
  const traces = new Map();
  for (const span of spans) {
    if (!traces.has(span.traceId)) {
      traces.set(span.traceId, []);
    }
    traces.get(span.traceId).push(span);
  }
  const data = [...traces].map(([traceId, own]) => {
    const services = [...new Set(own.map((span) => span.service))];
    return {
      traceID: traceId,
      spans: own.map((span) => ({
        traceID: span.traceId,
        spanID: span.spanId,
        operationName: span.name,
        references: span.parentId ? [{ refType: 'CHILD_OF', traceID: span.traceId, spanID: span.parentId }] : [],
        startTime: span.startUs,
        duration: span.durationUs,
        tags: span.error ? [{ key: 'error', type: 'bool', value: true }] : [],
        logs: [],
        processID: `p${services.indexOf(span.service) + 1}`,
      })),
      processes: Object.fromEntries(services.map((service, i) => [`p${i + 1}`, { serviceName: service, tags: [] }])),
    };
  });
  return JSON.stringify({ data });
}

/** Zipkin v2 JSON: a list of spans (64-bit ids work as 128-bit ones do). */
export function zipkinJson(spans) {
  return JSON.stringify(spans.map((span) => ({
    traceId: span.traceId,
    id: span.spanId,
    ...(span.parentId ? { parentId: span.parentId } : {}),
    name: span.name,
    timestamp: span.startUs,
    duration: span.durationUs,
    localEndpoint: { serviceName: span.service },
    tags: span.error ? { error: 'boom' } : {},
  })));
}
