// Interop, proven with other people's code: OpenTelemetry's own SDKs export
// to `tracelab collector`, and each trace read back through the query API
// (Jaeger's v1 JSON) has every attribute, event, link, status and resource
// attribute it was sent with, field by field.
//
// - Python SDK, OTLP/gRPC exporter (e2e/interop/python_export.py);
// - Python SDK, OTLP/HTTP protobuf exporter, gzip;
// - JavaScript SDK, @opentelemetry/exporter-trace-otlp-http (OTLP/HTTP
//   JSON), plain and gzip (e2e/interop/js_export.mjs).
//
// Each records the same trace (see the scripts), and the expected Jaeger
// spans below are what tracelab-formats' Jaeger writer makes of it
// (crates/formats/src/jaeger.rs: OpenTelemetry's Jaeger mapping; tags are
// compared as sets, since Jaeger's readers look them up by key). No browser: this file needs only the native binary
// (TRACELAB_BIN, cargo xtask test passes target/debug/tracelab), the Python
// virtualenv that `cargo xtask setup` fills (TRACELAB_PYTHON, default
// target/interop-venv/bin/python) and the npm packages in e2e/. A missing
// one fails the test and says to run `cargo xtask setup`.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TRACELAB_BIN ?? path.join(here, '..', 'target', 'debug', 'tracelab');
const PYTHON =
  process.env.TRACELAB_PYTHON ?? path.join(here, '..', 'target', 'interop-venv', 'bin', 'python');
const INTEROP = path.join(here, 'interop');
const SETUP_HINT = 'run `cargo xtask setup` (it installs the interop tests\' Python and npm packages)';
const run = promisify(execFile);

/** The Python SDK's version, as pinned in requirements.txt: the SDK puts it
 * in its resource (telemetry.sdk.version). */
const PYTHON_SDK_VERSION = readFileSync(path.join(INTEROP, 'requirements.txt'), 'utf8')
  .match(/^opentelemetry-sdk==(\S+)$/m)?.[1];

/** The environment of the exporters: no OTEL_* variable of the caller's
 * (they would add resource attributes or change the endpoint), and
 * loopback never through a proxy. */
function exporterEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
  );
  const noProxy = ['127.0.0.1', 'localhost', env.NO_PROXY ?? env.no_proxy].filter(Boolean).join(',');
  return { ...env, NO_PROXY: noProxy, no_proxy: noProxy };
}

/** Polls `read` every 50 ms until `check` holds or `timeoutMs` passes. */
async function waitFor(read, check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() >= deadline) {
      assert.fail(`${what} (last value: ${JSON.stringify(value)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let collector;
let log = '';
let addrs;

before(async () => {
  collector = spawn(
    BIN,
    [
      'collector', '--in-memory',
      '--otlp-grpc-addr', '127.0.0.1:0', '--otlp-http-addr', '127.0.0.1:0',
      '--ui-addr', '127.0.0.1:0',
    ],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let failure;
  collector.on('error', (error) => {
    failure = `cannot start ${BIN} (build it with \`cargo build -p tracelab-server\`): ${error.message}`;
  });
  collector.on('exit', (code, signal) => {
    failure ??= `tracelab collector exited (${code ?? signal}); its log: ${log}`;
  });
  collector.stderr.on('data', (chunk) => { log += chunk; });
  addrs = await waitFor(
    () => {
      if (failure) throw new Error(failure);
      return {
        grpc: log.match(/OTLP\/gRPC on (127\.0\.0\.1:\d+)/)?.[1],
        http: log.match(/OTLP\/HTTP on http:\/\/(127\.0\.0\.1:\d+)/)?.[1],
        ui: log.match(/UI and query API on http:\/\/(127\.0\.0\.1:\d+)/)?.[1],
      };
    },
    (found) => found.grpc && found.http && found.ui,
    `tracelab collector says where it listens (log so far: ${log})`,
    20_000,
  );
});

after(() => {
  collector?.kill('SIGTERM');
});

/** Fails, saying how to install them, unless the Python SDK and both OTLP
 * exporters import in TRACELAB_PYTHON. */
