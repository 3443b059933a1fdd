// Browser tests of the Build page (/build) in the built app (dist/): a new
// trace, validation as you type, the tracestate editor, build → decode,
// the share link, the copy buttons, and that the page makes no request
// leaving 127.0.0.1. Elements are found by data-testid only.
//
// Run by `cargo xtask test` with the other browser tests; alone: `node --test`
// in e2e/ after `trunk build --release`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectText, openPage, waitFor } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

// Version 00, 32 + 16 lowercase hex digits, two of flags.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

useApp();

async function openBuild(hash = '', viewport) {
  const opened = await openPage(browser, viewport);
  await opened.page.goto(new URL(`build${hash}`, server.url).href);
  await expectText(opened.page.getByTestId('page-title'), 'Build');
  return opened;
}

const textOf = (locator) => async () => ((await locator.count()) > 0 ? (await locator.textContent()) ?? '' : '');

/** The built traceparent, once it is a valid-looking value. */
function builtTraceparent(page) {
  return waitFor(textOf(page.getByTestId('build-traceparent')), (t) => TRACEPARENT.test(t), 'build-traceparent');
}

test('New trace gives a valid 55-character traceparent with the sampled flag', async () => {
  const { page, assertClean } = await openBuild();
  const first = await builtTraceparent(page);
  await page.getByTestId('build-new-trace').click();
  const value = await waitFor(
    textOf(page.getByTestId('build-traceparent')),
    (t) => TRACEPARENT.test(t) && t !== first,
    'a new traceparent',
  );
  assert.equal(value.length, 55);
  const [, traceId, parentId, flags] = value.match(TRACEPARENT);
  assert.notEqual(traceId, '0'.repeat(32));
  assert.notEqual(parentId, '0'.repeat(16));
  assert.equal(parseInt(flags, 16) & 0x01, 1, 'sampled');
  assert.equal(parseInt(flags, 16) & 0x02, 2, 'random');
  assert.ok(await page.getByTestId('build-flag-sampled').isChecked());
  assert.equal(await page.getByTestId('build-trace-id').inputValue(), traceId);
  await waitFor(textOf(page.getByTestId('build-verdict')), (t) => /\bvalid\b/.test(t) && !/invalid/.test(t), 'verdict');
  await assertClean();
});

test('an uppercase trace-id shows the rule it breaks, and fixing it clears it', async () => {
  const { page, assertClean } = await openBuild();
  await builtTraceparent(page);
  const input = page.getByTestId('build-trace-id');
  const lower = await input.inputValue();
  await input.fill(lower.toUpperCase().replace(/^[0-9]/, 'A'));
  const errors = page.getByTestId('build-trace-id-errors').getByTestId('build-error');
  await waitFor(() => errors.count(), (n) => n === 1, 'one rule broken');
  assert.equal(await errors.first().getAttribute('data-rule'), 'trace-id.uppercase');
  assert.match(await errors.first().textContent(), /trace-id\.uppercase.*lowercase/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await waitFor(textOf(page.getByTestId('build-verdict')), (t) => /\binvalid\b/.test(t), 'verdict');
  // The output is the value as typed, so what is shown is what would be sent.
  assert.match(await page.getByTestId('build-traceparent').textContent(), /^00-[0-9A-F]{32}-/);

  await input.fill(lower);
  await waitFor(() => errors.count(), (n) => n === 0, 'no rule broken');
  await waitFor(textOf(page.getByTestId('build-verdict')), (t) => /^\W*valid\b/.test(t), 'verdict');
  await assertClean();
});

test('turning the sampled flag off changes the flags to 02', async () => {
  const { page, assertClean } = await openBuild();
  await builtTraceparent(page);
  await page.getByTestId('build-flag-sampled').uncheck();
  await waitFor(textOf(page.getByTestId('build-traceparent')), (t) => t.endsWith('-02'), 'flags 02');
  // Bits 2-7 are not settable: a sender sends them as zero.
  assert.ok(await page.getByTestId('build-flag-unknown').getByRole('checkbox').isDisabled());
  await assertClean();
});

test('a built header decodes as valid with the same fields', async () => {
  const built = await openBuild();
  const value = await builtTraceparent(built.page);
  await built.assertClean();

  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL(`decode#tp=${encodeURIComponent(value)}`, server.url).href);
  await waitFor(textOf(page.getByTestId('tp-verdict')), (t) => /^\W*valid\b/.test(t), 'decode verdict');
  const [, traceId, parentId, flags] = value.match(TRACEPARENT);
  await expectText(page.getByTestId('tp-field-version'), '00');
  await expectText(page.getByTestId('tp-field-trace-id'), traceId);
  await expectText(page.getByTestId('tp-field-parent-id'), parentId);
  await expectText(page.getByTestId('tp-field-flags'), flags);
  assert.equal(await page.getByTestId('tp-error').count(), 0);
  await assertClean();
});

