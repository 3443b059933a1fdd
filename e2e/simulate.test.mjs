// Browser tests of the Simulate page (/simulate) in the built app (dist/):
// the lesson's six steps with a call at each (response, hops, waterfall),
// propagation off giving two unconnected traces, and a shared link that
// reopens the same lesson state and, with the same seed, the same trace.
// Every test also checks that nothing leaves 127.0.0.1 (the simulation makes
// no request at all) and that the console stays clean. Elements are found by
// data-testid (plus the data-step / data-switch values the hooks carry).
//
// Alone: `node --test simulate.test.mjs` in e2e/ after `trunk build --release`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectText, openPage, waitFor } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

// A traceparent value anywhere in a text: trace-id and parent-id captured.
const TRACEPARENT = /traceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;

useApp();

async function openSimulate(hash = '', viewport) {
  const opened = await openPage(browser, viewport);
  await opened.page.goto(new URL(`simulate${hash}`, server.url).href);
  await expectText(opened.page.getByTestId('page-title'), 'Simulate');
  return opened;
}

const stepButton = (page, n) => page.locator(`[data-testid="lesson-step"][data-step="${n}"]`);
const switchInput = (page, name) => page.locator(`[data-testid="sim-switch"][data-switch="${name}"]`);

async function currentStep(page) {
  return page.locator('[data-testid="lesson-step"][aria-current="step"]').getAttribute('data-step');
}

/** Clicks "Make a call" and waits for call number `number` to be shown. */
async function makeCall(page, number) {
  await page.getByTestId('sim-call').click();
  await page.getByTestId('sim-result').filter({ hasText: `Call #${number} ` }).waitFor();
}

/** Each hop's (trace-id, parent-id, flags), or null where no traceparent was sent. */
async function hopContexts(page) {
  const texts = await page.getByTestId('sim-hop').allTextContents();
  return texts.map((text) => {
    const match = TRACEPARENT.exec(text);
    return match ? { traceId: match[1], parentId: match[2], flags: match[3] } : null;
  });
}

/** Every switch's state, by data-switch: checked for boxes, value otherwise. */
async function switchStates(page) {
  return page.getByTestId('sim-switch').evaluateAll((inputs) =>
    Object.fromEntries(
      inputs.map((input) => [
        input.dataset.switch,
        input.type === 'checkbox' ? input.checked : input.value,
      ]),
    ),
  );
}

