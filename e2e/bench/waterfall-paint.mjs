// Browser benchmark: the waterfall on the Sample page against a plain static
// HTML table of the same rows, at 1k, 10k, 100k and 1M spans (the table up
// to 100k); the frame times while scrolling 10k spans; the memory each span
// costs.
// Not a test (timings are never asserted); run with `cargo xtask bench`.
//
// What is measured, exactly:
//
// - Waterfall, "trace ready → first frame with rows": from the Sample page's
//   `performance.mark("tracelab:trace-ready")` (set once the trace,
//   generated in the import worker, has arrived whole, before the waterfall
//   gets it) to the end of the first animation frame after the first
//   `wf-row` is in the DOM. The waterfall's work (layout of the trace, in
//   slices past 20,000 spans, visible rows, DOM) is inside; generating the
//   trace and loading the app are not. A MutationObserver, installed before
//   the app loads, sees the first row; it asks for an animation frame, and
//   from that frame's requestAnimationFrame callback posts a message
//   (MessageChannel), whose task runs once the frame's style, layout and
//   paint are done: its time is the end. Each size is loaded in a fresh page
//   RUNS times; the median is reported. The same measure is also taken RUNS
//   times in a page already open on a 200-span sample, after clicking the
//   link to the N-span one (the waterfall's code has run before). Also from
//   each fresh page: its longest main-thread task (a `longtask` observer)
//   from its start to that frame.
// - Static table, "innerHTML → first frame": a fresh page holding only a
//   small stylesheet gets, as one HTML string built in the page (not timed),
//   a <table> of N rows: service, span name, duration, and a cell holding an
//   absolutely positioned bar (left and width in %). Timed from just before
//   `innerHTML = html` (parsing included) to the end of the first animation
//   frame after it, measured the same way as the waterfall. The rows' text
//   and bars are the real rows of the same trace: those the waterfall has in
//   the DOM at first paint (its first few dozen spans), repeated to N rows
//   (the page keeps the whole trace in wasm, with no way to read it out).
// - Scrolling: on the 10k page, the scroller's scrollTop is moved down by
//   SCROLL_STEP_ROWS rows in every requestAnimationFrame callback for
//   SCROLL_MS; the intervals between the callbacks' timestamps are the frame
//   times (16.7 ms is every frame at 60 Hz).
// - Memory: after a forced garbage collection (CDP HeapProfiler), the JS
//   heap in use (CDP Runtime.getHeapUsage) plus the size of the app's wasm
//   linear memory (every WebAssembly.Memory in the page, found with CDP
//   Runtime.queryObjects). The linear memory never shrinks, so it is the
//   high-water mark of the Rust heap: the trace, its layout, the view state,
//   and whatever building them needed at peak and freed. Per span =
//   (at 100k − at 10k) / 90,000.

import { launchBrowser, openPage } from '../support/browser.mjs';
import { DIST } from '../support/harness.mjs';
import { startStaticServer } from '../support/static-server.mjs';

const SIZES = (process.env.TRACELAB_WF_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
// The static table stops at 100k rows (a million-row table takes minutes
// and gigabytes); the Sample page links only 1k, 10k and 100k, which the
// "swapped in an open page" measure clicks.
const TABLE_MAX = 100_000;
const LINKED = [1_000, 10_000, 100_000];
const RUNS = Number(process.env.TRACELAB_WF_RUNS ?? 5);
const SEED = 1;
const SCROLL_SIZE = 10_000;
const SCROLL_MS = 2_000;
const SCROLL_STEP_ROWS = 10;
const ROW_HEIGHT_PX = 24;
const MARK = 'tracelab:trace-ready';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Runs in the page before the app: records when the first `wf-row` enters
// the DOM and when the first animation frame after it has been rendered.
function watchFirstRow() {
  const state = { rowAt: null, rafAt: null, frameAt: null, rowsInDom: null, tasks: [] };
  window.__wfPaint = state;
  // The page's long tasks (over 50 ms) from its start: how long the page
  // could not answer while the trace was made, received and laid out.
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) state.tasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // A page opened before the app (the swapped measure) has no buffer.
  }
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        const selector = '[data-testid="wf-row"]';
        if (!node.matches(selector) && !node.querySelector(selector)) continue;
        observer.disconnect();
        state.rowAt = performance.now();
        requestAnimationFrame(() => {
          state.rafAt = performance.now();
          // A message posted from the frame's rAF callback runs after the
          // frame's rendering (style, layout, paint) is done.
          const channel = new MessageChannel();
          channel.port1.onmessage = () => {
            state.frameAt = performance.now();
            state.rowsInDom = document.querySelectorAll(selector).length;
          };
          channel.port2.postMessage(null);
        });
        return;
      }
    }
  });
  observer.observe(document, { childList: true, subtree: true });
}