async function requirePython() {
  assert.ok(existsSync(PYTHON), `no Python interpreter at ${PYTHON}: ${SETUP_HINT}`);
  try {
    await run(PYTHON, [
      '-c',
      'import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.grpc.trace_exporter, '
        + 'opentelemetry.exporter.otlp.proto.http.trace_exporter',
    ]);
  } catch (error) {
    assert.fail(`OpenTelemetry's Python packages are missing in ${PYTHON}: ${SETUP_HINT}\n${error.stderr ?? error}`);
  }
}

/** Fails, saying how to install them, unless the JavaScript SDK packages
 * are in e2e/node_modules. */
async function requireNodePackages() {
  for (const name of [
    '@opentelemetry/api',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/resources',
    '@opentelemetry/exporter-trace-otlp-http',
  ]) {
    try {
      import.meta.resolve(name);
    } catch {
      assert.fail(`the npm package ${name} is not installed in e2e/node_modules: ${SETUP_HINT}`);
    }
  }
}

/** Runs an exporter script and returns the trace id it printed. */
async function exportTrace(program, args) {
  let stdout;
  try {
    ({ stdout } = await run(program, args, { env: exporterEnv(), timeout: 60_000 }));
  } catch (error) {
    assert.fail(
      `${path.basename(program)} ${args.join(' ')} failed: ${error.message}\n${error.stderr ?? ''}\ncollector log:\n${log}`,
    );
  }
  const traceId = stdout.trim();
  assert.match(traceId, /^[0-9a-f]{32}$/, `the exporter prints a trace id: ${stdout}`);
  return traceId;
}

async function getJson(pathAndQuery) {
  const response = await fetch(`http://${addrs.ui}${pathAndQuery}`);
  return { status: response.status, body: await response.json() };
}

// Jaeger's tags and log fields: {key, type, value}.
const string = (key, value) => ({ key, type: 'string', value });
const bool = (key, value) => ({ key, type: 'bool', value });
const int64 = (key, value) => ({ key, type: 'int64', value });
const float64 = (key, value) => ({ key, type: 'float64', value });

const SCOPE_TAGS = [string('otel.scope.name', 'tracelab-interop'), string('otel.scope.version', '1.0.0')];

/** The resource attributes both scripts set, as process tags. */
const RESOURCE_TAGS = [
  string('service.version', '1.2.3'),
  bool('interop.resource.bool', true),
  int64('interop.resource.int', 7),
  float64('interop.resource.float', 0.125),
  // Arrays become JSON text in a string tag, as Jaeger's translator writes them.
  string('interop.resource.strings', '["x","y"]'),
];

/** What differs between the SDKs. */
const PYTHON_SDK = {
  // The Python exporter sets only the "has is-remote" bits (0x100) of the
  // OTLP span flags, not the W3C trace flags in the low byte, so the
  // sampled bit does not reach Jaeger's `flags` (0).
  flags: 0,
  // An integer beyond JavaScript's exact range: an int64 tag whose value is
  // a JSON number, as Jaeger's Go writes an int64 (2^62 is exact as a
  // double, so it reads back equal here).
  extraRootTags: [int64('interop.int.large', 2 ** 62)],
  // Resource.create adds the SDK's telemetry.sdk.* and a random
  // service.instance.id (checked for its form, then replaced by UUID).
  processTags: [
    string('telemetry.sdk.language', 'python'),
    string('telemetry.sdk.name', 'opentelemetry'),
    string('telemetry.sdk.version', PYTHON_SDK_VERSION),
    string('service.instance.id', 'UUID'),
    ...RESOURCE_TAGS,
  ],
};
const JS_SDK = {
  // The W3C trace flags (sampled) in the low byte of the OTLP span flags.
  flags: 1,
  extraRootTags: [],
  // resourceFromAttributes is exactly what it is given.
  processTags: RESOURCE_TAGS,
};