test('the tracestate editor adds, edits, reorders and removes entries', async () => {
  const { page, assertClean } = await openBuild();
  await builtTraceparent(page);
  const entries = page.getByTestId('build-ts-entry');
  const output = page.getByTestId('build-tracestate');

  await page.getByTestId('build-ts-add').click();
  await waitFor(() => entries.count(), (n) => n === 1, 'one entry');
  await entries.nth(0).getByTestId('build-ts-key').fill('rojo');
  await entries.nth(0).getByTestId('build-ts-value').fill('00f067aa0ba902b7');
  await page.getByTestId('build-ts-add').click();
  await waitFor(() => entries.count(), (n) => n === 2, 'two entries');
  await entries.nth(1).getByTestId('build-ts-key').fill('congo');
  // A value may hold spaces (not at its end).
  await entries.nth(1).getByTestId('build-ts-value').fill('t61 rcWkgMzE');
  await expectText(output, 'rojo=00f067aa0ba902b7,congo=t61 rcWkgMzE');

  // Move the second up: the order of the header follows.
  await entries.nth(1).getByTestId('build-ts-up').click();
  await expectText(output, 'congo=t61 rcWkgMzE,rojo=00f067aa0ba902b7');
  // Focus stays on the row's buttons, so the keyboard can move it back.
  await waitFor(
    () => page.evaluate(() => document.activeElement?.dataset.testid),
    (id) => id === 'build-ts-down',
    'focus on the moved row',
  );
  await page.keyboard.press('Enter');
  await expectText(output, 'rojo=00f067aa0ba902b7,congo=t61 rcWkgMzE');

  // A broken entry shows its rule; the curl command carries the value quoted.
  await entries.nth(0).getByTestId('build-ts-key').fill('Rojo');
  const entryErrors = entries.nth(0).getByTestId('build-error');
  await waitFor(() => entryErrors.count(), (n) => n >= 1, 'a rule on the entry');
  assert.equal(await entryErrors.first().getAttribute('data-rule'), 'tracestate.key.first-char');
  await entries.nth(0).getByTestId('build-ts-key').fill('rojo');
  await waitFor(() => entryErrors.count(), (n) => n === 0, 'entry fixed');
  assert.match(
    await page.getByTestId('build-curl').textContent(),
    /-H 'tracestate: rojo=00f067aa0ba902b7,congo=t61 rcWkgMzE'/,
  );

  // Remove the first: only the other is left.
  await entries.nth(0).getByTestId('build-ts-remove').click();
  await expectText(output, 'congo=t61 rcWkgMzE');
  await waitFor(() => entries.count(), (n) => n === 1, 'one entry left');
  await expectText(page.getByTestId('build-next-tracestate'), 'congo=t61 rcWkgMzE');
  await entries.nth(0).getByTestId('build-ts-remove').click();
  await waitFor(() => output.count(), (n) => n === 0, 'no tracestate output');
  await assertClean();
});

