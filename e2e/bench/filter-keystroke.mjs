// Browser benchmark: typing in the waterfall's filter at 1k, 10k, 100k and
// 1M spans (the Sample page). Not a test (timings are never asserted); run
// with `cargo xtask bench`.
//
// What is measured, exactly: the filter box is focused and QUERY typed one
// key at a time (Playwright's keyboard, DELAY_MS apart, as a quick typist).
// For each key, "keystroke → frame" runs from the keydown event (a listener
// in the capture phase, so before the app's) to the end of the next
// animation frame (a message posted from that frame's rAF callback runs
// once style, layout and paint are done): how long the page takes to show
// the key. "Longest task" is the longest main-thread task the browser
// reported (PerformanceObserver, `longtask`: every task over 50 ms) from
// the first key until the filter's result is on screen. "Result after last
// key" runs from the last keydown to the first frame whose summary says how
// many spans match: traces over 5,000 spans are filtered in slices after
// the keys (the summary says "Filtering…" meanwhile), smaller ones at once.

import { launchBrowser, openPage } from '../support/browser.mjs';
import { DIST } from '../support/harness.mjs';
import { startStaticServer } from '../support/static-server.mjs';

const SIZES = (process.env.TRACELAB_FILTER_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
// A span-name word that a few spans in a hundred have (the db's fetch_rows).
const QUERY = process.env.TRACELAB_FILTER_QUERY ?? 'fetch';
const DELAY_MS = 80;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// In the page: keydown → next frame for every key, long tasks, and when the
// summary first says how many match.
function watchKeys() {
  const state = { keys: [], longTasks: [], lastKeyAt: null, frames: [] };
  window.__filterBench = state;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) state.longTasks.push(entry.duration);
  }).observe({ entryTypes: ['longtask'] });
  document.addEventListener(
    'keydown',
    () => {
      const at = performance.now();
      state.lastKeyAt = at;
      state.frames = [];
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => state.keys.push(performance.now() - at);
        channel.port2.postMessage(null);
      });
    },
    true,
  );
  // The summary at every frame since the last key: the result is on
  // screen from the frame after the last one that showed anything else.
  const check = () => {
    const summary = document.querySelector('[data-testid="wf-summary"]')?.textContent ?? '';
    if (state.lastKeyAt !== null) state.frames.push({ at: performance.now(), summary });
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

async function measure(browser, server, nSpans) {
  const { page } = await openPage(browser);
  await page.goto(new URL(`sample?spans=${nSpans}&seed=1`, server.url).href);
  await page.getByTestId('wf-row').first().waitFor({ timeout: 120_000 });
  await page.waitForTimeout(500);
  await page.evaluate(watchKeys);
  await page.getByTestId('wf-filter').focus();
  await page.keyboard.type(QUERY, { delay: DELAY_MS });
  // Done when the summary says how many match and has stayed so a moment.
  await page.waitForFunction(
    () => {
      const frames = window.__filterBench.frames;
      const last = frames[frames.length - 1];
      return last && / match/.test(last.summary) && frames.filter((f) => f.summary === last.summary).length > 20;
    },
    null,
    { timeout: 120_000 },
  );
  // Long tasks are reported a moment after they end.
  await page.waitForTimeout(300);
  const state = await page.evaluate(() => window.__filterBench);
  const final = state.frames[state.frames.length - 1].summary;
  const lastOther = state.frames.findLastIndex((frame) => frame.summary !== final);
  const resultAt = state.frames[lastOther + 1].at;
  const summary = final.trim();
  await page.context().close();
  return {
    keyMedian: median(state.keys),
    keyMax: Math.max(...state.keys),
    longest: state.longTasks.length ? Math.max(...state.longTasks) : 0,
    result: resultAt - state.lastKeyAt,
    summary,
  };
}

const server = await startStaticServer(DIST);
const browser = await launchBrowser();
try {
  console.log(`Typing "${QUERY}" in the filter, ${DELAY_MS} ms between keys (ms):`);
  console.log('| spans | keystroke → frame, median | keystroke → frame, max | longest task | result after last key | summary |');
  console.log('|---|---|---|---|---|---|');
  for (const nSpans of SIZES) {
    const r = await measure(browser, server, nSpans);
    const ms = (value) => value.toFixed(1);
    console.log(
      `| ${nSpans.toLocaleString('en')} | ${ms(r.keyMedian)} | ${ms(r.keyMax)} | ${r.longest ? ms(r.longest) : 'none over 50'} | ${ms(r.result)} | ${r.summary} |`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