const EXPORTERS = [
  {
    name: 'Python SDK over OTLP/gRPC',
    service: 'interop-python-grpc',
    sdk: PYTHON_SDK,
    requirements: requirePython,
    command: () => [PYTHON, [path.join(INTEROP, 'python_export.py'), '--protocol', 'grpc', '--endpoint', `http://${addrs.grpc}`]],
  },
  {
    name: 'Python SDK over OTLP/HTTP protobuf, gzip',
    service: 'interop-python-http-protobuf',
    sdk: PYTHON_SDK,
    requirements: requirePython,
    command: () => [PYTHON, [path.join(INTEROP, 'python_export.py'), '--protocol', 'http/protobuf', '--compression', 'gzip', '--endpoint', `http://${addrs.http}`]],
  },
  {
    name: 'JavaScript SDK over OTLP/HTTP JSON',
    service: 'interop-js-http-json',
    sdk: JS_SDK,
    requirements: requireNodePackages,
    command: () => [process.execPath, [path.join(INTEROP, 'js_export.mjs'), '--endpoint', `http://${addrs.http}`]],
  },
  {
    name: 'JavaScript SDK over OTLP/HTTP JSON, gzip',
    service: 'interop-js-http-json-gzip',
    sdk: JS_SDK,
    requirements: requireNodePackages,
    command: () => [process.execPath, [path.join(INTEROP, 'js_export.mjs'), '--compression', 'gzip', '--endpoint', `http://${addrs.http}`]],
  },
];

/** The three spans as Jaeger's v1 JSON must show them, given the ids the
 * SDK chose and the root's start (microseconds). */
function expectedSpans({ traceId, ids, rootStart, sdk }) {
  const span = (name, fields) => ({
    traceID: traceId,
    spanID: ids[name],
    ...(sdk.flags === undefined ? {} : { flags: sdk.flags }),
    operationName: name,
    ...fields,
    processID: 'p1',
    warnings: null,
  });
  const childOf = (name) => ({ refType: 'CHILD_OF', traceID: traceId, spanID: ids[name] });
  return [
    span('GET /interop', {
      references: [],
      startTime: rootStart,
      // 9,000,999 ns: microseconds, truncated.
      duration: 9000,
      tags: [
        ...SCOPE_TAGS,
        string('interop.string', 'tracelab "interop" \u2713'),
        bool('interop.bool', true),
        int64('interop.int', -42),
        float64('interop.float', 2.5),
        string('interop.strings', '["a","b \\"c\\""]'),
        string('interop.ints', '[1,-2,3]'),
        string('interop.bools', '[true,false]'),
        string('interop.floats', '[1.5,-0.25]'),
        ...sdk.extraRootTags,
        string('span.kind', 'server'),
      ],
      logs: [
        {
          // 3,000,250 ns after the root's start.
          timestamp: rootStart + 3000,
          fields: [
            string('event', 'cache.miss'),
            string('interop.event.key', 'band-7'),
            int64('interop.event.attempt', 2),
            bool('interop.event.retry', true),
            float64('interop.event.ratio', 0.75),
          ],
        },
      ],
    }),
    span('render interop', {
      references: [childOf('GET /interop')],
      // 1,000,500 ns after the root's start, ended at 8,000,000: a
      // duration of 6,999,500 ns, truncated on its own as Jaeger's
      // translator does (not the 7000 µs between the truncated ends).
      startTime: rootStart + 1000,
      duration: 6999,
      tags: [...SCOPE_TAGS, string('span.kind', 'internal'), string('otel.status_code', 'OK')],
      logs: [],
    }),
    span('SELECT interop', {
      // The parent first, then the link (no opentracing.ref_type
      // attribute, so FOLLOWS_FROM); the link's own attributes have no
      // place in Jaeger's model, so they ride on a `tags` field of the
      // reference, which Jaeger ignores and tracelab's importer reads.
      references: [
        childOf('render interop'),
        {
          refType: 'FOLLOWS_FROM',
          traceID: traceId,
          spanID: ids['GET /interop'],
          tags: [string('interop.link.reason', 'retry')],
        },
      ],
      startTime: rootStart + 2000,
      duration: 4000,
      tags: [
        ...SCOPE_TAGS,
        string('db.system.name', 'sqlite'),
        int64('server.port', 5432),
        string('span.kind', 'client'),
        string('otel.status_code', 'ERROR'),
        bool('error', true),
        string('otel.status_description', 'interop-db refused the connection'),
      ],
      logs: [],
    }),
  ];
}

/** The span with its tags sorted by key (then value): Jaeger's readers
 * look tags up by key, and the writer puts the scope's tags after the
 * attributes where Jaeger's translator puts them first. */
