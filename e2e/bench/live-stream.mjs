// Browser benchmark: the Live page against a real `tracelab collector`.
// Not a test (timings are never asserted); run with `cargo xtask bench`, or
// by hand (after `cargo build --release -p tracelab-server --bin tracelab`
// and a release build of the app):
//
//   cd e2e/bench && TRACELAB_DIST=../../dist node live-stream.mjs
//
// It starts the release `tracelab collector --in-memory` on free ports,
// serving the app from TRACELAB_DIST, opens `/live` in Chromium, and sends
// OTLP/HTTP JSON from this process (one exporter, each request waits for
// the one before). What it reports:
//
// 1. Acknowledgement → row, empty list: BATCHES requests of one 8-span
//    trace each; for each, the time from this process receiving the HTTP
//    200 to the page's `live-row` for that trace entering the DOM, or an
//    existing row taking its `data-trace-id` (a MutationObserver in the
//    page, installed before the app; its callback runs in the task that
//    changed the DOM, before layout and paint). A
//    random pause of 0–300 ms between requests keeps them from falling
//    into step with the collector's summarizing ticks. Also the time the
//    trace's event reached the page (an `EventSource` listener installed
//    before the app's), to tell the server's share from the page's.
// 2. Filling: FILL traces, FILL_BATCH traces (of 8 spans) per request, sent
//    as fast as they are acknowledged. Reported: for each request, from its
//    acknowledgement to the last of its traces' events reaching the page
//    (only the newest 200 are drawn as rows, so rows cannot be timed here);
//    from the last request's acknowledgement until the page has received
//    every trace's event and until its count shows them; the main-thread
//    tasks over 50 ms while the events stream in (PerformanceObserver
//    'longtask') and the gaps between animation frames.
// 3. Acknowledgement → row again, with the list full (FILL traces kept).
// 4. Typing in the search box with the list full: for each keystroke the
//    time from the input event to the app's last DOM change for it, as in
//    decode-keystroke.mjs. The root names carry the trace's number, and
//    digits are typed and erased, so that every keystroke changes the list
//    (a keystroke that leaves the same traces matching changes no row).
//
// Clocks: the page's and this process's times are both
// `performance.timeOrigin + performance.now()` (Unix milliseconds); the
// offset between the two is measured (the round trip with the shortest
// time of CALIBRATIONS) and removed, and its uncertainty printed.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { launchBrowser, openPage, waitFor } from '../support/browser.mjs';
import { DIST } from '../support/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TRACELAB_BIN ?? path.join(here, '..', '..', 'target', 'release', 'tracelab');
const BATCHES = Number(process.env.TRACELAB_LIVE_BATCHES ?? 50);
const FILL = Number(process.env.TRACELAB_LIVE_FILL ?? 5000);
const FILL_BATCH = Number(process.env.TRACELAB_LIVE_FILL_BATCH ?? 100);
const CALIBRATIONS = 30;
const SETTLE_MS = 150;
const ROW_TIMEOUT_MS = 30_000;

const nowEpoch = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- OTLP/HTTP JSON ------------------------------------------------------

const ROOTS = ['GET /bands/:id', 'GET /bands', 'POST /reviews', 'GET /health', 'checkout'];
const str = (key, value) => ({ key, value: { stringValue: value } });
const hex = (bytes) => randomBytes(bytes).toString('hex');

