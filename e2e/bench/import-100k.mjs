// Browser benchmark: a 100,000-span OTLP JSON file dropped on the Import
// page, from the drop to the first frame with rows, and the longest task
// of the page's thread meanwhile. Not a test (timings are never asserted);
// run with `cargo xtask bench`, or alone: `node import-100k.mjs` in
// e2e/bench/ with TRACELAB_DIST set to a release build.
//
// What is measured, exactly, in each of RUNS fresh pages:
//
// - The file: 100,000 spans of one trace in 3 services (e2e/support/
//   trace-files.mjs), written to a temporary file. The page gets it as a
//   real `File`: a file input of the benchmark's own (not the app's) is set
//   to it, and a `drop` event carrying that file in a DataTransfer is
//   dispatched on the page's body.
// - Drop → first row: from just before the drop is dispatched to the end of
//   the first animation frame after the first `wf-row` enters the DOM (a
//   MutationObserver; from that frame's requestAnimationFrame callback a
//   MessageChannel message, which runs once the frame's style, layout and
//   paint are done).
// - Where the time goes: the worker's reading and parsing (its own clock,
//   the `import-stats` element's data-read-ms and data-parse-ms), the
//   page's marks `tracelab:import-parsed` (the report arrived) and
//   `tracelab:trace-ready` (every chunk decoded), the page's measures
//   `tracelab:import-decode` (each chunk's decoding on its thread), and
//   ready → first row (the waterfall's build and first frame).
// - Longest task: every `longtask` entry (tasks over 50 ms) of a
//   PerformanceObserver started before the drop, until the first row's
//   frame; split into those before the trace is ready (reading, parsing,
//   sending and decoding: the import's) and after (the waterfall's layout
//   and first render). Also the longest gap between animation frames.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { launchBrowser, openPage } from '../support/browser.mjs';
import { DIST } from '../support/harness.mjs';
import { startStaticServer } from '../support/static-server.mjs';
import { makeSpans, otlpJson } from '../support/trace-files.mjs';

const N_SPANS = Number(process.env.TRACELAB_IMPORT_SPANS ?? 100_000);
const RUNS = Number(process.env.TRACELAB_IMPORT_RUNS ?? 3);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Runs in the page: the long tasks, the frame gaps and the first row.
function watch() {
  const state = { longTasks: [], gaps: [], rowAt: null, frameAt: null };
  window.__importBench = state;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      state.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }
  }).observe({ type: 'longtask' });
  let last = performance.now();
  const frame = (timestamp) => {
    state.gaps.push(timestamp - last);
    last = timestamp;
    if (state.frameAt === null) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const selector = '[data-testid="wf-row"]';
  const observer = new MutationObserver(() => {
    if (!document.querySelector(selector)) return;
    observer.disconnect();
    state.rowAt = performance.now();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        state.frameAt = performance.now();
      };
      channel.port2.postMessage(null);
    });
  });
  observer.observe(document.body, { childList: true, subtree: true });
}

async function run(browser, server, file) {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('import', server.url).href);
  await page.getByTestId('import-input').waitFor();
  // The benchmark's own file input, outside the app, holds the file.
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-source';
    input.hidden = true;
    document.documentElement.append(input);
  });
  await page.locator('#bench-source').setInputFiles(file);
  await page.evaluate(watch);
  const droppedAt = await page.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.items.add(document.getElementById('bench-source').files[0]);
    const at = performance.now();
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    return at;
  });
  await page.waitForFunction(() => window.__importBench.frameAt !== null, null, { timeout: 300_000 });
  const result = await page.evaluate(() => {
    const state = window.__importBench;
    const last = (name) => performance.getEntriesByName(name).at(-1)?.startTime ?? null;
    const decodes = performance.getEntriesByName('tracelab:import-decode').map((entry) => entry.duration);
    const stats = document.querySelector('[data-testid="import-stats"]');
    return {
      ...state,
      parsedAt: last('tracelab:import-parsed'),
      readyAt: last('tracelab:trace-ready'),
      decodes,
      readMs: Number(stats?.dataset.readMs),
      parseMs: Number(stats?.dataset.parseMs),
      rowCount: document.querySelector('[data-testid="wf-scroller"]')?.getAttribute('aria-rowcount'),
    };
  });
  await assertClean();
  await page.context().close();
  if (result.rowCount !== String(N_SPANS)) {
    throw new Error(`the waterfall shows ${result.rowCount} rows, not ${N_SPANS}`);
  }
  const before = result.longTasks.filter((task) => task.start < result.readyAt).map((task) => task.duration);
  const afterReady = result.longTasks.filter((task) => task.start >= result.readyAt).map((task) => task.duration);
  return {
    firstRow: result.frameAt - droppedAt,
    readMs: result.readMs,
    parseMs: result.parseMs,
    // From the drop to the report: the worker starting, reading and parsing.
    toParsed: result.parsedAt - droppedAt,
    // From the report to the last chunk decoded: encoding, sending, decoding.
    transfer: result.readyAt - result.parsedAt,
    decodeSum: result.decodes.reduce((a, b) => a + b, 0),
    decodeMax: Math.max(...result.decodes),
    chunks: result.decodes.length,
    readyToRow: result.frameAt - result.readyAt,
    longestBeforeReady: before.length ? Math.max(...before) : 0,
    longTasksBeforeReady: before.length,
    longestAfterReady: afterReady.length ? Math.max(...afterReady) : 0,
    longestGap: Math.max(...result.gaps),
  };
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tracelab-import-bench-'));
  const file = path.join(tmp, 'trace-100k.otlp.json');
  const text = otlpJson(makeSpans(N_SPANS));
  await writeFile(file, text);
  const server = await startStaticServer(DIST);
  const browser = await launchBrowser();
  const runs = [];
  try {
    for (let i = 0; i < RUNS; i += 1) {
      runs.push(await run(browser, server, file));
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
  const ms = (value) => `${Math.round(value)} ms`;
  console.log(`\nImport page: ${N_SPANS.toLocaleString('en')}-span OTLP JSON file (${(text.length / 1e6).toFixed(1)} MB) dropped, ${RUNS} fresh pages, median (each run)`);
  const rows = [
    ['drop → first frame with rows', 'firstRow'],
    ['  worker: read the file', 'readMs'],
    ['  worker: parse (tracelab_formats::import)', 'parseMs'],
    ['  drop → report on the page', 'toParsed'],
    ['  report → trace decoded (encode, send, decode)', 'transfer'],
    ['    page: decoding, all chunks', 'decodeSum'],
    ['    page: decoding, longest chunk', 'decodeMax'],
    ['  trace ready → first frame (waterfall build)', 'readyToRow'],
    ['longest task before the trace is ready', 'longestBeforeReady'],
    ['longest task after (the waterfall)', 'longestAfterReady'],
    ['longest gap between frames', 'longestGap'],
  ];
  for (const [label, key] of rows) {
    const values = runs.map((entry) => entry[key]);
    console.log(`${label.padEnd(50)} ${ms(median(values)).padStart(9)}   (${values.map(ms).join(', ')})`);
  }
  console.log(`chunks: ${runs[0].chunks}; long tasks before ready: ${runs.map((entry) => entry.longTasksBeforeReady).join(', ')}`);
}

await main();