function byKey(span) {
  if (!span) return span;
  const order = (a, b) => (a.key + JSON.stringify(a.value)).localeCompare(b.key + JSON.stringify(b.value));
  return { ...span, tags: [...span.tags].sort(order) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const exporter of EXPORTERS) {
  test(`${exporter.name}: the trace reads back with every field intact`, async () => {
    await exporter.requirements();
    const [program, args] = exporter.command();
    const traceId = await exportTrace(program, [...args, '--service', exporter.service]);

    // The exporter printed the id after the collector acknowledged the
    // export, and acknowledged means committed: the trace is there at once.
    const { status, body } = await waitFor(
      () => getJson(`/api/traces/${traceId}`),
      (answer) => answer.status === 200 && answer.body.data?.[0]?.spans?.length === 3,
      `the trace ${traceId} is stored with its 3 spans`,
    );
    assert.equal(status, 200);
    // Jaeger's own /api/traces/{id} leaves `total` at 0.
    assert.deepEqual(
      { ...body, data: undefined },
      { data: undefined, total: 0, limit: 0, offset: 0, errors: null },
      'the envelope of Jaeger\'s answer',
    );
    const trace = body.data[0];
    assert.equal(trace.traceID, traceId);
    assert.equal(trace.warnings, null);

    const names = trace.spans.map((span) => span.operationName).sort();
    assert.deepEqual(names, ['GET /interop', 'SELECT interop', 'render interop']);
    const ids = Object.fromEntries(trace.spans.map((span) => [span.operationName, span.spanID]));
    for (const id of Object.values(ids)) assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(new Set(Object.values(ids)).size, 3, 'three distinct span ids');

    // The scripts start the root on a whole millisecond of the last minutes.
    const rootStart = trace.spans.find((span) => span.operationName === 'GET /interop').startTime;
    assert.equal(rootStart % 1000, 0, `the root starts on a whole millisecond: ${rootStart}`);
    assert.ok(Math.abs(rootStart / 1000 - Date.now()) < 5 * 60_000, `the root starts now: ${rootStart}`);

    for (const want of expectedSpans({ traceId, ids, rootStart, sdk: exporter.sdk })) {
      const got = trace.spans.find((span) => span.operationName === want.operationName);
      assert.deepEqual(byKey(got), byKey(want), `the span ${want.operationName}`);
    }

    // One process: the resource. service.name is its serviceName, the
    // other attributes its tags.
    assert.deepEqual(Object.keys(trace.processes), ['p1']);
    const resource = trace.processes.p1;
    const instance = resource.tags.find((tag) => tag.key === 'service.instance.id');
    if (instance) {
      assert.equal(instance.type, 'string');
      assert.match(instance.value, UUID, 'service.instance.id is a UUID');
      instance.value = 'UUID';
    }
    assert.deepEqual(resource, { serviceName: exporter.service, tags: exporter.sdk.processTags });

    // The attributes are searchable by their text, as Jaeger UI searches.
    const search = (tags) =>
      getJson(`/api/traces?service=${encodeURIComponent(exporter.service)}&lookback=1h&tags=${encodeURIComponent(JSON.stringify(tags))}`);
    const found = await search({ 'interop.string': 'tracelab "interop" \u2713', 'interop.int': '-42' });
    assert.equal(found.status, 200);
    assert.deepEqual(found.body.data.map((each) => each.traceID), [traceId]);
    const none = await search({ 'interop.int': '-43' });
    assert.deepEqual(none.body.data, [], 'a tag value no span has finds no trace');

    const operations = await getJson(`/api/services/${encodeURIComponent(exporter.service)}/operations`);
    assert.deepEqual(operations.body.data, ['GET /interop', 'SELECT interop', 'render interop']);
  });
}

test('the services list names every exporter\'s service', async () => {
  const { status, body } = await getJson('/api/services');
  assert.equal(status, 200);
  // Only the services whose export succeeded above; this collector saw no other.
  const expected = EXPORTERS.map((exporter) => exporter.service).sort();
  assert.deepEqual(body.data, expected);
  assert.equal(body.total, expected.length);
});

// Files from real producers, loaded with `tracelab import`: the SDKs'
// exporters send to a small server of this test's, which keeps each body
// as a file, exactly as the exporter wrote it:
// - the JavaScript SDK's OTLP/HTTP JSON exporter: an OTLP JSON file;
// - the Python SDK's Zipkin JSON exporter (opentelemetry-exporter-zipkin-json,
//   POST /api/v2/spans): a Zipkin v2 file;
// - the Python SDK's OTLP/HTTP protobuf exporter, its body printed by
//   protobuf's own JSON mapping (interop/otlp_protobuf_to_json.py: base64
//   ids, enums by name), as tools built on protobuf's library write OTLP.
// Each file is imported into the collector above, and the trace read back
// through the query API must have the spans' names, parents, attributes,
// event and status. These run after the services test above, which lists
// only the exporters' services.

/** Runs `produce(url)` against a server that keeps every request's body
 * (gunzipped) and answers as an OTLP or Zipkin collector would; returns
 * what `produce` returned and the bodies, by path. */
async function capture(produce) {
  const bodies = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      bodies.push({ path: request.url, contentType: request.headers['content-type'] ?? '', body });
      if ((request.headers['content-type'] ?? '').includes('protobuf')) {
        // An empty ExportTraceServiceResponse: full success.
        response.writeHead(200, { 'content-type': 'application/x-protobuf' });
        response.end();
      } else if (request.url === '/v1/traces') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      } else {
        // Zipkin's collector answers 202 Accepted.
        response.writeHead(202);
        response.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const result = await produce(`http://127.0.0.1:${server.address().port}`);
    return { result, bodies };
  } finally {
    server.close();
  }
}