/** One trace: client → bands-api → reviews-api, 8 spans, now. */
function trace(n) {
  const traceId = hex(16);
  const start = BigInt(Date.now()) * 1_000_000n;
  const ms = 1_000_000n;
  const ids = Array.from({ length: 8 }, () => hex(8));
  const error = n % 17 === 0;
  const span = (i, parent, name, from, to, kind) => ({
    traceId,
    spanId: ids[i],
    parentSpanId: parent === null ? '' : ids[parent],
    name,
    kind,
    startTimeUnixNano: String(start + BigInt(from) * ms),
    endTimeUnixNano: String(start + BigInt(to) * ms),
    attributes: [str('http.route', name)],
    status: error && i === 5 ? { code: 2, message: 'boom' } : {},
  });
  const duration = 20 + (n % 200);
  const byService = {
    client: [span(0, null, `${ROOTS[n % ROOTS.length]} #${n}`, 0, duration, 3), span(1, 0, 'connect', 1, 2, 1)],
    'bands-api': [
      span(2, 0, 'GET /bands/:id', 2, duration - 2, 2),
      span(3, 2, 'get_reviews', 3, duration - 4, 3),
      span(4, 2, 'SELECT bands', 2, 4, 3),
    ],
    'reviews-api': [
      span(5, 3, 'GET /reviews', 4, duration - 5, 2),
      span(6, 5, 'get_reviews_by_band_id', 5, duration - 6, 1),
      span(7, 6, 'SELECT reviews', 6, duration - 7, 3),
    ],
  };
  return { traceId, byService };
}

/** One export request holding `traces`. */
function request(traces) {
  const services = ['client', 'bands-api', 'reviews-api'];
  return {
    resourceSpans: services.map((service) => ({
      resource: { attributes: [str('service.name', service)] },
      scopeSpans: [{ scope: { name: 'live-bench' }, spans: traces.flatMap((t) => t.byService[service]) }],
    })),
  };
}

/** Sends `traces`; the time of the acknowledgement. */
async function send(endpoint, traces) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request(traces)),
  });
  const at = nowEpoch();
  const body = await response.text();
  if (response.status !== 200) throw new Error(`the collector answered ${response.status}: ${body}`);
  if (body.includes('rejected')) throw new Error(`the collector rejected spans: ${body}`);
  return at;
}

// ---- the page's probes ---------------------------------------------------