test('the six steps, with a call at each: response, hops and waterfall', async () => {
  const { page, assertClean } = await openSimulate();
  // No fragment: step 1, and the page is built (no "not built yet" notice).
  assert.equal(await currentStep(page), '1');
  assert.equal(await page.getByTestId('not-built-yet').count(), 0);
  assert.equal(await page.getByTestId('lesson-step').count(), 6);

  for (let n = 1; n <= 6; n += 1) {
    await stepButton(page, n).click();
    await waitFor(() => currentStep(page), (step) => step === String(n), `step ${n} is current`);
    await page.getByTestId('lesson-detail').filter({ hasText: `Step ${n} of 6` }).waitFor();
    await waitFor(() => page.url(), (url) => new URL(url).hash.includes(`step=${n}`), `the URL holds step ${n}`);
    await makeCall(page, n);

    const response = JSON.parse(await page.getByTestId('sim-response').textContent());
    assert.equal(response.name, 'Fugazi', `step ${n}: the band`);
    assert.ok(Array.isArray(response.reviews), `step ${n}: the band's reviews`);

    const hops = await hopContexts(page);
    assert.equal(hops.length, 2, `step ${n}: client → bands-api → reviews-api`);
    const rows = page.getByTestId('wf-row');
    if (n === 1) {
      // Nothing is traced: no header is sent and there is no trace.
      assert.deepEqual(hops, [null, null]);
      await page.getByTestId('sim-no-trace').waitFor();
      assert.equal(await rows.count(), 0);
      continue;
    }
    await rows.first().waitFor();
    if (n === 2) {
      // Only bands-api traces: it sends a traceparent on, the client none.
      assert.equal(hops[0], null, 'step 2: the client sends no traceparent');
      assert.ok(hops[1], 'step 2: bands-api sends one to reviews-api');
    } else {
      assert.ok(hops[0] && hops[1], `step ${n}: both hops carry a traceparent`);
      assert.equal(hops[0].traceId, hops[1].traceId, `step ${n}: one trace-id across the hops`);
      assert.notEqual(hops[0].parentId, hops[1].parentId, `step ${n}: each hop has its own parent-id`);
      assert.equal(await page.getByTestId('sim-trace').count(), 1, `step ${n}: one connected trace`);
      // The trace drawn is the one the headers name.
      assert.ok(
        (await page.getByTestId('sim-trace').textContent()).includes(hops[0].traceId),
        `step ${n}: the waterfall's heading names the hops' trace-id`,
      );
    }
  }
  // Every call is kept, most recent first.
  const entries = page.getByTestId('sim-call-entry');
  assert.equal(await entries.count(), 6);
  assert.match(await entries.first().textContent(), /^#6 · step 6/);
  await entries.last().click();
  await page.getByTestId('sim-result').filter({ hasText: 'Call #1 ' }).waitFor();
  await assertClean();
});

test('with propagation off the services form two unconnected traces', async () => {
  const { page, assertClean } = await openSimulate('#step=4&seed=3');
  assert.equal(await currentStep(page), '4');
  await switchInput(page, 'propagate-client').uncheck();
  await waitFor(() => page.url(), (url) => new URL(url).hash.includes('sw='), 'the URL holds the switches');
  await page.getByTestId('sim-notes').filter({ hasText: 'two unconnected traces' }).waitFor();
  await makeCall(page, 1);

  const hops = await hopContexts(page);
  assert.equal(hops[0], null, 'the client sends no traceparent');
  assert.ok(hops[1], 'bands-api still sends one to reviews-api');
  const traces = page.getByTestId('sim-trace');
  await waitFor(() => traces.count(), (n) => n === 2, 'two traces are drawn');
  for (const trace of await traces.all()) {
    await trace.getByTestId('wf-row').first().waitFor();
    assert.match(await trace.textContent(), /not connected/);
  }
  // The second trace is the services' own, the one the second hop names.
  assert.ok((await traces.nth(1).textContent()).includes(hops[1].traceId));
  await assertClean();
});

/**
 * Step 4 with the client's propagation off, one call made: the client's and
 * the services' traces, each in its waterfall with rows drawn.
 */
async function openSplitTrace() {
  const opened = await openSimulate('#step=4&seed=3');
  const { page } = opened;
  await switchInput(page, 'propagate-client').uncheck();
  await page.getByTestId('sim-notes').filter({ hasText: 'two unconnected traces' }).waitFor();
  await makeCall(page, 1);
  const traces = page.getByTestId('sim-trace');
  await waitFor(() => traces.count(), (n) => n === 2, 'two traces are drawn');
  for (const trace of await traces.all()) {
    await trace.getByTestId('wf-row').first().waitFor();
  }
  return { ...opened, traces };
}

test('a service keeps its colour in both waterfalls of a split trace and in the hop list', async () => {
  const { page, assertClean } = await openSplitTrace();
  // Every row's service, colour slot and bar colour, in both waterfalls.
  const rows = await page.getByTestId('wf-row').evaluateAll((elements) =>
    elements.map((row) => ({
      service: row.dataset.service,
      slot: row.dataset.color,
      color: getComputedStyle(row.querySelector('.wf-bar')).backgroundColor,
    })),
  );
  const byService = new Map();
  for (const row of rows) {
    const seen = byService.get(row.service);
    if (seen) {
      assert.deepEqual(row, seen, `every ${row.service} row has one colour`);
    } else {
      byService.set(row.service, row);
    }
  }
  assert.ok(byService.has('client') && byService.has('bands-api'), 'both traces are drawn');
  // bands-api heads its own trace, yet keeps its colour, not the client's.
  assert.notEqual(byService.get('bands-api').color, byService.get('client').color);
  assert.equal(byService.get('client').slot, '0');
  assert.equal(byService.get('bands-api').slot, '1');
  assert.equal(byService.get('reviews-api').slot, '2');
  // Each hop wears the colour of the service it calls, as in the waterfalls.
  const hops = await page.getByTestId('sim-hop').evaluateAll((elements) =>
    elements.map((hop) => ({
      service: hop.dataset.service,
      slot: hop.dataset.color,
      color: getComputedStyle(hop).borderLeftColor,
    })),
  );
  assert.deepEqual(
    hops.map((hop) => hop.service),
    ['bands-api', 'reviews-api'],
  );
  for (const hop of hops) {
    const row = byService.get(hop.service);
    assert.equal(hop.slot, row.slot, `the ${hop.service} hop's colour slot`);
    assert.equal(hop.color, row.color, `the ${hop.service} hop's border colour`);
  }
  // The legends say the same.
  const legend = await page.locator('.wf-legend li[data-color]').evaluateAll((items) =>
    items.map((item) => [item.textContent.replace(/\s*\d+$/, '').trim(), item.dataset.color]),
  );
  for (const [service, slot] of legend) {
    assert.equal(slot, byService.get(service)?.slot, `the legend's ${service}`);
  }
  await assertClean();
});

test('with two waterfalls on the page, ? opens the help of one only: the one last used', async () => {
  const { page, assertClean, traces } = await openSplitTrace();
  const helps = page.getByTestId('wf-help');

  // Nothing used yet: the first waterfall answers.
  await page.keyboard.press('?');
  await traces.nth(0).getByTestId('wf-help').waitFor();
  assert.equal(await helps.count(), 1, '? opens exactly one help overlay');
  await page.keyboard.press('?');
  await helps.first().waitFor({ state: 'detached' });

  // After a click in the second waterfall, the keys are its own.
  await traces.nth(1).getByTestId('wf-row').first().click();
  await page.keyboard.press('?');
  await traces.nth(1).getByTestId('wf-help').waitFor();
  assert.equal(await helps.count(), 1, 'still exactly one help overlay');
  await page.keyboard.press('Escape');
  await helps.first().waitFor({ state: 'detached' });
  await page.keyboard.press('/');
  assert.equal(
    await traces.nth(1).getByTestId('wf-filter').evaluate((el) => el === document.activeElement),
    true,
    '/ focuses the filter of the waterfall last used',
  );
  await assertClean();
});

test('a shared link reopens the same step, switches and seed, and the same trace', async () => {
  const first = await openSimulate();
  const { page } = first;
  await stepButton(page, 5).click();
  await waitFor(() => currentStep(page), (step) => step === '5', 'step 5 is current');
  await switchInput(page, 'shared-uuid').uncheck();
  await switchInput(page, 'n-reviews').fill('5');
  await page.getByTestId('sim-reset').waitFor();
  const seedBefore = await page.getByTestId('sim-seed').textContent();
  await page.getByTestId('sim-new-seed').click();
  await waitFor(
    () => page.getByTestId('sim-seed').textContent(),
    (seed) => seed !== seedBefore,
    'a new seed',
  );
  const seed = await page.getByTestId('sim-seed').textContent();
  await waitFor(
    () => page.url(),
    (url) => {
      const hash = new URL(url).hash;
      return hash.includes(`seed=${seed}`) && hash.includes('reviews-5') && !hash.includes('shared-uuid');
    },
    'the URL holds the state',
  );
  await makeCall(page, 1);
  const [hop] = await hopContexts(page);
  assert.ok(hop, 'the first hop carries a traceparent at step 5');
  assert.equal(JSON.parse(await page.getByTestId('sim-response').textContent()).reviews.length, 5);
  const link = page.url();
  const switches = await switchStates(page);
  await first.assertClean();

  const second = await openPage(browser);
  await second.page.goto(link);
  await expectText(second.page.getByTestId('page-title'), 'Simulate');
  assert.equal(await currentStep(second.page), '5');
  await expectText(second.page.getByTestId('sim-seed'), seed);
  assert.deepEqual(await switchStates(second.page), switches);
  await second.page.getByTestId('sim-reset').waitFor();
  await makeCall(second.page, 1);
  const [again] = await hopContexts(second.page);
  assert.deepEqual(again, hop, 'the same seed and switches give the same traceparent');
  await second.assertClean();
});

test('an unreadable link falls back to step 1 and says why', async () => {
  const { page, assertClean } = await openSimulate('#step=9&seed=x&sw=bogus');
  assert.equal(await currentStep(page), '1');
  await waitFor(() => page.getByTestId('sim-link-note').count(), (n) => n === 3, 'a note per bad value');
  await assertClean();
});

test('keyboard: a step is chosen with Enter, a switch with Space', async () => {
  const { page, assertClean } = await openSimulate();
  await stepButton(page, 3).focus();
  await page.keyboard.press('Enter');
  await waitFor(() => currentStep(page), (step) => step === '3', 'step 3 chosen with Enter');
  const sampled = switchInput(page, 'sampled');
  assert.equal(await sampled.isChecked(), true);
  await sampled.focus();
  await page.keyboard.press('Space');
  await waitFor(() => sampled.isChecked(), (checked) => checked === false, 'sampled off with Space');
  await makeCall(page, 1);
  const [hop] = await hopContexts(page);
  assert.equal(hop?.flags, '00', 'an unsampled trace sends flags 00');
  await assertClean();
});

test('fits a 360 px wide screen with a call shown', async () => {
  const { page, assertClean } = await openSimulate('#step=4&seed=2', { width: 360, height: 740 });
  await makeCall(page, 1);
  await page.getByTestId('wf-row').first().waitFor();
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 360, `/simulate with a call is ${scrollWidth}px wide`);
  await assertClean();
});

