// Browser tests of the Import page (/import): each format pasted, a file
// dropped and one picked, problems named by path, a file of several
// traces, Cancel, export and import again, share links, and a
// 100,000-span file read while the page stays responsive. Elements are
// found by data-testid only.
//
// Alone: `node --test import.test.mjs` in e2e/ after a release build
// (TRACELAB_DIST points elsewhere than ../dist).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { expectText, openPage, waitFor } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';
import { jaegerJson, makeSpans, otlpJson, otlpJsonLines, zipkinJson } from './support/trace-files.mjs';

useApp();

let tmp;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tracelab-import-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function openImport(suffix = '') {
  const opened = await openPage(browser);
  await opened.page.goto(new URL(`import${suffix}`, server.url).href);
  await opened.page.getByTestId('import-input').waitFor();
  return opened;
}

/** The rows the waterfall shows, as their sorted span ids. */
function rowIds(page) {
  return page.getByTestId('wf-row').evaluateAll((rows) => rows.map((row) => row.dataset.spanId).sort());
}

/** Waits until the waterfall has `n` rows in all (its aria-rowcount). */
async function waitForRowCount(page, n, timeoutMs = 20_000) {
  await waitFor(
    () => page.getByTestId('wf-scroller').getAttribute('aria-rowcount', { timeout: 200 }).catch(() => null),
    (count) => count === String(n),
    `the waterfall shows ${n} rows`,
    timeoutMs,
  );
}

/** Waits until the page names `format` as the one found. */
async function expectFormat(page, format) {
  await expectText(page.getByTestId('import-format'), format, 20_000);
}

const SMALL = makeSpans(7);
const SMALL_IDS = SMALL.map((span) => span.spanId).sort();

test('the import worker is fetched only when a trace is imported, exported or generated', async () => {
  const { page, requests, assertClean } = await openPage(browser);
  const fetchedWorker = () => requests.some((url) => new URL(url).pathname.startsWith('/import-worker'));
  await page.goto(server.url);
  await page.getByTestId('nav-import').waitFor();
  await page.goto(new URL('import', server.url).href);
  await page.getByTestId('import-input').waitFor();
  assert.ok(!fetchedWorker(), 'neither the home page nor the Import page fetches it on opening');
  await page.getByTestId('import-input').fill(otlpJson(SMALL));
  await waitForRowCount(page, SMALL.length);
  assert.ok(fetchedWorker(), 'an import fetches it');
  await assertClean();
});

test('the Sample page generates its trace in the import worker, which it ends once the trace is in', async () => {
  const { page, requests, assertClean } = await openPage(browser);
  const workers = { started: 0, ended: 0 };
  page.on('worker', (worker) => {
    workers.started += 1;
    worker.on('close', () => {
      workers.ended += 1;
    });
  });
  await page.goto(new URL('sample?spans=3000&seed=2', server.url).href);
  await waitForRowCount(page, 3000);
  assert.ok(requests.some((url) => new URL(url).pathname.startsWith('/import-worker')), 'the worker was fetched');
  await waitFor(
    () => ({ ...workers }),
    ({ started, ended }) => started === 1 && ended === 1,
    'one worker, ended once the trace is in',
  );
  await assertClean();
});

for (const [format, write] of [
  ['OTLP JSON', otlpJson],
  ['OTLP JSON lines (OpenTelemetry Collector file exporter)', otlpJsonLines],
  ['Jaeger JSON', jaegerJson],
  ['Zipkin v2 JSON', zipkinJson],
]) {
  test(`pasted ${format} opens in the waterfall`, async () => {
    const { page, assertClean } = await openImport();
    await page.getByTestId('import-input').fill(write(SMALL));
    await expectFormat(page, format);
    await waitForRowCount(page, SMALL.length);
    assert.deepEqual(await rowIds(page), SMALL_IDS);
    const services = await page.getByTestId('wf-row').evaluateAll((rows) => [...new Set(rows.map((row) => row.dataset.service))].sort());
    assert.deepEqual(services, ['bands-api', 'frontend', 'reviews-api']);
    assert.equal(await page.getByTestId('import-error').count(), 0, 'a clean file has no problems');
    await assertClean();
  });
}