// Runs in the page before the app.
function probe() {
  const epoch = () => performance.timeOrigin + performance.now();
  const live = { rows: new Map(), events: new Map(), eventCount: 0, counts: [], longTasks: [], frames: [] };
  window.__live = live;
  // Every trace event, seen before the app's own listener sees it.
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('trace', (event) => {
        const id = /"traceId":"([0-9a-f]{32})"/.exec(event.data)?.[1];
        live.eventCount += 1;
        if (id && !live.events.has(id)) live.events.set(id, epoch());
      });
    }
  };
  // The first time each trace's row enters the DOM, and each change of the count.
  let lastCount = '';
  new MutationObserver((records) => {
    const at = epoch();
    for (const record of records) {
      // Leptos redraws a list in place: a row shown before may be given
      // another trace's id.
      if (record.type === 'attributes') {
        const id = record.target.getAttribute('data-trace-id');
        if (id && !live.rows.has(id)) live.rows.set(id, at);
        continue;
      }
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        const rows = node.matches('[data-testid="live-row"]')
          ? [node]
          : node.querySelectorAll('[data-testid="live-row"]');
        for (const row of rows) {
          const id = row.getAttribute('data-trace-id');
          if (id && !live.rows.has(id)) live.rows.set(id, at);
        }
      }
    }
    const count = document.querySelector('[data-testid="live-count"]')?.textContent ?? '';
    if (count !== lastCount) {
      lastCount = count;
      live.counts.push([at, count]);
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['data-trace-id'],
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) live.longTasks.push([performance.timeOrigin + entry.startTime, entry.duration]);
  }).observe({ type: 'longtask', buffered: true });
  // Frame gaps, recorded only between __live.framesOn and off.
  const frame = (time) => {
    if (live.framesOn) live.frames.push(performance.timeOrigin + time);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // Keystroke → last DOM change, for the search box.
  live.keystroke = null;
  new MutationObserver(() => {
    if (live.keystroke) live.keystroke.last = performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  document.addEventListener('input', () => {
    live.keystroke = { input: performance.now(), last: null };
  }, { capture: true });
}

// ---- statistics ----------------------------------------------------------

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}
const ms = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const line = (s) => `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${ms(s.max)} (n = ${s.n})`;

/** This process's clock minus the page's, and half the round trip it was read in. */
async function calibrate(page) {
  let best = null;
  for (let i = 0; i < CALIBRATIONS; i++) {
    const before = nowEpoch();
    const inPage = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = nowEpoch();
    const rtt = after - before;
    if (!best || rtt < best.rtt) best = { rtt, offset: (before + after) / 2 - inPage };
  }
  return { offset: best.offset, error: best.rtt / 2 };
}

/** Acknowledgement → row (and → event) for `count` one-trace requests. */
async function ackToRow(page, endpoint, count, clock) {
  const rows = [];
  const events = [];
  for (let i = 0; i < count; i++) {
    await sleep(Math.random() * 300);
    const t = trace(i);
    const acked = await send(endpoint, [t]);
    const seen = await page.waitForFunction(
      (id) => {
        const row = window.__live.rows.get(id);
        return row === undefined ? false : [row, window.__live.events.get(id) ?? null];
      },
      t.traceId,
      { timeout: ROW_TIMEOUT_MS, polling: 25 },
    ).then((handle) => handle.jsonValue());
    rows.push(seen[0] + clock.offset - acked);
    if (seen[1] !== null) events.push(seen[1] + clock.offset - acked);
  }
  return { rows: stats(rows), events: stats(events) };
}

// ---- the run -------------------------------------------------------------

const collector = spawn(
  BIN,
  [
    'collector', '--in-memory',
    '--otlp-grpc-addr', '127.0.0.1:0', '--otlp-http-addr', '127.0.0.1:0',
    '--ui-addr', '127.0.0.1:0', '--ui-dir', DIST,
  ],
  { env: { ...process.env, NO_COLOR: '1', TRACELAB_LOG: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
let failure;
collector.stderr.on('data', (chunk) => { log += chunk; });
collector.on('error', (error) => {
  failure = `cannot start ${BIN} (cargo build --release -p tracelab-server --bin tracelab): ${error.message}`;
});
collector.on('exit', (code, signal) => { failure ??= `tracelab collector exited (${code ?? signal}): ${log}`; });

const browser = await launchBrowser();
try {
  const addrs = await waitFor(
    () => {
      if (failure) throw new Error(failure);
      return {
        http: log.match(/OTLP\/HTTP on http:\/\/(127\.0\.0\.1:\d+)/)?.[1],
        ui: log.match(/UI and query API on http:\/\/(127\.0\.0\.1:\d+)/)?.[1],
      };
    },
    (found) => found.http && found.ui,
    'tracelab collector says where it listens',
    20_000,
  );
  const endpoint = `http://${addrs.http}/v1/traces`;
  const { page, assertClean } = await openPage(browser);
  await page.addInitScript(probe);
  await page.goto(`http://${addrs.ui}/live`);
  await waitFor(
    () => page.getByTestId('live-status').textContent().catch(() => ''),
    (text) => text.startsWith('Connected'),
    'the Live page follows the stream',
  );
  const clock = await calibrate(page);
  console.log(`Live page against tracelab collector --in-memory (release), OTLP/HTTP JSON, 8 spans a trace`);
  console.log(`  clocks: page and benchmark agree within ±${ms(clock.error)}`);

  // 1. An empty list.
  const empty = await ackToRow(page, endpoint, BATCHES, clock);
  console.log(`  ack → row, list empty, ${BATCHES} requests of 1 trace: ${line(empty.rows)}`);
  console.log(`    (ack → event in the page: ${line(empty.events)})`);

  // 2. Filling the list.
  await page.evaluate(() => {
    window.__live.longTasks.length = 0;
    window.__live.frames.length = 0;
    window.__live.framesOn = true;
  });
  const fillStart = nowEpoch();
  const fillIds = [];
  const fillBatches = [];
  let lastAck = 0;
  for (let sent = 0; sent < FILL; sent += FILL_BATCH) {
    const traces = Array.from({ length: Math.min(FILL_BATCH, FILL - sent) }, (_, i) => trace(sent + i));
    lastAck = await send(endpoint, traces);
    fillBatches.push({ acked: lastAck, ids: traces.map((t) => t.traceId) });
    for (const t of traces) fillIds.push(t.traceId);
  }
  const sending = lastAck - fillStart;
  // The page keeps the newest 5,000 (tracelab_trace::summary::KEPT).
  const kept = Math.min(FILL + BATCHES, 5000);
  const target = `${kept} of ${kept} traces`;
  const caughtUp = await page.waitForFunction(
    ([ids, target]) => {
      const live = window.__live;
      if (!ids.every((id) => live.events.has(id))) return false;
      const shown = live.counts.find(([, text]) => text === target);
      if (!shown) return false;
      return [Math.max(...ids.map((id) => live.events.get(id))), shown[0]];
    },
    [fillIds, target],
    { timeout: 120_000, polling: 200 },
  ).then((handle) => handle.jsonValue());
  await sleep(500);
  const during = await page.evaluate((ids) => {
    const live = window.__live;
    live.framesOn = false;
    return {
      longTasks: live.longTasks,
      frames: live.frames,
      eventCount: live.eventCount,
      events: ids.map((id) => live.events.get(id)),
    };
  }, fillIds);
  // Each request: from its acknowledgement to the last of its traces' events.
  const eventAt = new Map(fillIds.map((id, i) => [id, during.events[i] + clock.offset]));
  const perBatch = fillBatches.map(({ acked, ids }) => Math.max(...ids.map((id) => eventAt.get(id))) - acked);
  const windowEnd = caughtUp[1] + clock.offset;
  const tasks = during.longTasks.filter(([start]) => start + clock.offset >= fillStart && start + clock.offset <= windowEnd + 500);
  const longest = tasks.reduce((max, [, duration]) => Math.max(max, duration), 0);
  const gaps = during.frames.slice(1).map((t, i) => t - during.frames[i]);
  console.log(`  filling: ${FILL} traces in requests of ${FILL_BATCH}, sent in ${ms(sending)}`);
  console.log(`    each request's ack → its last trace's event in the page: ${line(stats(perBatch))}`);
  console.log(`    last ack → every trace's event in the page: ${ms(caughtUp[0] + clock.offset - lastAck)}`);
  console.log(`    last ack → the count shows "${target}": ${ms(caughtUp[1] + clock.offset - lastAck)}`);
  console.log(`    main-thread tasks over 50 ms while they streamed in: ${tasks.length}, longest ${ms(longest)}`);
  if (gaps.length) console.log(`    frame gaps: ${line(stats(gaps))}`);

  // 3. The list full.
  const full = await ackToRow(page, endpoint, BATCHES, clock);
  console.log(`  ack → row, ${kept} traces listed, ${BATCHES} requests of 1 trace: ${line(full.rows)}`);
  console.log(`    (ack → event in the page: ${line(full.events)})`);

  // 4. Typing in the search box, the list full.
  const input = page.getByTestId('live-filter-text');
  await input.focus();
  const keys = [];
  // Each trace's root name has its number: every digit typed or erased
  // changes which traces match, so every keystroke changes the list.
  for (const word of ['1234', '4321', '2468']) {
    for (const key of word) keys.push(key);
    for (let i = 0; i < word.length; i++) keys.push('Backspace');
  }
  const typing = [];
  for (const key of keys) {
    await page.keyboard.press(key);
    await sleep(SETTLE_MS);
    const sample = await page.evaluate(() => window.__live.keystroke);
    if (!sample || sample.last === null) throw new Error(`keystroke ${key} changed nothing on the page`);
    typing.push(sample.last - sample.input);
  }
  console.log(`  search box, ${kept} traces listed, ${keys.length} keystrokes (digits of root names typed and erased):`);
  console.log(`    input event → last DOM change: ${line(stats(typing))}`);
  console.log('  targets: the list updated within 1 s of the acknowledgement; no task over 50 ms; a keystroke under 16 ms');
  await assertClean();
} finally {
  await browser.close();
  collector.kill('SIGTERM');
}