test('each step shows its code beside the words, monospace, scrolling within a 360 px screen', async () => {
  const { page, assertClean } = await openSimulate('', { width: 360, height: 740 });
  for (let n = 1; n <= 6; n += 1) {
    await stepButton(page, n).click();
    const detail = page.getByTestId('lesson-detail').filter({ hasText: `Step ${n} of 6` });
    await detail.waitFor();
    const excerpts = detail.getByTestId('lesson-code');
    assert.ok((await excerpts.count()) >= 1, `step ${n} shows code`);
    for (const excerpt of await excerpts.all()) {
      // The caption names a file of crates/demo; the code is a few real lines.
      assert.match(await excerpt.locator('figcaption').textContent(), /^crates\/demo\/src\/\w+\.rs · /);
      const code = await excerpt.locator('pre code').textContent();
      assert.ok(code.split('\n').length >= 3, `step ${n}: a few lines of code`);
      const style = await excerpt.locator('pre').evaluate((pre) => {
        const css = getComputedStyle(pre);
        return { font: css.fontFamily, overflowX: css.overflowX, whiteSpace: css.whiteSpace };
      });
      assert.match(style.font, /mono|Menlo|Consolas/i, `step ${n}: monospace`);
      assert.equal(style.overflowX, 'auto', `step ${n}: long lines scroll`);
      assert.equal(style.whiteSpace, 'pre', `step ${n}: indentation kept`);
    }
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= 360, `step ${n}: /simulate is ${scrollWidth}px wide`);
  }
  // Step 3's code is the client injecting its span's context.
  await stepButton(page, 3).click();
  await page.getByTestId('lesson-detail').filter({ hasText: 'Step 3 of 6' }).waitFor();
  assert.match(
    await page.getByTestId('lesson-code').first().textContent(),
    /telemetry\.inject\(&http, &mut request\.headers\)/,
  );
  await assertClean();
});