// One fresh page on /sample?spans=N: the timings, and the page left open.
async function loadWaterfall(browser, server, nSpans) {
  const opened = await openPage(browser);
  const { page } = opened;
  await page.addInitScript(watchFirstRow);
  await page.goto(new URL(`sample?spans=${nSpans}&seed=${SEED}`, server.url).href);
  const timing = await readPaint(page, nSpans);
  return { opened, timing };
}

// The same, in a page already open on a 200-span sample: the link to the
// N-span sample is clicked (a client-side navigation: the app is loaded and
// its first frame is long past), and the new waterfall's first paint timed.
async function swapWaterfall(browser, server, nSpans) {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL(`sample?spans=200&seed=${SEED}`, server.url).href);
  await page.getByTestId('wf-row').first().waitFor();
  await page.waitForTimeout(300);
  await page.evaluate(watchFirstRow);
  await page.getByTestId(`sample-size-${nSpans}`).click();
  const timing = await readPaint(page, nSpans);
  await assertClean();
  return timing;
}

async function readPaint(page, nSpans) {
  await page.waitForFunction(() => window.__wfPaint?.frameAt != null, null, { timeout: 120_000 });
  const timing = await page.evaluate((mark) => {
    const state = window.__wfPaint;
    const marks = performance.getEntriesByName(mark, 'mark').filter((entry) => entry.startTime <= state.rowAt);
    const ready = marks.length ? marks[marks.length - 1].startTime : null;
    return { ...state, readyAt: ready };
  }, MARK);
  if (timing.readyAt === null) {
    throw new Error(`no performance mark "${MARK}" before the first row at ${nSpans} spans: is the app built from this tree?`);
  }
  const rowCount = await page.getByTestId('wf-scroller').getAttribute('aria-rowcount');
  if (rowCount !== String(nSpans)) {
    throw new Error(`the waterfall shows ${rowCount} rows, not ${nSpans}`);
  }
  return timing;
}

// The rows the waterfall has in the DOM: service, name, duration, bar.
function readRows(page) {
  return page.getByTestId('wf-row').evaluateAll((rows) =>
    rows.map((row) => {
      const bar = row.querySelector('.wf-bar');
      const percent = (property) => (bar ? parseFloat(bar.style.getPropertyValue(property)) || 0 : 0);
      return {
        service: row.dataset.service,
        name: row.querySelector('.wf-span-name')?.textContent ?? '',
        duration: row.querySelector('.wf-num')?.textContent ?? '',
        left: percent('left'),
        width: percent('width'),
      };
    }),
  );
}

async function measureMemory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name) => metrics.find((entry) => entry.name === name)?.value ?? NaN;
  const { result: proto } = await cdp.send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
  const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.objectId });
  const { result } = await cdp.send('Runtime.callFunctionOn', {
    objectId: objects.objectId,
    functionDeclaration: 'function () { return this.map((memory) => memory.buffer.byteLength); }',
    returnByValue: true,
  });
  await cdp.detach();
  if (result.value.length === 0) throw new Error('no WebAssembly.Memory in the page');
  const wasm = result.value.reduce((a, b) => a + b, 0);
  return { jsHeap: heap.usedSize, wasm, total: heap.usedSize + wasm, domNodes: metric('Nodes') };
}