test('a file dropped anywhere on the page opens in the waterfall', async () => {
  const { page, assertClean } = await openImport();
  await page.evaluate((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], 'trace.json', { type: 'application/json' }));
    const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
    document.body.dispatchEvent(new DragEvent('dragover', init));
    document.body.dispatchEvent(new DragEvent('drop', init));
  }, jaegerJson(SMALL));
  await expectFormat(page, 'Jaeger JSON');
  await waitForRowCount(page, SMALL.length);
  assert.deepEqual(await rowIds(page), SMALL_IDS);
  await assertClean();
});

test('a file picked with the file input opens in the waterfall', async () => {
  const { page, assertClean } = await openImport();
  const file = path.join(tmp, 'zipkin.json');
  await writeFile(file, zipkinJson(SMALL));
  await page.getByTestId('import-file').setInputFiles(file);
  await expectFormat(page, 'Zipkin v2 JSON');
  await waitForRowCount(page, SMALL.length);
  await assertClean();
});

test('problems are listed with their paths, and the rest of the file is read', async () => {
  const { page, assertClean } = await openImport();
  const spans = makeSpans(5, { services: ['frontend'] });
  const file = JSON.parse(otlpJson(spans));
  // Span 3 of the one scope: a trace id two digits short.
  file.resourceSpans[0].scopeSpans[0].spans[3].traceId = spans[3].traceId.slice(2);
  await page.getByTestId('import-input').fill(JSON.stringify(file));
  await expectFormat(page, 'OTLP JSON');
  await waitForRowCount(page, 4);
  const errors = page.getByTestId('import-error');
  await waitFor(() => errors.count(), (n) => n === 1, 'one problem is listed');
  await expectText(page.getByTestId('import-error-path'), 'resourceSpans[0].scopeSpans[0].spans[3].traceId');
  assert.match(await errors.textContent(), /30 hex digits, expected 32.*span was skipped/);
  assert.match(await page.getByTestId('import-skipped').textContent(), /^1 problem\b/);
  assert.ok(!(await rowIds(page)).includes(spans[3].spanId), 'the broken span is not shown');

  // Not a trace file at all: one problem for the whole file, no path.
  await page.getByTestId('import-input').fill('this is not JSON');
  await expectFormat(page, 'unknown');
  await waitFor(() => errors.count(), (n) => n === 1, 'one problem for the file');
  assert.equal(await page.getByTestId('import-error-path').count(), 0);
  assert.equal(await page.getByTestId('wf-row').count(), 0, 'nothing is shown');
  await assertClean();
});

