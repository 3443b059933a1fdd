// The /trace/{id} page: the link `tracelab call` prints, opened in the app
// that `tracelab up` serves, shows the real trace in the waterfall; opened
// where no collector answers (the static server, as `trunk serve`), it says
// where traces come from. TRACELAB_BIN is the native binary (cargo xtask
// test passes target/debug/tracelab).

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { CSP_PROBE, openPage, waitFor } from './support/browser.mjs';
import { browser, DIST, server, useApp } from './support/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TRACELAB_BIN ?? path.join(here, '..', 'target', 'debug', 'tracelab');
const run = promisify(execFile);

useApp();

test('where no collector answers, the trace page says where traces come from', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(`${server.url}trace/4bf92f3577b34da6a3ce929d0e0e4736`);
  const error = await waitFor(
    () => page.getByTestId('trace-error').textContent().catch(() => ''),
    (text) => text.includes('tracelab up'),
    'the page names tracelab up',
  );
  assert.match(error, /tracelab call/);
  await page.goto(`${server.url}trace/not-an-id`);
  await waitFor(
    () => page.getByTestId('trace-error').textContent().catch(() => ''),
    (text) => text.includes('is not a trace id'),
    'a malformed id is named as such',
  );
  await assertClean();
});

/** Starts `tracelab up` on free ports and reads where each part listens. */
async function startLab() {
  const child = spawn(
    BIN,
    [
      'up', '--in-memory', '--step', '6',
      '--bands-addr', '127.0.0.1:0', '--reviews-addr', '127.0.0.1:0',
      '--otlp-grpc-addr', '127.0.0.1:0', '--otlp-http-addr', '127.0.0.1:0',
      '--ui-addr', '127.0.0.1:0', '--ui-dir', DIST,
    ],
    {
      // Export every span at once rather than after the SDK's 5 s.
      env: { ...process.env, OTEL_BSP_SCHEDULE_DELAY: '100', TRACELAB_LOG: 'info', NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const addrs = await waitFor(
    () => ({
      bands: log.match(/listening on http:\/\/(127\.0\.0\.1:\d+) service="?bands-api/)?.[1],
      reviews: log.match(/listening on http:\/\/(127\.0\.0\.1:\d+) service="?reviews-api/)?.[1],
      grpc: log.match(/OTLP\/gRPC on (127\.0\.0\.1:\d+)/)?.[1],
      ui: log.match(/UI and query API on http:\/\/(127\.0\.0\.1:\d+)/)?.[1],
    }),
    (found) => found.bands && found.reviews && found.grpc && found.ui,
    `tracelab up says where it listens (log so far: ${log})`,
    20_000,
  );
  // The Live page reads and sets the services' switches, from the page.
  const services = [`http://${addrs.bands}`, `http://${addrs.reviews}`];
  return { child, addrs, services, log: () => log };
}

test('the link tracelab call prints opens the real trace in the waterfall', async () => {
  const lab = await startLab();
  try {
    const { stdout } = await run(
      BIN,
      ['call', '--bands-addr', lab.addrs.bands, '--ui-url', `http://${lab.addrs.ui}`],
      { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${lab.addrs.grpc}`, OTEL_BSP_SCHEDULE_DELAY: '100' } },
    );
    assert.match(stdout, /"name": "Fugazi"/);
    const link = stdout.match(/trace: (http:\/\/\S+)/)?.[1];
    assert.ok(link, `the call prints a trace link: ${stdout}`);
    const traceId = link.split('/trace/')[1];

    // The client's 2 spans, bands-api's 3 and reviews-api's 3 (step 6: one
    // query) reach the collector within a moment of the call.
    await waitFor(
      async () => {
        const response = await fetch(`http://${lab.addrs.ui}/api/traces/${traceId}`);
        if (response.status !== 200) return 0;
        const body = await response.json();
        return body.data[0].spans.length;
      },
      (count) => count === 8,
      'the trace is stored with all 8 spans',
      20_000,
    );

    const { page, assertClean } = await openPage(browser);
    await page.goto(link);
    const summary = await waitFor(
      () => page.getByTestId('trace-summary').textContent().catch(() => ''),
      (text) => text.includes('8 spans'),
      'the page says what it shows',
    );
    assert.match(summary, /3 services/);
    const rows = await waitFor(
      () => page.getByTestId('wf-row').allTextContents(),
      (texts) => texts.length === 8,
      'every span is a row of the waterfall',
    );
    for (const name of ['get_band', 'GET /bands/:id', 'get_reviews', 'get_reviews_by_band_id', 'SELECT reviews']) {
      assert.ok(rows.some((row) => row.includes(name)), `a row for ${name}: ${rows.join(' | ')}`);
    }
    // The trace on screen downloads as Jaeger JSON (made by the import
    // worker, within the page's connection policy) and shares as a link
    // that the Import page opens with the same spans.
    const downloading = page.waitForEvent('download');
    await page.getByTestId('export-jaeger').click();
    const exported = JSON.parse(await readFile(await (await downloading).path(), 'utf8'));
    assert.equal(exported.data[0].spans.length, 8);
    await page.getByTestId('share').click();
    const shared = await page.getByTestId('share-link').getAttribute('href');
    const ids = () => page.getByTestId('wf-row').evaluateAll((all) => all.map((row) => row.dataset.spanId).sort());
    const before = await ids();
    await page.goto(shared);
    await waitFor(ids, (after) => JSON.stringify(after) === JSON.stringify(before), 'the share link opens the same spans');
    await assertClean();
  } finally {
    lab.child.kill('SIGTERM');
  }
});

test('the Live page says where traces come from when nothing collects them', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(`${server.url}live`);
  await waitFor(
    () => page.getByTestId('live-status').textContent().catch(() => ''),
    (text) => text.includes('tracelab up'),
    'the Live page names tracelab up',
  );
  await assertClean();
});

test('a call made while the Live page is open appears in its list, and opens in the waterfall', async () => {
  const lab = await startLab();
  try {
    const { page, assertClean } = await openPage(browser);
    await page.goto(`http://${lab.addrs.ui}/live`);
    await waitFor(
      () => page.getByTestId('live-status').textContent().catch(() => ''),
      (text) => text.startsWith('Connected'),
      'the page follows the live stream',
    );
    const { stdout } = await run(
      BIN,
      ['call', '--bands-addr', lab.addrs.bands, '--ui-url', `http://${lab.addrs.ui}`],
      { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${lab.addrs.grpc}`, OTEL_BSP_SCHEDULE_DELAY: '100' } },
    );
    const traceId = stdout.match(/trace: \S+\/trace\/([0-9a-f]{32})/)?.[1];
    assert.ok(traceId, stdout);
    const row = page.locator(`[data-testid="live-row"][data-trace-id="${traceId}"]`);
    // The summary is published as spans arrive; the client's own spans come
    // last, so wait for the whole trace.
    const text = await waitFor(
      () => row.textContent().catch(() => ''),
      (content) => content.includes('client: get_band') && content.includes('reviews-api'),
      'the call is listed, with its root and every service',
      20_000,
    );
    assert.match(text, /bands-api/);

    // The search narrows the list; a search for nothing there empties it.
    await page.getByTestId('live-filter-text').fill('no-such-operation');
    await waitFor(() => row.count(), (count) => count === 0, 'the search hides the row');
    await page.getByTestId('live-filter-text').fill('get_band');
    await waitFor(() => row.count(), (count) => count === 1, 'the row is back');

    await row.locator('a').click();
    await waitFor(
      () => page.getByTestId('trace-summary').textContent().catch(() => ''),
      (content) => content.includes(traceId),
      'the row opens the trace',
    );
    await assertClean([], { origins: lab.services });
  } finally {
    lab.child.kill('SIGTERM');
  }
});

/** Posts OTLP JSON to the lab's collector (the UI port takes OTLP/HTTP) and expects it taken. */
async function postOtlp(lab, body) {
  const response = await fetch(`http://${lab.addrs.ui}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** OTLP/HTTP JSON of one span per trace id, each a root named `${name}-${index}`. */
function rootSpans(service, name, traceIds, { error = false } = {}) {
  const start = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{
        spans: traceIds.map((traceId, index) => ({
          traceId,
          spanId: (index + 1).toString(16).padStart(16, '0'),
          name: `${name}-${index}`,
          kind: 2,
          startTimeUnixNano: String(start),
          endTimeUnixNano: String(start + 2_000_000n),
          status: error ? { code: 2 } : {},
        })),
      }],
    }],
  };
}

test('a burst of traces is listed whole on the Live page, and a trace that grows moves to the top with its new summary', async () => {
  const lab = await startLab();
  try {
    const { page, assertClean } = await openPage(browser);
    await page.goto(`http://${lab.addrs.ui}/live`);
    await waitFor(
      () => page.getByTestId('live-status').textContent().catch(() => ''),
      (text) => text.startsWith('Connected'),
      'the page follows the live stream',
    );
    await page.getByTestId('live-filter-text').fill('burst');
    // 300 traces in one request: more than the collector summarizes in one
    // tick, and more than the page draws (200).
    const ids = Array.from({ length: 300 }, (_, i) => `b0${i.toString(16).padStart(30, '0')}`);
    const post = (body) => postOtlp(lab, body);
    await post(rootSpans('burst-api', 'burst', ids));
    await waitFor(
      () => page.getByTestId('live-count').textContent(),
      (text) => /^300 of \d+ traces$/.test(text.trim()),
      'every trace of the burst is counted',
      20_000,
    );
    const rows = page.locator('[data-testid="live-row"]');
    assert.equal(await rows.count(), 200, 'the page draws 200 rows');
    assert.match(await page.getByTestId('live-more').textContent(), /^100 more match/);
    const drawn = await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-trace-id')));
    assert.equal(new Set(drawn).size, 200, 'each trace drawn once');

    // A second span for one trace of the burst: it is listed once, first,
    // with two spans and an error.
    const grown = ids[0];
    const second = rootSpans('burst-api', 'late', [grown], { error: true });
    second.resourceSpans[0].scopeSpans[0].spans[0].spanId = 'ffffffffffffffff';
    await post(second);
    const row = page.locator(`[data-testid="live-row"][data-trace-id="${grown}"]`);
    await waitFor(
      () => row.textContent().catch(() => ''),
      (text) => text.includes('2 spans') && text.includes('1 error'),
      'the grown trace shows its new summary',
      20_000,
    );
    assert.equal(await row.count(), 1, 'the grown trace has one row');
    assert.equal(await rows.first().getAttribute('data-trace-id'), grown, 'it moved to the top');
    assert.match((await page.getByTestId('live-count').textContent()).trim(), /^300 of \d+ traces$/);
    await assertClean([], { origins: lab.services });
  } finally {
    lab.child.kill('SIGTERM');
  }
});

/** OTLP JSON for spans of one trace: [span id, parent id or null, name] each, 1 ms apart. */
function treeSpans(traceId, spans) {
  const start = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tree-api' } }] },
      scopeSpans: [{
        spans: spans.map(([spanId, parentSpanId, name], index) => ({
          traceId,
          spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name,
          kind: 2,
          startTimeUnixNano: String(start + BigInt(index) * 1_000_000n),
          endTimeUnixNano: String(start + 20_000_000n - BigInt(index) * 1_000_000n),
        })),
      }],
    }],
  };
}

test('the trace page follows a trace as its spans arrive, keeping the selection, the collapsed spans and the link', async () => {
  const lab = await startLab();
  try {
    const traceId = 'fe11'.padEnd(32, '0');
    const id = (n) => n.toString(16).padStart(16, '0');
    const post = (body) => postOtlp(lab, body);
    // root -> a -> a1, root -> b -> b1
    await post(treeSpans(traceId, [
      [id(1), null, 'root'], [id(2), id(1), 'a'], [id(3), id(2), 'a1'],
      [id(4), id(1), 'b'], [id(5), id(4), 'b1'],
    ]));
    const { page, assertClean } = await openPage(browser);
    await page.goto(`http://${lab.addrs.ui}/trace/${traceId}`);
    const rows = page.getByTestId('wf-row');
    await waitFor(() => rows.count(), (n) => n === 5, 'the five spans are listed');
    const row = (n) => page.locator(`[data-testid="wf-row"][data-span-id="${id(n)}"]`);
    // Select a, collapse b.
    await row(2).click();
    await row(4).getByTestId('wf-toggle').click();
    await waitFor(() => rows.count(), (n) => n === 4, 'b1 is hidden under b');
    await waitFor(() => page.url(), (url) => url.includes(`span=${id(2)}`) && url.includes(`c=${id(4)}`), 'the link keeps the view');

    // Three more spans arrive: under a, under b, and a new child of root.
    await post(treeSpans(traceId, [[id(6), id(2), 'a2'], [id(7), id(4), 'b2'], [id(8), id(1), 'c']]));
    await waitFor(
      () => page.getByTestId('trace-updated').textContent().catch(() => ''),
      (text) => text.includes('5 spans when the page opened, 8 spans now'),
      'the page says the trace grew',
      20_000,
    );
    // root, a, a1, a2, b (collapsed: b1 and b2 hidden), c.
    const shown = await waitFor(
      () => rows.evaluateAll((all) => all.map((el) => el.getAttribute('data-span-id'))),
      (ids) => ids.length === 6,
      'the new spans are drawn, b still collapsed',
    );
    assert.deepEqual(new Set(shown), new Set([1, 2, 3, 6, 4, 8].map(id)));
    assert.equal(await row(4).getAttribute('aria-expanded'), 'false', 'b stays collapsed');
    assert.equal(await row(2).getAttribute('aria-selected'), 'true', 'a stays selected');
    assert.equal(await page.getByTestId('wf-details-span-id').textContent(), id(2), 'its details stay open');
    assert.match(await page.getByTestId('wf-summary').textContent(), /^8 spans/);
    await assertClean();
  } finally {
    lab.child.kill('SIGTERM');
  }
});

test('from the Live page, a real call goes through the running services with the switches set on them', async () => {
  const lab = await startLab();
  try {
    const { page, assertClean } = await openPage(browser);
    await page.goto(`http://${lab.addrs.ui}/live`);
    await page.getByTestId('live-lab').waitFor();
    const call = page.getByTestId('live-real-call');
    // The button waits for the switches, which are read from the services.
    await waitFor(() => call.isEnabled(), (enabled) => enabled, 'the switches are read');
    const failing = page.locator('[data-testid="sim-switch"][data-switch="fail-reviews"]');
    assert.equal(await failing.isChecked(), false, 'step 6 starts with reviews-api healthy');

    // Flipping a switch changes it on the running services.
    await failing.check();
    await waitFor(
      () => page.getByTestId('live-switches-note').textContent(),
      (text) => text.includes('Switches set on bands-api and reviews-api'),
      'the page says the services took the change',
    );
    const held = await (await fetch(`http://${lab.addrs.bands}/admin/switches`)).json();
    assert.notEqual(held['fail-reviews'], 'none', `bands-api holds the change: ${JSON.stringify(held)}`);

    // A real call from the browser: bands-api answers with reviews-api's failure.
    await call.click();
    const result = page.getByTestId('live-real-result');
    const text = await waitFor(
      () => result.textContent().catch(() => ''),
      (content) => content.includes('bands-api answered'),
      'the page says what bands-api answered',
      20_000,
    );
    assert.match(text, /bands-api answered 5\d\d/);
    assert.match(text, /sent traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01/);
    assert.match(text, /2 client spans exported/);
    const traceId = await result.getAttribute('data-trace-id');
    assert.match(traceId ?? '', /^[0-9a-f]{32}$/);

    // The browser's spans and the services' form one trace, listed live.
    const row = page.locator(`[data-testid="live-row"][data-trace-id="${traceId}"]`);
    const listed = await waitFor(
      () => row.textContent().catch(() => ''),
      // The services export in their own batches: wait for both.
      (content) => content.includes('client: get_band') && content.includes('reviews-api') && content.includes('bands-api'),
      'the real call is listed with the client and both services',
      20_000,
    );
    assert.match(listed, /bands-api/);
    assert.match(listed, /error/, 'the failure shows in the list');

    // Turning the failure off again: the next call succeeds.
    await failing.uncheck();
    await waitFor(
      async () => (await (await fetch(`http://${lab.addrs.bands}/admin/switches`)).json())['fail-reviews'],
      (value) => value === 'none',
      'the services are healthy again',
    );
    await call.click();
    await waitFor(
      () => result.textContent().catch(() => ''),
      (content) => content.includes('bands-api answered 200'),
      'the second call succeeds',
      20_000,
    );
    // The one failure made on purpose: bands-api's 502 while reviews-api failed.
    await assertClean([/^HTTP 502 for http:\/\/127\.0\.0\.1:\d+\/bands\//], { origins: lab.services });
  } finally {
    lab.child.kill('SIGTERM');
  }
});

/**
 * Tries a fetch, an EventSource and a WebSocket from the page: the
 * connect-src violations the browser reported, and whether the fetch went.
 */
async function tryToConnect(page, base) {
  return page.evaluate(async ([base, probe]) => {
    const violations = [];
    const listener = (event) => violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
    document.addEventListener('securitypolicyviolation', listener);
    const fetched = await fetch(`${base}/api/tracelab/status?${probe}`).then(() => 'fetched', () => 'refused');
    try {
      // Closed once it failed (or a second went by): closed at once, it
      // might never try.
      const events = new EventSource(`${base}/api/tracelab/live?${probe}`);
      await new Promise((resolve) => {
        events.onerror = resolve;
        setTimeout(resolve, 1_000);
      });
      events.close();
    } catch { violations.push('EventSource threw'); }
    try { new WebSocket(`ws://127.0.0.1:9/?${probe}`).close(); } catch { violations.push('WebSocket threw'); }
    // Violation events are queued as tasks.
    await new Promise((resolve) => setTimeout(resolve, 200));
    document.removeEventListener('securitypolicyviolation', listener);
    return { fetched, violations };
  }, [base, CSP_PROBE]);
}

test('served by tracelab, the pages that promise no request make none beyond their own files, and the browser enforces it', async () => {
  const lab = await startLab();
  try {
    const { page, requests, probes, assertClean } = await openPage(browser);
    const base = `http://${lab.addrs.ui}`;
    for (const path of ['/', '/decode#tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '/build', '/sample?spans=50', '/simulate']) {
      await page.goto(`${base}${path}`);
      await page.getByTestId('page-title').waitFor();
      // The page carries a policy that refuses every connection, and the
      // browser applies it to fetch, EventSource and WebSocket alike.
      assert.equal(await page.getByTestId('csp').getAttribute('content'), "connect-src 'none'", path);
      const tried = await tryToConnect(page, base);
      assert.equal(tried.fetched, 'refused', `${path}: fetch is refused`);
      assert.equal(tried.violations.filter((v) => v.startsWith('connect-src')).length, 3, `${path}: ${tried.violations}`);
    }
    assert.ok(probes.length > 0, 'the tries were seen');
    // A simulated call runs in the worker and must not reach the real services.
    await page.getByTestId('sim-call').click();
    await page.getByTestId('sim-result').filter({ hasText: 'Call #1 ' }).waitFor();
    const pages = ['/', '/decode', '/build', '/sample', '/simulate'];
    const others = requests.filter((url) => {
      const { pathname } = new URL(url);
      return !pages.includes(pathname) && !/\.(js|wasm|css|svg)$/.test(pathname);
    });
    assert.deepEqual(others, [], 'only the pages and the app\'s own files were fetched');
    assert.ok(requests.every((url) => url.startsWith(base)), 'and only from the server that served them');
    // The refused attempts above are the only errors.
    await assertClean([/Refused to connect|Content Security Policy|WebSocket connection/]);
  } finally {
    lab.child.kill('SIGTERM');
  }
});

test('the Trace page may reach only its server, the Live page its server and the services; going there from a stricter page loads them afresh', async () => {
  const lab = await startLab();
  try {
    const { page, assertClean } = await openPage(browser);
    const base = `http://${lab.addrs.ui}`;
    await page.goto(`${base}/sample?spans=20`);
    await page.getByTestId('wf-row').first().waitFor();
    // From the Sample page (no connection allowed) to Live by the navigation
    // bar: a new document, whose policy names the server and the services.
    await page.getByTestId('nav-live').click();
    await waitFor(
      () => page.getByTestId('live-status').textContent().catch(() => ''),
      (text) => text.startsWith('Connected'),
      'the Live page follows the stream',
    );
    const live = await waitFor(
      () => page.getByTestId('csp').getAttribute('content').catch(() => ''),
      (content) => content.startsWith("connect-src 'self' "),
      'the Live page names what it reaches',
    );
    assert.ok(live.includes(`http://${lab.addrs.bands}`), live);
    const fromLive = await tryToConnect(page, 'http://127.0.0.1:9');
    assert.equal(fromLive.fetched, 'refused', 'another origin is refused');
    // The Trace page: its own server only.
    await page.goto(`${base}/trace/${'ab'.repeat(16)}`);
    await page.getByTestId('trace-error').waitFor();
    assert.equal(await page.getByTestId('csp').getAttribute('content'), "connect-src 'self'");
    await assertClean([/HTTP 404|status of 404|Refused to connect|Content Security Policy|WebSocket connection/], {
      origins: lab.services,
    });
  } finally {
    lab.child.kill('SIGTERM');
  }
});