const filesDir = mkdtempSync(path.join(tmpdir(), 'tracelab-interop-files-'));
after(() => rmSync(filesDir, { recursive: true, force: true }));

/** Runs an exporter (`args(url)` for the capture server's url) and keeps
 * the body it posted to `wanted` as the file `name` in filesDir. */
async function exportToFile(name, wanted, program, args) {
  const { result, bodies } = await capture((url) => exportTrace(program, args(url)));
  const body = bodies.find((each) => each.path === wanted)?.body;
  assert.ok(body, `the exporter posted to ${wanted}: ${JSON.stringify(bodies.map((each) => each.path))}`);
  const file = path.join(filesDir, name);
  writeFileSync(file, body);
  return { traceId: result, file };
}

const PRODUCERS = [
  {
    name: 'the JavaScript SDK\'s OTLP/HTTP JSON exporter',
    service: 'file-js-otlp-json',
    format: 'OTLP JSON',
    requirements: requireNodePackages,
    // Numbers keep their OTLP types.
    typed: true,
    file: (service) => exportToFile(`${service}.json`, '/v1/traces', process.execPath, (url) =>
      [path.join(INTEROP, 'js_export.mjs'), '--endpoint', url, '--service', service]),
  },
  {
    name: 'the Python SDK\'s Zipkin JSON exporter',
    service: 'file-python-zipkin',
    format: 'Zipkin v2 JSON',
    requirements: async () => {
      await requirePython();
      try {
        await run(PYTHON, ['-c', 'import opentelemetry.exporter.zipkin.json']);
      } catch (error) {
        assert.fail(`opentelemetry-exporter-zipkin-json is missing in ${PYTHON}: ${SETUP_HINT}\n${error.stderr ?? error}`);
      }
    },
    // Zipkin's tags are strings.
    typed: false,
    file: (service) => exportToFile(`${service}.json`, '/api/v2/spans', PYTHON, (url) =>
      [path.join(INTEROP, 'python_export.py'), '--protocol', 'zipkin-json', '--endpoint', url, '--service', service]),
  },
  {
    name: 'the Python SDK\'s OTLP/HTTP protobuf exporter, printed by protobuf\'s JSON mapping',
    service: 'file-python-otlp-protobuf-json',
    format: 'OTLP JSON',
    requirements: requirePython,
    typed: true,
    async file(service) {
      const { traceId, file: protobuf } = await exportToFile(`${service}.bin`, '/v1/traces', PYTHON, (url) =>
        [path.join(INTEROP, 'python_export.py'), '--protocol', 'http/protobuf', '--endpoint', url, '--service', service]);
      const { stdout } = await run(PYTHON, [path.join(INTEROP, 'otlp_protobuf_to_json.py'), protobuf]);
      const file = path.join(filesDir, `${service}.json`);
      writeFileSync(file, stdout);
      return { traceId, file };
    },
  },
];