test('the 512-character limit shows which entries a vendor drops first', async () => {
  const long = 'x'.repeat(200);
  // 827 characters: 'a=1', one entry of 204, five of 122, 'g=1'.
  const mid = (key) => `${key}=${'y'.repeat(120)}`;
  const entriesParam = ['a=1', `big=${long}`, ...['b', 'c', 'd', 'e', 'f'].map(mid), 'g=1'].join(',');
  const { page, assertClean } = await openBuild(
    `#tp=${encodeURIComponent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')}&ts=${encodeURIComponent(entriesParam)}`,
  );
  await waitFor(() => page.getByTestId('build-ts-entry').count(), (n) => n === 8, 'eight entries');
  await waitFor(textOf(page.getByTestId('build-ts-length')), (t) => /\b827 of 512\b/.test(t) && /over/.test(t), 'length');
  // Entries over 128 characters go first (the 2nd), then from the end
  // until the rest fits: 827 - 205 - 4 - 123 = 495.
  await waitFor(textOf(page.getByTestId('build-ts-truncation')), (t) => /entries 2, 8, 7,/.test(t), 'truncation');
  assert.equal(await page.getByTestId('build-ts-dropped').count(), 3);
  assert.match(await page.getByTestId('build-ts-entry').nth(1).getByTestId('build-ts-dropped').textContent(), /1st/);
  await assertClean();
});

test('the URL fragment is a share link that reopens the same headers', async () => {
  const first = await openBuild();
  await builtTraceparent(first.page);
  await first.page.getByTestId('build-ts-add').click();
  const entry = first.page.getByTestId('build-ts-entry').nth(0);
  await entry.getByTestId('build-ts-key').fill('tracelab');
  await entry.getByTestId('build-ts-value').fill('a b');
  await expectText(first.page.getByTestId('build-tracestate'), 'tracelab=a b');
  const value = await builtTraceparent(first.page);
  // The fragment is written a moment after editing stops.
  await first.page.waitForFunction(
    (tp) => location.hash === `#tp=${encodeURIComponent(tp)}&ts=${encodeURIComponent('tracelab=a b')}`,
    value,
  );
  const link = first.page.url();
  assert.equal(new URL(link).pathname, '/build');
  await first.assertClean();

  const { page, assertClean } = await openPage(browser);
  await page.goto(link);
  await expectText(page.getByTestId('build-traceparent'), value);
  await expectText(page.getByTestId('build-tracestate'), 'tracelab=a b');
  assert.equal(await page.getByTestId('build-ts-key').inputValue(), 'tracelab');
  await assertClean();
});

test('Open in Decode shows the built headers decoded as valid', async () => {
  const { page, assertClean } = await openBuild(`#ts=${encodeURIComponent('rojo=1')}`);
  const value = await builtTraceparent(page);
  await page.getByTestId('build-open-decode').click();
  await expectText(page.getByTestId('page-title'), 'Decode');
  await waitFor(textOf(page.getByTestId('tp-verdict')), (t) => /^\W*valid\b/.test(t), 'decode verdict');
  await expectText(page.getByTestId('tp-field-trace-id'), value.split('-')[1]);
  await waitFor(() => page.getByTestId('ts-entry').count(), (n) => n === 1, 'one tracestate entry');
  await assertClean();
});

// Regression: both pages keep `tp=` in the fragment, and the router draws the
// next page before the address bar changes; Decode once read Build's state.
test('leaving Build by the navigation does not carry its header into Decode', async () => {
  const { page, assertClean } = await openBuild();
  await builtTraceparent(page);
  await page.waitForFunction(() => location.hash.startsWith('#tp='));
  await page.getByTestId('nav-decode').click();
  await expectText(page.getByTestId('page-title'), 'Decode');
  await waitFor(() => page.getByTestId('tp-hint').count(), (n) => n === 1, 'the empty page hint');
  assert.equal(await page.getByTestId('tp-input').inputValue(), '');
  await assertClean();
});

test('state too long for a link stays out of the URL, with a note', async () => {
  const entries = Array.from({ length: 20 }, (_, i) => `v${i}=${'q'.repeat(256)}`).join(',');
  const { page, assertClean } = await openBuild(`#ts=${encodeURIComponent(entries)}`);
  await waitFor(() => page.getByTestId('build-ts-entry').count(), (n) => n === 20, 'twenty entries');
  await waitFor(textOf(page.getByTestId('build-share-note')), (t) => /too long to keep in the link/.test(t), 'note');
  await page.waitForFunction(() => location.hash === '');
  await assertClean();
});

