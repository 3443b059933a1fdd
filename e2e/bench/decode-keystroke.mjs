// Browser benchmark: how long the Decode page takes to update after a
// keystroke, while a person types the end of a 512-character tracestate.
// Not a test (timings are never asserted); run with `cargo xtask bench`.
//
// For each keystroke it records, inside the page, the time from the input
// event to the last DOM change the app makes for it (Leptos updates on a
// later tick): decoding, diffing and updating the report. Layout and paint
// come after and are not counted.

import { launchBrowser, openPage } from '../support/browser.mjs';
import { DIST } from '../support/harness.mjs';
import { startStaticServer } from '../support/static-server.mjs';

const KEYSTROKES = Number(process.env.TRACELAB_KEYSTROKES ?? 120);
const SETTLE_MS = 100;

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

// 27 entries of 17 characters and one longer: 28 members, 512 characters.
function tracestate512() {
  const entries = Array.from({ length: 27 }, (_, i) => `vendor${String(i).padStart(2, '0')}=value${String(i).padStart(3, '0')}`);
  let value = entries.join(',');
  const last = `,last=${'x'.repeat(512 - value.length - 6)}`;
  value += last;
  return value;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

const server = await startStaticServer(DIST);
const browser = await launchBrowser();
try {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('decode', server.url).href);
  const input = page.getByTestId('tp-input');
  await input.waitFor();

  const state = tracestate512();
  if (state.length !== 512) throw new Error(`tracestate is ${state.length} characters, not 512`);
  const text = `traceparent: ${TRACEPARENT}\ntracestate: ${state}`;
  const typed = text.slice(-KEYSTROKES);
  await input.fill(text.slice(0, text.length - KEYSTROKES));
  await page.getByTestId('tp-verdict').waitFor();

  // The app may change the DOM in several steps for one keystroke; the
  // update is complete at the last change. So each keystroke is left alone
  // for a settle time, then the last change is read.
  await page.evaluate(() => {
    window.__keystroke = null;
    const observer = new MutationObserver(() => {
      if (window.__keystroke) window.__keystroke.last = performance.now();
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    document.addEventListener('input', () => {
      window.__keystroke = { input: performance.now(), last: null };
    }, { capture: true });
  });

  await input.focus();
  await page.keyboard.press('End');
  const samples = [];
  for (let i = 0; i < typed.length; i++) {
    await page.keyboard.type(typed[i]);
    // Long enough for any update (the worst seen is a few ms), short enough
    // that the run stays brief; a sample with no change is reported as such.
    await page.waitForTimeout(SETTLE_MS);
    const sample = await page.evaluate(() => window.__keystroke);
    if (!sample || sample.last === null) throw new Error(`keystroke ${i} changed nothing on the page`);
    samples.push(sample.last - sample.input);
  }
  const dom = stats(samples);
  const ms = (v) => `${v.toFixed(1)} ms`;
  console.log(`Decode page, ${dom.n} keystrokes ending a 512-character tracestate:`);
  console.log(`  input event → last DOM change: median ${ms(dom.median)}, p95 ${ms(dom.p95)}, max ${ms(dom.max)}`);
  console.log('  target: under 16 ms per keystroke (one frame at 60 Hz)');
  await assertClean();
} finally {
  await browser.close();
  await server.close();
}
