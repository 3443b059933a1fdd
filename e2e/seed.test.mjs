// The lesson's pinned outcome, computed by the wasm32 build: the Simulate
// page's worker runs `make_call` for step 4 with seed 7 and must send the
// same traceparents that crates/demo/tests/lesson.rs pins for the native
// build (`a_seed_gives_the_same_traceparent_on_every_target`). A target that
// computes differently (integer widths, hashing, float rounding) would give a
// shared link that opens a different trace; this is where it shows.
//
// Alone: `node --test seed.test.mjs` in e2e/ after `trunk build --release`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectText, openPage } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

// The same strings as the native test: keep the two in step.
const PINNED = [
  '00-ef80df4acb025b080dc1061a96825f24-212abae72f85df3b-01',
  '00-ef80df4acb025b080dc1061a96825f24-fa222dba27540f4c-01',
];

useApp();

test('step 4 with seed 7 sends the pinned traceparents in the browser too', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('simulate#step=4&seed=7', server.url).href);
  await expectText(page.getByTestId('page-title'), 'Simulate');
  await expectText(page.getByTestId('sim-seed'), '7');
  await page.getByTestId('sim-call').click();
  await page.getByTestId('sim-result').filter({ hasText: 'Call #1 ' }).waitFor();
  const hops = await page.getByTestId('sim-hop').allTextContents();
  const sent = hops.map((text) => /traceparent: (00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})/.exec(text)?.[1]);
  assert.deepEqual(sent, PINNED);
  await assertClean();
});