for (const producer of PRODUCERS) {
  test(`a trace file from ${producer.name} loads with tracelab import`, async () => {
    await producer.requirements();
    const { traceId, file } = await producer.file(producer.service);

    let stdout;
    try {
      ({ stdout } = await run(BIN, ['import', '--endpoint', `http://${addrs.http}`, '--ui-url', `http://${addrs.ui}`, file]));
    } catch (error) {
      assert.fail(`tracelab import ${file} failed (${error.code}): ${error.stdout}${error.stderr}`);
    }
    assert.ok(
      stdout.includes(`${file}: ${producer.format}, 1 trace, 3 spans loaded`),
      `the import says what it loaded: ${stdout}`,
    );
    assert.ok(stdout.includes(`http://${addrs.ui}/trace/${traceId}`), `the import links the trace: ${stdout}`);

    // Imported means acknowledged means committed: the trace is there at once.
    const { status, body } = await getJson(`/api/traces/${traceId}`);
    assert.equal(status, 200);
    const trace = body.data[0];
    assert.equal(trace.spans.length, 3);
    const named = Object.fromEntries(trace.spans.map((span) => [span.operationName, span]));
    assert.deepEqual(Object.keys(named).sort(), ['GET /interop', 'SELECT interop', 'render interop']);
    const parentOf = (span) => span.references.find((reference) => reference.refType === 'CHILD_OF')?.spanID;
    assert.equal(parentOf(named['GET /interop']), undefined, 'the root has no parent');
    assert.equal(parentOf(named['render interop']), named['GET /interop'].spanID);
    assert.equal(parentOf(named['SELECT interop']), named['render interop'].spanID);
    for (const span of trace.spans) {
      assert.equal(trace.processes[span.processID].serviceName, producer.service);
    }

    const tag = (span, key) => named[span].tags.find((each) => each.key === key);
    assert.deepEqual(tag('GET /interop', 'interop.string'), string('interop.string', 'tracelab "interop" \u2713'));
    assert.deepEqual(tag('GET /interop', 'interop.int'), producer.typed ? int64('interop.int', -42) : string('interop.int', '-42'));
    assert.deepEqual(tag('GET /interop', 'interop.bool'), producer.typed ? bool('interop.bool', true) : string('interop.bool', 'true'));
    assert.deepEqual(tag('GET /interop', 'interop.strings'), string('interop.strings', '["a","b \\"c\\""]'));
    assert.deepEqual(tag('GET /interop', 'span.kind'), string('span.kind', 'server'));
    assert.deepEqual(tag('SELECT interop', 'server.port'), producer.typed ? int64('server.port', 5432) : string('server.port', '5432'));
    assert.deepEqual(tag('SELECT interop', 'otel.status_code'), string('otel.status_code', 'ERROR'));
    assert.deepEqual(tag('SELECT interop', 'otel.status_description'), string('otel.status_description', 'interop-db refused the connection'));
    assert.deepEqual(tag('render interop', 'otel.status_code'), string('otel.status_code', 'OK'));

    // The event, its name and its attributes (Zipkin's exporter writes them
    // as `{"cache.miss":{…}}` in the annotation's value, which the importer
    // reads back into both).
    const logs = named['GET /interop'].logs;
    assert.equal(logs.length, 1);
    const field = (key) => logs[0].fields.find((each) => each.key === key)?.value;
    assert.equal(field('event'), 'cache.miss');
    assert.equal(field('interop.event.key'), 'band-7');
    if (producer.typed) {
      // OTLP carries the link, its attributes and the resource.
      assert.deepEqual(named['SELECT interop'].references[1], {
        refType: 'FOLLOWS_FROM',
        traceID: traceId,
        spanID: named['GET /interop'].spanID,
        tags: [string('interop.link.reason', 'retry')],
      });
      assert.deepEqual(
        trace.processes[named['GET /interop'].processID].tags.find((each) => each.key === 'service.version'),
        string('service.version', '1.2.3'),
      );
    }
  });
}