// Moves the scroller down in every animation frame; the frame intervals.
function scrollFrames(page) {
  return page.evaluate(
    ({ durationMs, stepPx }) =>
      new Promise((resolve) => {
        const scroller = document.querySelector('[data-testid="wf-scroller"]');
        const firstIndex = () => Number(document.querySelector('[data-testid="wf-row"]').getAttribute('aria-rowindex'));
        const startIndex = firstIndex();
        const stamps = [];
        const step = (timestamp) => {
          stamps.push(timestamp);
          if (timestamp - stamps[0] >= durationMs) {
            resolve({ stamps, startIndex, endIndex: firstIndex(), scrollTop: scroller.scrollTop });
            return;
          }
          scroller.scrollTop += stepPx;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
    { durationMs: SCROLL_MS, stepPx: SCROLL_STEP_ROWS * ROW_HEIGHT_PX },
  );
}

// One fresh page: N rows of the static table, timed from innerHTML to the
// end of the first frame after it.
async function paintTable(browser, sample, nSpans) {
  const { page, assertClean } = await openPage(browser);
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>
    body { font: 13px system-ui, sans-serif; margin: 0; }
    table { border-collapse: collapse; width: 100%; }
    td { padding: 2px 6px; white-space: nowrap; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.track { position: relative; width: 40%; }
    td.track div { position: absolute; top: 4px; bottom: 4px; background: #4a7fd6; min-width: 1px; }
  </style></head><body></body></html>`);
  const timing = await page.evaluate(
    ({ sample, nSpans }) =>
      new Promise((resolve) => {
        const escape = (text) =>
          text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
        const rows = sample.map(
          (row) =>
            `<tr><td>${escape(row.service)}</td><td>${escape(row.name)}</td><td class="num">${escape(row.duration)}</td>` +
            `<td class="track"><div style="left: ${row.left.toFixed(4)}%; width: ${row.width.toFixed(4)}%"></div></td></tr>`,
        );
        const parts = ['<table><tbody>'];
        for (let i = 0; i < nSpans; i++) parts.push(rows[i % rows.length]);
        parts.push('</tbody></table>');
        const html = parts.join('');
        const start = performance.now();
        document.body.innerHTML = html;
        requestAnimationFrame(() => {
          const rafAt = performance.now();
          const channel = new MessageChannel();
          channel.port1.onmessage = () => {
            resolve({
              raf: rafAt - start,
              frame: performance.now() - start,
              rows: document.querySelectorAll('tr').length,
              htmlChars: html.length,
            });
          };
          channel.port2.postMessage(null);
        });
      }),
    { sample, nSpans },
  );
  if (timing.rows !== nSpans) throw new Error(`the table has ${timing.rows} rows, not ${nSpans}`);
  await assertClean();
  return timing;
}

const ms = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const range = (values) => (values.length ? `${ms(Math.min(...values))}–${ms(Math.max(...values))}` : '—');
const medianMs = (values) => (values.length ? ms(median(values)) : '—');

const server = await startStaticServer(DIST);
const browser = await launchBrowser();
const results = [];
let scroll = null;
try {
  // A first page is slower than the rest (Chromium warming up, wasm compiled
  // cold): one load of each kind, not counted.
  {
    const { opened } = await loadWaterfall(browser, server, SIZES[0]);
    const sample = await readRows(opened.page);
    await opened.assertClean();
    await paintTable(browser, sample, SIZES[0]);
  }
  for (const nSpans of SIZES) {
    const waterfall = [];
    let sample = null;
    let memory = null;
    let rowsInDom = null;
    for (let run = 0; run < RUNS; run++) {
      const { opened, timing } = await loadWaterfall(browser, server, nSpans);
      waterfall.push(timing);
      rowsInDom = timing.rowsInDom;
      if (run === RUNS - 1) {
        // The last page of each size: the rows for the table, the memory,
        // and at 10k the scrolling. Let the page settle first (the URL
        // fragment is written 250 ms after the view changes).
        await opened.page.waitForTimeout(500);
        sample = await readRows(opened.page);
        memory = await measureMemory(opened.page);
        if (nSpans === SCROLL_SIZE) scroll = await scrollFrames(opened.page);
      }
      await opened.assertClean();
    }
    const swapped = [];
    for (let run = 0; run < RUNS && LINKED.includes(nSpans); run++) swapped.push(await swapWaterfall(browser, server, nSpans));
    const table = [];
    for (let run = 0; run < RUNS && nSpans <= TABLE_MAX; run++) table.push(await paintTable(browser, sample, nSpans));
    results.push({ nSpans, waterfall, swapped, table, memory, rowsInDom, sampleRows: sample.length });
  }
} finally {
  await browser.close();
  await server.close();
}

const count = (n) => n.toLocaleString('en-US');
console.log(`Waterfall on /sample?spans=N&seed=${SEED} vs a static HTML table of the same rows; headless Chromium, median of ${RUNS} fresh pages each.`);
console.log('');
console.log('| spans | waterfall: trace ready → first frame with rows | (range) | page start → that frame | longest task until then | same, trace swapped in an open page | static table: innerHTML → first frame | (range) | waterfall / table | row elements |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const wf = r.waterfall.map((t) => t.frameAt - t.readyAt);
  const load = r.waterfall.map((t) => t.frameAt);
  // The longest task from the page's start to its first frame with rows,
  // over all the fresh pages of this size (none over 50 ms: "none").
  const longest = Math.max(0, ...r.waterfall.flatMap((t) => t.tasks.filter((task) => task.start <= t.frameAt).map((task) => task.duration)));
  const swap = r.swapped.map((t) => t.frameAt - t.readyAt);
  const table = r.table.map((t) => t.frame);
  console.log(
    `| ${count(r.nSpans)} | ${ms(median(wf))} | ${range(wf)} | ${ms(median(load))} | ${longest ? ms(longest) : 'none over 50 ms'} | ${medianMs(swap)} (${range(swap)}) | ${medianMs(table)} | ${range(table)} | ${table.length ? (median(wf) / median(table)).toFixed(3) : '—'} | ${r.rowsInDom} |`,
  );
}
console.log('');
console.log('Waterfall: from performance.mark("tracelab:trace-ready") (the trace generated in the worker and received, not yet given');
console.log('  to the waterfall) to the end of the first animation frame after the first wf-row entered the DOM (a message posted');
console.log('  from that frame\'s rAF callback). Past 20,000 spans the layout runs in slices with a progress bar, inside this time.');
console.log('  "page start → that frame": the same end, from the navigation start (loading the app and generating the trace included);');
console.log('  "longest task": the page\'s longest main-thread task in that time, over every fresh page of the size.');
console.log('  "trace swapped in an open page": the same measure, after clicking the N-span link on an open 200-span sample.');
const first = results[0];
console.log(`Static table: N rows (service, name, duration, absolutely positioned bar with left/width in %), the text of the`);
console.log(`  ${first.sampleRows} real rows the waterfall drew first, repeated to N; timed from document.body.innerHTML = html`);
console.log('  (parsing included) to the end of the first animation frame after it, in a fresh page.');
for (const r of results) {
  if (r.nSpans === 10_000) {
    const ratio = median(r.waterfall.map((t) => t.frameAt - t.readyAt)) / median(r.table.map((t) => t.frame));
    console.log(`Target at 10k: waterfall / table ≤ 0.1 — ${ratio.toFixed(3)} ${ratio <= 0.1 ? '✔' : '✘'}`);
  }
  if (r.nSpans === 100_000) {
    const paint = median(r.waterfall.map((t) => t.frameAt - t.readyAt));
    console.log(`Target at 100k: painted in under 1 s — ${ms(paint)} ${paint < 1000 ? '✔' : '✘'}`);
  }
}

if (scroll) {
  const intervals = scroll.stamps.slice(1).map((t, i) => t - scroll.stamps[i]);
  const long = intervals.filter((t) => t > 1000 / 60 * 1.5).length;
  console.log('');
  console.log(
    `Scrolling ${count(SCROLL_SIZE)} spans, ${SCROLL_STEP_ROWS} rows (${SCROLL_STEP_ROWS * ROW_HEIGHT_PX} px) per animation frame for ${SCROLL_MS / 1000} s ` +
      `(first row ${scroll.startIndex} → ${scroll.endIndex}):`,
  );
  console.log(
    `  ${intervals.length} frames, interval median ${ms(median(intervals))}, p95 ${ms(percentile(intervals, 0.95))}, max ${ms(Math.max(...intervals))}; ` +
      `${long} longer than 1.5 frames at 60 Hz`,
  );
}

const m10k = results.find((r) => r.nSpans === 10_000)?.memory;
const m100k = results.find((r) => r.nSpans === 100_000)?.memory;
console.log('');
console.log('Memory after a forced GC (CDP): JS heap in use + wasm linear memory (its high-water mark: it never shrinks).');
console.log('| spans | JS heap | wasm memory | total | DOM nodes |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${count(r.nSpans)} | ${mb(r.memory.jsHeap)} | ${mb(r.memory.wasm)} | ${mb(r.memory.total)} | ${r.memory.domNodes} |`);
}
// Per span between each size and the next.
for (let i = 1; i < results.length; i++) {
  const [small, big] = [results[i - 1], results[i]];
  const spans = big.nSpans - small.nSpans;
  // Rounded, so that a difference of a few bytes in all does not print as -0.
  const per = (key) => Math.round(((big.memory[key] - small.memory[key]) / spans) * 10) / 10 || 0;
  console.log(
    `Per span, (${count(big.nSpans)} − ${count(small.nSpans)}) / ${count(spans)}: ${per('total').toFixed(0)} bytes ` +
      `(wasm ${per('wasm').toFixed(0)}, JS heap ${per('jsHeap').toFixed(1)})`,
  );
}
