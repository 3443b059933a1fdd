// Launching Debian's Chromium through playwright-core (which downloads no
// browser of its own), and watching a page for anything that should fail a
// test: a request (fetch, EventSource, a worker's, anything the page loads)
// to an origin other than the one that served the page, any WebSocket, a
// console error, an uncaught exception, an HTTP error response. A test's
// own tries at connections (marked with CSP_PROBE in the address, to check
// that the page's Content-Security-Policy refuses them) are listed apart.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

/** Marks the address of a test's deliberate try at a connection. */
export const CSP_PROBE = 'tracelab-csp-probe';

export const CHROMIUM = process.env.TRACELAB_CHROMIUM ?? '/usr/bin/chromium';

// Each flag keeps Chromium from doing something of its own: phoning home
// (background networking, component updates, sync), showing first-run UI,
// or needing a GPU or a sandbox the CI container does not have. QUIC off
// keeps every request on HTTP, where Playwright sees it.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A fresh page in its own context, with everything that goes wrong on it
 * recorded. Call `assertClean()` at the end of a test.
 */
export async function openPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  // The origins that served the page: each main-frame navigation's.
  const pageOrigins = new Set();
  const sockets = [];
  const probes = [];

  // On the context, so requests from workers are seen as well.
  context.on('request', (request) => {
    // A test's deliberate try at a connection the page's policy refuses
    // (Playwright lists it even though the browser never sent it).
    if (request.url().includes(CSP_PROBE)) {
      probes.push(request.url());
      return;
    }
    requests.push(request.url());
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && /^https?:/.test(frame.url())) {
      pageOrigins.add(new URL(frame.url()).origin);
    }
  });
  // The app opens none; a WebSocket is never a request Playwright lists.
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => {
    problems.push(`uncaught exception: ${error.message}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? 'unknown';
    if (request.url().includes(CSP_PROBE)) return;
    // Leaving a page cancels what it was still loading (the favicon, often);
    // that is the browser's doing, not a fault of the app.
    if (reason !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()} (${reason})`);
    }
  });

  return {
    page,
    requests,
    /** The test's own tries at connections, marked with CSP_PROBE. */
    probes,
    /**
     * `expected`: patterns of problems the test itself causes on purpose
     * (a service made to fail answers 502), which are then not faults.
     * `origins`: origins besides the page's own that the test expects the
     * page to reach (the demo's services, from the Live page).
     */
    async assertClean(expected = [], { origins = [] } = {}) {
      const allowed = new Set([...pageOrigins, ...origins]);
      // data: and blob: URLs are made in the page and go nowhere.
      const elsewhere = requests.filter((url) => {
        const { protocol, origin } = new URL(url);
        return !['data:', 'blob:'].includes(protocol) && !allowed.has(origin);
      });
      assert.deepEqual(elsewhere, [], `every request must go to the page's own origin (${[...allowed].join(', ')})`);
      assert.ok(requests.every((url) => /^(https?|data|blob):/.test(url)), 'only HTTP requests');
      assert.ok(
        [...allowed].every((origin) => new URL(origin).hostname === '127.0.0.1'),
        `and only on 127.0.0.1: ${[...allowed].join(', ')}`,
      );
      assert.deepEqual(sockets, [], 'the page must open no WebSocket');
      const unexpected = problems.filter((problem) => !expected.some((pattern) => pattern.test(problem)));
      assert.deepEqual(unexpected, [], 'the page must log no errors');
      await context.close();
    },
  };
}

/**
 * Waits until `locator`'s trimmed text is `expected`. Leptos applies DOM
 * updates on a later tick, so a check made right after a click or a load
 * would see the old page.
 */
export async function expectText(locator, expected, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let actual;
  for (;;) {
    const remaining = Math.max(1, deadline - Date.now());
    actual = (await locator.textContent({ timeout: remaining }))?.trim();
    if (actual === expected || Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(actual, expected);
}

/**
 * Polls `read` until `check` accepts its value, then returns it; fails with
 * `what` and the last value read. For states that Leptos reaches on a later
 * tick and that are not one element's text (counts, attributes, lists).
 */
export async function waitFor(read, check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    value = await read();
    if (check(value) || Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(check(value), `${what} (last value: ${JSON.stringify(value)})`);
  return value;
}