test('a link with an invalid header reopens it with its rules shown', async () => {
  const bad = '00-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-01';
  const { page, assertClean } = await openBuild(`#tp=${encodeURIComponent(bad)}`);
  await expectText(page.getByTestId('build-traceparent'), bad);
  await waitFor(
    async () => page.getByTestId('build-error').evaluateAll((els) => els.map((e) => e.dataset.rule).sort()),
    (rules) => rules.join() === 'parent-id.all-zero,trace-id.uppercase',
    'rules',
  );
  await expectText(page.getByTestId('build-next-action'), 'restart');
  await assertClean();
});

test('the next hop keeps the trace-id and tracestate with a new parent-id', async () => {
  const { page, assertClean } = await openBuild(
    `#tp=${encodeURIComponent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03')}&ts=rojo%3D1`,
  );
  await expectText(page.getByTestId('build-next-action'), 'continue');
  const next = await waitFor(textOf(page.getByTestId('build-next-traceparent')), (t) => TRACEPARENT.test(t), 'next');
  const [, traceId, parentId, flags] = next.match(TRACEPARENT);
  assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(parentId, '00f067aa0ba902b7');
  assert.equal(flags, '03');
  await expectText(page.getByTestId('build-next-tracestate'), 'rojo=1');
  await assertClean();
});

test('copy buttons copy, or select the text and say so, without an error', async () => {
  const { page, assertClean } = await openBuild();
  const value = await builtTraceparent(page);
  // Without clipboard permission the browser may refuse: the page says so.
  await page.getByTestId('build-copy-curl').click();
  await waitFor(textOf(page.getByTestId('build-copy-curl-status')), (t) => t.length > 0, 'a status');

  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') });
  await page.getByTestId('build-copy-traceparent').click();
  await expectText(page.getByTestId('build-copy-traceparent-status'), 'Copied.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `traceparent: ${value}`);
  await assertClean();
});

test('snippets carry the headers for curl, Rust, Python and JavaScript', async () => {
  const { page, assertClean } = await openBuild(
    `#tp=${encodeURIComponent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')}&ts=${encodeURIComponent('rojo=a b')}`,
  );
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await waitFor(textOf(page.getByTestId('build-curl')), (t) => t.includes(`-H 'traceparent: ${tp}'`), 'curl');
  assert.match(await page.getByTestId('build-curl').textContent(), /-H 'tracestate: rojo=a b'/);
  assert.match(await page.getByTestId('build-snippet-rust').textContent(), /\.header\("tracestate", "rojo=a b"\)/);
  assert.match(await page.getByTestId('build-snippet-python').textContent(), /"traceparent": "00-4bf9/);
  assert.match(await page.getByTestId('build-snippet-js').textContent(), /tracestate: "rojo=a b",/);
  await assertClean();
});

test('the build page fits 360 px and works by keyboard', async () => {
  const { page, assertClean } = await openBuild(
    `#tp=${encodeURIComponent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')}&ts=${encodeURIComponent(
      Array.from({ length: 6 }, (_, i) => `vendor${i}=${'ab'.repeat(30)}`).join(','),
    )}`,
    { width: 360, height: 740 },
  );
  await waitFor(() => page.getByTestId('build-ts-entry').count(), (n) => n === 6, 'six entries');
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 360, `/build is ${scrollWidth}px wide`);
  // No button squeezed narrower than its label (the text would spill out).
  const spilling = await page.locator('button').evaluateAll((buttons) =>
    buttons.filter((button) => button.scrollWidth > button.clientWidth + 1).map((button) => button.textContent),
  );
  assert.deepEqual(spilling, [], 'every button holds its label');

  // Keyboard: focus the button, press Enter, and a new trace is drawn.
  await page.getByTestId('build-new-trace').focus();
  await page.keyboard.press('Enter');
  await waitFor(
    textOf(page.getByTestId('build-traceparent')),
    (t) => TRACEPARENT.test(t) && !t.includes('4bf92f3577b34da6a3ce929d0e0e4736'),
    'a new trace by keyboard',
  );
  // Every input has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('main input')].filter((i) => i.labels.length === 0).map((i) => i.id),
  );
  assert.deepEqual(unlabelled, []);
  await assertClean();
});