test('reviews-api failing: 500 gives bands-api a 502, a timeout a 504 and no answer on the hop', async () => {
  const { page, assertClean } = await openSimulate('#step=6&seed=4');
  await switchInput(page, 'fail-reviews').check();
  await makeCall(page, 1);
  await page.getByTestId('sim-result').filter({ hasText: 'answered 502' }).waitFor();
  assert.match(await page.getByTestId('sim-hop').nth(1).textContent(), /answered 500/);

  await switchInput(page, 'fail-kind').selectOption('timeout');
  await waitFor(() => page.url(), (url) => new URL(url).hash.includes('fail-timeout'), 'the URL holds the failure');
  await makeCall(page, 2);
  await page.getByTestId('sim-result').filter({ hasText: 'answered 504' }).waitFor();
  assert.match(await page.getByTestId('sim-hop').nth(1).textContent(), /no answer in time/);
  await page.getByTestId('wf-row').first().waitFor();
  await assertClean();
});

test('a link to another lesson state followed from the page is read again', async () => {
  const { page, assertClean } = await openSimulate('#step=2&seed=5');
  assert.equal(await currentStep(page), '2');
  // As an edited address bar or a followed link does: only the fragment changes.
  await page.evaluate(() => {
    window.location.hash = '#step=6&seed=9&sw=trace-client.sampled.reviews-2';
  });
  await waitFor(() => currentStep(page), (step) => step === '6', 'step 6 from the new fragment');
  await expectText(page.getByTestId('sim-seed'), '9');
  const states = await switchStates(page);
  assert.equal(states['trace-client'], true);
  assert.equal(states['trace-bands'], false);
  assert.equal(states['n-reviews'], '2');
  await assertClean();
});

test('the review count is held to 0…20, and an emptied field shows the count again', async () => {
  const { page, assertClean } = await openSimulate('#step=6');
  const reviews = switchInput(page, 'n-reviews');
  await reviews.fill('25');
  await waitFor(() => reviews.inputValue(), (value) => value === '20', 'held at 20');
  await reviews.fill('');
  await reviews.blur();
  await waitFor(() => reviews.inputValue(), (value) => value === '20', 'the count is shown again');
  await makeCall(page, 1);
  assert.equal(JSON.parse(await page.getByTestId('sim-response').textContent()).reviews.length, 20);
  await assertClean();
});