test('a file of several traces lists them by start, and picking one opens it', async () => {
  const { page, assertClean } = await openImport();
  // In the file: the latest first.
  const late = makeSpans(3, { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', startUs: 1_700_000_300_000_000, services: ['late-svc'] });
  const early = makeSpans(5, { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', startUs: 1_700_000_100_000_000, services: ['early-svc', 'db'] });
  const middle = makeSpans(4, { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3', startUs: 1_700_000_200_000_000, services: ['middle-svc'] });
  await page.getByTestId('import-input').fill(jaegerJson([...late, ...early, ...middle]));
  await expectFormat(page, 'Jaeger JSON');
  const listed = page.getByTestId('import-trace');
  await waitFor(() => listed.count(), (n) => n === 3, 'three traces are listed');
  const texts = await listed.allTextContents();
  assert.match(texts[0], /^early-svc: GET \/bands — early-svc, db — .* 5 spans, 1 error$/);
  assert.match(texts[1], /^middle-svc: GET \/bands — middle-svc — .* 4 spans, 1 error$/);
  assert.match(texts[2], /^late-svc: GET \/bands — late-svc — .* 3 spans, 1 error$/);
  assert.equal(await page.getByTestId('wf-row').count(), 0, 'nothing opens before a pick');

  await listed.nth(1).click();
  await waitForRowCount(page, 4);
  assert.equal(await listed.nth(1).getAttribute('aria-current'), 'true');
  const services = await page.getByTestId('wf-row').evaluateAll((rows) => [...new Set(rows.map((row) => row.dataset.service))]);
  assert.deepEqual(services, ['middle-svc']);

  await listed.nth(0).click();
  await waitForRowCount(page, 5);
  assert.deepEqual(await rowIds(page), early.map((span) => span.spanId).sort());
  await assertClean();
});

test('a file of more traces than a list shows lists the earliest 500', async () => {
  const { page, assertClean } = await openImport();
  const spans = [];
  for (let i = 0; i < 600; i += 1) {
    // One span each; the file has the latest first.
    spans.push(...makeSpans(1, { traceId: (0xb000 + i).toString(16).padStart(32, '0'), startUs: 1_700_000_000_000_000 - i * 1_000, services: [`svc-${i}`] }));
  }
  await page.getByTestId('import-input').fill(zipkinJson(spans));
  const listed = page.getByTestId('import-trace');
  await waitFor(() => listed.count(), (n) => n === 500, '500 traces are listed');
  assert.match(await listed.first().textContent(), /^svc-599: /, 'the earliest first');
  await expectText(page.getByTestId('import-traces-heading'), '600 traces: the earliest 500 listed, pick one');
  await assertClean();
});

test('Cancel stops a large import, and the next import works', async () => {
  const { page, assertClean } = await openImport();
  const file = path.join(tmp, 'cancel.json');
  await writeFile(file, otlpJson(makeSpans(100_000)));
  await page.getByTestId('import-file').setInputFiles(file);
  await page.getByTestId('import-progress').waitFor();
  await page.getByTestId('import-cancel').click();
  await expectText(page.getByTestId('import-status'), 'Cancelled: nothing was imported.');
  assert.equal(await page.getByTestId('import-progress').count(), 0, 'the progress bar goes');

  await page.getByTestId('import-input').fill(otlpJson(SMALL));
  await waitForRowCount(page, SMALL.length);
  assert.deepEqual(await rowIds(page), SMALL_IDS, 'only the new import is shown');
  assert.equal(await page.getByTestId('import-status').count(), 0);
  await assertClean();
});

test('an exported trace imports again to the same rows, in both formats', async () => {
  const { page, assertClean } = await openImport();
  await page.getByTestId('import-input').fill(zipkinJson(SMALL));
  await waitForRowCount(page, SMALL.length);
  const shown = await rowIds(page);
  for (const [button, format, suffix] of [
    ['export-otlp', 'OTLP JSON', '.otlp.json'],
    ['export-jaeger', 'Jaeger JSON', '.jaeger.json'],
  ]) {
    const downloading = page.waitForEvent('download');
    await page.getByTestId(button).click();
    const download = await downloading;
    assert.ok(download.suggestedFilename().endsWith(suffix), download.suggestedFilename());
    const text = await readFile(await download.path(), 'utf8');
    await page.getByTestId('import-input').fill(text);
    await expectFormat(page, format);
    await waitForRowCount(page, SMALL.length);
    assert.deepEqual(await rowIds(page), shown, `${format} brings back the same spans`);
  }
  await assertClean();
});

test('the Simulate page exports its trace through the import worker', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('simulate', server.url).href);
  // Step 1 traces nothing; step 2 does.
  await page.locator('[data-testid="lesson-step"][data-step="2"]').click();
  await page.getByTestId('sim-call').click();
  await page.getByTestId('wf-row').first().waitFor();
  const shown = await page.getByTestId('wf-scroller').first().getAttribute('aria-rowcount');
  const downloading = page.waitForEvent('download');
  await page.getByTestId('export-otlp').first().click();
  const file = JSON.parse(await readFile(await (await downloading).path(), 'utf8'));
  const spans = file.resourceSpans.flatMap((r) => r.scopeSpans).flatMap((s) => s.spans);
  assert.equal(String(spans.length), shown, 'every span of the trace is in the file');
  assert.ok(spans.some((span) => span.name.length > 0));
  await expectText(page.getByTestId('export-status').first(), 'Downloaded as OTLP JSON.');
  await assertClean();
});

test('the Sample page exports its trace as Jaeger JSON, every span', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('sample?spans=300&seed=2', server.url).href);
  await page.getByTestId('wf-row').first().waitFor();
  const downloading = page.waitForEvent('download');
  await page.getByTestId('export-jaeger').click();
  const download = await downloading;
  assert.match(download.suggestedFilename(), /^trace-[0-9a-f]{16}\.jaeger\.json$/);
  const file = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(file.data.length, 1, 'one trace');
  assert.equal(file.data[0].spans.length, 300);
  await assertClean();
});

test('a small trace is shared as a link that opens it; a large one says why not', async () => {
  const { page, assertClean } = await openImport();
  await page.getByTestId('import-input').fill(otlpJson(SMALL));
  await waitForRowCount(page, SMALL.length);
  await page.getByTestId('share').click();
  const link = await page.getByTestId('share-link').getAttribute('href');
  assert.match(link, /\/import#share=[A-Za-z0-9_-]+$/);
  assert.ok(link.length < 2_000, `a 7-span link is short (${link.length})`);

  const { page: other, assertClean: otherClean } = await openPage(browser);
  await other.goto(link);
  await expectFormat(other, 'a tracelab share link');
  await waitForRowCount(other, SMALL.length);
  assert.deepEqual(await rowIds(other), SMALL_IDS);
  // A damaged link says so instead of showing anything (base64 of bytes
  // that are no deflate stream).
  await other.goto(`${link.slice(0, link.indexOf('#'))}#share=AAAAAAAA`);
  await waitFor(
    () => other.getByTestId('import-status').textContent().catch(() => ''),
    (text) => text.includes('not compressed data'),
    'a damaged link is named as such',
  );
  assert.equal(await other.getByTestId('wf-row').count(), 0);
  await otherClean();

  // The most a link carries: 500 spans.
  await page.getByTestId('import-input').fill(otlpJson(makeSpans(500)));
  await waitForRowCount(page, 500);
  await page.getByTestId('share').click();
  const longest = await page.getByTestId('share-link').getAttribute('href');
  console.log(`# a 500-span share link: ${longest.length} characters`);

  await page.getByTestId('import-input').fill(otlpJson(makeSpans(600)));
  await waitForRowCount(page, 600);
  await page.getByTestId('share').click();
  await expectText(page.getByTestId('share-note'), 'This trace has 600 spans: a link carries at most 500. Export it as a file instead (OTLP or Jaeger JSON) and share the file.');
  await assertClean();
});

test('a 100,000-span file is read while the page stays responsive', async () => {
  const { page, assertClean } = await openImport();
  const file = path.join(tmp, 'large.json');
  await writeFile(file, otlpJson(makeSpans(100_000)));
  await page.evaluate(() => {
    window.tracelabLongTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.tracelabLongTasks.push({ start: entry.startTime, duration: entry.duration });
      }
    }).observe({ type: 'longtask' });
  });
  await page.getByTestId('import-file').setInputFiles(file);
  await waitForRowCount(page, 100_000, 120_000);
  const { ready, tasks } = await page.evaluate(() => ({
    ready: performance.getEntriesByName('tracelab:trace-ready').at(-1)?.startTime,
    tasks: window.tracelabLongTasks,
  }));
  assert.ok(ready > 0, 'the trace was marked ready');
  // Until the trace is ready (read, parsed, sent and decoded), no task of
  // the page's thread is long. The waterfall's own build follows in a task
  // of its own (its layout, issue 17), reported but not asserted here.
  const before = tasks.filter((task) => task.start < ready);
  assert.deepEqual(before, [], 'no task over 50 ms before the trace is ready');
  const afterReady = tasks.filter((task) => task.start >= ready).map((task) => Math.round(task.duration));
  console.log(`# waterfall build after the trace is ready: long tasks ${JSON.stringify(afterReady)} ms`);
  await assertClean();
});
