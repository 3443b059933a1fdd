// What every browser test file needs around its tests: the built app (dist/,
// or TRACELAB_DIST) served on 127.0.0.1 and one Chromium, started before the
// file's tests and stopped after them.
//
//   import { browser, server, useApp } from './support/harness.mjs';
//   useApp();
//   test('…', async () => { const { page } = await openPage(browser); await page.goto(server.url); });
//
// `server` and `browser` are live bindings: set by the `before` hook that
// `useApp()` registers, read by the tests once it has run.

import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from './browser.mjs';
import { startStaticServer } from './static-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The release build to test: `TRACELAB_DIST`, or the repository's dist/. */
export const DIST = process.env.TRACELAB_DIST ?? path.join(here, '..', '..', 'dist');

/** `{ url, close }` of the static server; set once `useApp()`'s hook has run. */
export let server;
/** The Chromium every test of the file opens its pages in. */
export let browser;

/**
 * Registers the hooks that start the server and the browser before the
 * calling file's tests and stop them after. `setUp` runs first (e.g. to make
 * an output folder). Call it once, at the top level of a test file.
 */
export function useApp(setUp = async () => {}) {
  before(async () => {
    await setUp();
    server = await startStaticServer(DIST);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
}