test('an earlier call reopens from the list, and its settings can be put back', async () => {
  const { page, assertClean } = await openSimulate('#step=3&seed=11');
  await makeCall(page, 1);
  const [firstHop] = await hopContexts(page);
  await stepButton(page, 6).click();
  await page.getByTestId('sim-new-seed').click();
  await makeCall(page, 2);
  const entries = page.getByTestId('sim-call-entry');
  assert.equal(await entries.count(), 2);
  assert.equal(await entries.first().getAttribute('aria-pressed'), 'true');
  await entries.nth(1).click();
  await page.getByTestId('sim-result').filter({ hasText: 'Call #1 ' }).waitFor();
  assert.deepEqual((await hopContexts(page))[0], firstHop, 'the first call is shown again');
  await page.getByTestId('sim-restore').click();
  await waitFor(() => currentStep(page), (step) => step === '3', 'step 3 is back');
  await expectText(page.getByTestId('sim-seed'), '11');
  await makeCall(page, 3);
  assert.deepEqual((await hopContexts(page))[0], firstHop, 'the same settings give the same trace');
  await assertClean();
});

test('a timed-out call says which hop timed out, after how long, and what made it slow', async () => {
  // Step 6 traces every service; 20 reviews with one query per review
  // take longer than bands-api waits for reviews-api.
  const { page, assertClean } = await openSimulate('#step=6&seed=3');
  await switchInput(page, 'slow-reviews').check();
  await switchInput(page, 'n-reviews').fill('20');
  await waitFor(() => page.url(), (url) => new URL(url).hash.includes('reviews-20'), 'the URL holds 20 reviews');
  await makeCall(page, 1);
  const said = page.getByTestId('sim-timeout');
  await said.first().waitFor();
  assert.equal(await said.count(), 1, 'one hop timed out');
  const text = await said.textContent();
  assert.match(text, /bands-api gave up on reviews-api after 2,000 ms/);
  assert.match(text, /reviews-api made 20 database queries/);
  assert.match(text, /N\+1/);
  // The same call without the planted problem answers in time: no such note.
  await switchInput(page, 'slow-reviews').uncheck();
  await makeCall(page, 2);
  assert.equal(await page.getByTestId('sim-timeout').count(), 0);
  await assertClean();
});

/** The page's WebAssembly memory, in bytes (every Memory in the page, found through CDP). */
async function pageWasmBytes(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const { result: proto } = await cdp.send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
    const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.objectId });
    const { result } = await cdp.send('Runtime.callFunctionOn', {
      objectId: objects.objectId,
      functionDeclaration: 'function () { return this.reduce((sum, memory) => sum + memory.buffer.byteLength, 0); }',
      returnByValue: true,
    });
    return result.value;
  } finally {
    await cdp.detach();
  }
}

/** The simulation worker's WebAssembly memory, in bytes (its wasm-bindgen init returns the exports). */
async function workerWasmBytes(page) {
  const [worker] = page.workers();
  assert.ok(worker, 'the simulation runs in a worker');
  // eslint-disable-next-line no-undef
  return worker.evaluate(async () => (await wasm_bindgen()).memory.buffer.byteLength);
}

test('memory stays flat over 300 calls, in the page and in the worker', async () => {
  // Each call was kept alive by the list of calls (a render effect per entry
  // that outlived the list): about 2.5 KB of the page's memory per call.
  const { page, assertClean } = await openSimulate('#step=6');
  const calls = async (from, to) => {
    for (let n = from; n <= to; n += 1) {
      await page.getByTestId('sim-call').click();
      await page.getByTestId('sim-result').filter({ hasText: `Call #${n} ` }).waitFor();
    }
  };
  // Warm-up: the 20 calls kept, the allocator's pools, the worker started.
  await calls(1, 100);
  const pageBefore = await pageWasmBytes(page);
  const workerBefore = await workerWasmBytes(page);
  await calls(101, 300);
  const pageGrowth = (await pageWasmBytes(page)) - pageBefore;
  const workerGrowth = (await workerWasmBytes(page)) - workerBefore;
  // Memory grows in 64 KiB pages: at most three over 200 calls (it was
  // about eight, 2.5 KB a call).
  const BOUND = 3 * 64 * 1024;
  assert.ok(pageGrowth <= BOUND, `the page's wasm memory grew ${pageGrowth} bytes over 200 calls`);
  assert.ok(workerGrowth <= BOUND, `the worker's wasm memory grew ${workerGrowth} bytes over 200 calls`);
  assert.equal(await page.getByTestId('sim-call-entry').count(), 20, 'the page keeps 20 calls');
  await assertClean();
});