test('a new entry never repeats a key, even after one was removed', async () => {
  const { page, assertClean } = await openBuild();
  await builtTraceparent(page);
  const entries = page.getByTestId('build-ts-entry');
  for (let n = 1; n <= 3; n += 1) {
    await page.getByTestId('build-ts-add').click();
    await waitFor(() => entries.count(), (count) => count === n, `${n} entries`);
  }
  await entries.nth(0).getByTestId('build-ts-remove').click();
  await waitFor(() => entries.count(), (count) => count === 2, 'two entries left');
  await page.getByTestId('build-ts-add').click();
  await waitFor(() => entries.count(), (count) => count === 3, 'three entries again');
  const keys = await page.getByTestId('build-ts-key').evaluateAll((inputs) => inputs.map((input) => input.value));
  assert.deepEqual(keys, ['vendor2', 'vendor3', 'vendor4']);
  assert.equal(new Set(keys).size, keys.length, 'every key is unique');
  await assertClean();
});

test('the request URL typed on the page is in the share link, and old links keep the default', async () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const first = await openBuild(`#tp=${encodeURIComponent(tp)}`);
  const defaultUrl = await first.page.getByTestId('build-url').inputValue();
  assert.ok(defaultUrl.startsWith('http'), `a default URL: ${defaultUrl}`);
  const url = 'https://api.example.com/orders?id=7&x=a b';
  await first.page.getByTestId('build-url').fill(url);
  await first.page.waitForFunction((url) => location.hash.includes(`url=${encodeURIComponent(url)}`), url);
  const link = first.page.url();
  await first.assertClean();

  const { page, assertClean } = await openPage(browser);
  await page.goto(link);
  await expectText(page.getByTestId('build-traceparent'), tp);
  await waitFor(() => page.getByTestId('build-url').inputValue(), (value) => value === url, 'the URL from the link');
  assert.match(await page.getByTestId('build-curl').textContent(), /api\.example\.com\/orders/);
  // A link made before the URL was kept opens with the default URL.
  await page.goto(new URL(`build#tp=${encodeURIComponent(tp)}`, server.url).href);
  await page.reload();
  await waitFor(() => page.getByTestId('build-url').inputValue(), (value) => value === defaultUrl, 'the default URL');
  await assertClean();
});

test('Build follows its fragment: an edited address bar, Back and Forward, an unreadable link', async () => {
  const a = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const b = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
  const { page, assertClean } = await openBuild(`#tp=${encodeURIComponent(a)}`);
  await expectText(page.getByTestId('build-traceparent'), a);
  await page.evaluate(() => {
    window.tracelabNoReload = true;
  });

  // Typed into the address bar: a new history entry, no reload.
  await page.evaluate((b) => {
    location.hash = `#tp=${encodeURIComponent(b)}&ts=${encodeURIComponent('rojo=1')}`;
  }, b);
  await expectText(page.getByTestId('build-traceparent'), b);
  assert.equal(await page.getByTestId('build-trace-id').inputValue(), b.split('-')[1]);
  assert.equal(await page.getByTestId('build-flag-sampled').isChecked(), false);
  await expectText(page.getByTestId('build-tracestate'), 'rojo=1');

  await page.goBack();
  await expectText(page.getByTestId('build-traceparent'), a);
  assert.equal(await page.getByTestId('build-ts-entry').count(), 0, 'the first link has no entry');
  await page.goForward();
  await expectText(page.getByTestId('build-traceparent'), b);
  await expectText(page.getByTestId('build-tracestate'), 'rojo=1');
  // The page's own rewrite of the fragment does not start a loop: it
  // settles on the link's state.
  await page.waitForTimeout(600);
  await expectText(page.getByTestId('build-traceparent'), b);

  // An unreadable fragment says so, as on a fresh load of the same link.
  await page.evaluate(() => {
    location.hash = '#tp=%E0%A4%A';
  });
  await waitFor(
    textOf(page.getByTestId('build-load-note')),
    (t) => /not valid percent-encoding/.test(t),
    'the note on the unreadable link',
  );
  assert.equal(await page.evaluate(() => window.tracelabNoReload), true, 'no reload happened');
  await assertClean();
});
