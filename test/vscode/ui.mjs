// UI tests: a person's view of the installed extension in a real VS Code (code-server) driven by Chromium.
// Each test leaves a screenshot in test-artifacts/vscode/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACTS, TESTBED } from './harness.mjs';

const WEBVIEW = (page) => page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');

async function palette(page, title) {
  // A freshly started workbench may not list extension commands yet: retry.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 5_000 });
      await input.press('Enter');
      return;
    } catch (err) {
      await page.keyboard.press('Escape');
      if (attempt >= 4) throw new Error(`The command palette does not offer "${title}": ${err.message}`);
    }
  }
}

/** Picks a quick-pick entry by typing its text. */
async function quickPick(page, text) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(text);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first().waitFor({ state: 'visible', timeout: 5_000 });
  await input.press('Enter');
}

function viewPane(page, title) {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
}

function welcomeButton(page, view, text) {
  return viewPane(page, view).locator('.welcome-view-content a.monaco-button', { hasText: text });
}

/** Ticks or unticks one item of the multi-select quick pick titled `title`. */
async function toggleQuickPickItem(page, title, label) {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 20_000 });
  await widget.locator(`.monaco-list-row .monaco-checkbox[aria-label="${label}"]`).click();
}

/** Accepts the quick input titled `title`: checks that exactly `checked` are ticked (multi-select), or types `value`. */
async function acceptQuickInput(page, title, checked, value) {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 20_000 });
  if (checked) {
    await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 5_000 });
    const ticked = await widget.locator('.monaco-list-row[aria-checked=true] .monaco-checkbox').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('aria-label')));
    if (ticked.join(',') !== checked.join(',')) throw new Error(`${title}: ticked ${ticked.join(', ') || 'nothing'}, expected ${checked.join(', ') || 'nothing'}`);
  }
  const input = widget.locator('.quick-input-box input');
  if (value !== undefined) await input.fill(value);
  await input.press('Enter');
}

async function treeLabels(page, title) {
  return viewPane(page, title).locator('div.monaco-list-row[role=treeitem] .label-name').allInnerTexts();
}

async function waitForLabels(page, title, wanted, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const labels = await treeLabels(page, title);
    if (wanted.every((w) => labels.includes(w))) return labels;
    if (Date.now() > deadline) throw new Error(`The ${title} view shows [${labels.join(', ')}], not all of [${wanted.join(', ')}]`);
    await page.waitForTimeout(200);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

/** Canvas descriptions (title and legend) in the visible results panel, once its charts have drawn. */
async function chartDescriptions(page, min) {
  const frame = WEBVIEW(page);
  // Charts further down are drawn as they scroll near: scroll down to them, as a reader would, then go back up.
  await frame.locator('#headlines').waitFor({ state: 'attached', timeout: 30_000 });
  await frame.locator('#headlines').evaluate((e) => e.scrollIntoView());
  await frame.locator('canvas[aria-label*="Legend:"]').nth(min - 1).waitFor({ state: 'attached', timeout: 30_000 });
  await frame.locator('body').evaluate(() => window.scrollTo(0, 0));
  return frame.locator('canvas').evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')));
}

export const uiTests = [
  ['the activity bar opens the HyperShield sidebar, with a welcome view while the testbed is down', async ({ page }) => {
    await page.locator('.activitybar .action-item a[aria-label^="HyperShield"]').click();
    await page.locator('[id="workbench.view.extension.hypershield"]').waitFor({ state: 'visible', timeout: 20_000 });
    await welcomeButton(page, 'Testbed', 'Bring Testbed Up').waitFor({ state: 'visible', timeout: 20_000 });
    await viewPane(page, 'Testbed').locator('.welcome-view-content', { hasText: 'described in hypershield.testbed.json is down' }).waitFor({ state: 'visible', timeout: 10_000 });
    await viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem]').first().waitFor({ state: 'visible', timeout: 10_000 });
    await shot(page, '01-welcome-testbed-down.png');
  }],

  ['"Bring Testbed Up" from the palette fills the Testbed tree', async ({ page }) => {
    await palette(page, 'HyperShield: Bring Testbed Up');
    const labels = await waitForLabels(page, 'Testbed', [TESTBED, 'mode', 'client', 'model', 'server']);
    if (!labels.includes('addresses')) throw new Error(`the model host's facts are not shown: ${labels.join(', ')}`);
    await page.locator('.statusbar-item', { hasText: `${TESTBED}: up` }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await shot(page, '02-testbed-up.png');
  }],

  ['the Runs view lists the runs, newest first, with headline figures', async ({ page }) => {
    const rows = viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem]');
    await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
    const descriptions = await viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem] .label-description').allInnerTexts();
    // A none+user run sums up with the user model's overhead, not the "none" figure.
    if (descriptions.length < 3 || !/^iperf3 user: direct [\d.]+ · model [\d.]+ Gbit\/s \([+-][\d.]+ %\)$/.test(descriptions[0])) {
      throw new Error(`unexpected Runs view: ${descriptions.join(' | ')}`);
    }
    await page.locator('.statusbar-item', { hasText: 'iperf3 user: direct' }).first().waitFor({ state: 'visible', timeout: 10_000 });
  }],

  ['"Open Results" draws the charts of the newest run', async ({ page }) => {
    await palette(page, 'HyperShield: Open Results');
    const labels = await chartDescriptions(page, 4);
    if (!labels.some((l) => /^Model path vs direct.*Legend: none, user/.test(l))) throw new Error(`no overhead chart: ${labels.join(' | ')}`);
    if (!labels.some((l) => /^iperf3: throughput.*Legend: Repetitions, Median, Interquartile range/.test(l))) throw new Error(`no throughput spread chart: ${labels.join(' | ')}`);
    if (!labels.some((l) => /^ping: rttAvg/.test(l))) throw new Error(`no latency chart: ${labels.join(' | ')}`);
    if (!labels.some((l) => /per-interval/.test(l))) throw new Error(`no per-interval series: ${labels.join(' | ')}`);
    const toolbar = await WEBVIEW(page).locator('vscode-button').allInnerTexts();
    if (!toolbar.includes('Export CSV')) throw new Error(`toolbar buttons: ${toolbar.join(', ')}`);
    await shot(page, '03-results-panel.png');
  }],

  ['the results panel has a table of the numbers: median, IQR, n and overhead with its interval, rounded, with units', async ({ page }) => {
    const frame = WEBVIEW(page);
    const table = frame.locator('#detail-host table.hs-numbers').first();
    await table.waitFor({ state: 'visible', timeout: 10_000 });
    const head = await table.locator('th').allInnerTexts();
    for (const h of ['Metric', 'Placement', 'Mode', 'Median', 'IQR (Q1 – Q3)', 'n', 'Overhead vs direct [95 % CI]']) if (!head.includes(h)) throw new Error(`table head: ${head.join(' | ')}`);
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // iperf3 of synthetic-b: throughput and retransmits x none/user x direct/model.
    if (rows.length !== 8) throw new Error(`${rows.length} rows: ${JSON.stringify(rows)}`);
    const user = rows.find((r) => r[0].startsWith('throughput') && r[1] === 'user' && r[2] === 'model');
    const none = rows.find((r) => r[0].startsWith('throughput') && r[1] === 'none' && r[2] === 'model');
    if (!user || !/^[\d.]+ Gbit\/s$/.test(user[3]) || !/^[\d.]+ Gbit\/s \([\d.]+ – [\d.]+\)$/.test(user[4]) || user[5] !== '6') throw new Error(`user row: ${JSON.stringify(user)}`);
    if (!/^\+[\d.]+ % \[\+[\d.]+, \+[\d.]+ %\]$/.test(user[6])) throw new Error(`user overhead: ${user[6]}`);
    if (!/no detectable difference$/.test(none?.[6] ?? '')) throw new Error(`none overhead: ${none?.[6]}`);
    const unrounded = rows.flat().filter((c) => /\d\.\d{4,}/.test(c));
    if (unrounded.length) throw new Error(`unrounded values: ${unrounded.join(', ')}`);
    await table.scrollIntoViewIfNeeded();
    await shot(page, '03b-numbers-table.png');
  }],

  ['the Benchmark and Metric selectors change what is in view', async ({ page }) => {
    const frame = WEBVIEW(page);
    const inView = (locator) => locator.evaluate((e) => {
      const r = e.getBoundingClientRect();
      return r.top >= 0 && r.top < window.innerHeight && r.height > 0;
    });
    const choose = async (id, value) => {
      // A person who scrolled down to the metadata picks from the toolbar, which stays at the top.
      await frame.locator('#metadata').evaluate((e) => e.scrollIntoView());
      if (!(await inView(frame.locator('.hs-toolbar')))) throw new Error('the toolbar scrolled out of view');
      await frame.locator(`#${id}`).evaluate((select, v) => {
        select.value = v;
        select.dispatchEvent(new Event('change'));
      }, value);
    };
    await choose('benchmark', 'ping');
    const pingHeading = frame.locator('#detail-host h2', { hasText: 'ping in detail' });
    await pingHeading.waitFor({ state: 'visible', timeout: 10_000 });
    if (!(await inView(pingHeading))) throw new Error('choosing the ping benchmark did not bring its section into view');
    const pingRows = await frame.locator('#detail-host table.hs-numbers tbody tr td:first-child').allInnerTexts();
    if (!pingRows.some((t) => t.startsWith('rttAvg'))) throw new Error(`ping numbers: ${pingRows.join(', ')}`);
    await shot(page, '03c-selector-benchmark.png');
    await choose('benchmark', 'iperf3');
    await choose('metric', 'retransmits');
    const chart = frame.locator('canvas[aria-label^="iperf3: retransmits"]');
    await chart.waitFor({ state: 'attached', timeout: 10_000 });
    if (!(await inView(frame.locator('#detail-host h2', { hasText: 'iperf3 in detail' })))) throw new Error('choosing a metric did not bring its section into view');
    const selected = await frame.locator('#detail-host table.hs-numbers tr.hs-selected td:first-child').allInnerTexts();
    if (!selected.length || !selected.every((t) => t.startsWith('retransmits'))) throw new Error(`marked rows: ${selected.join(', ')}`);
    await shot(page, '03d-selector-metric.png');
  }],

  ['"Save image" on a chart writes a PNG through the save dialog', async ({ page, workspace }) => {
    const target = path.join(workspace, 'synthetic-b-overhead.png');
    await WEBVIEW(page).locator('figure[data-chart="overhead"] vscode-button', { hasText: 'Save image' }).click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    // The simple file dialog fills in its default path asynchronously and may overwrite what was typed: type
    // until the value sticks, and press Enter again while the dialog is still open.
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(target) && Date.now() < deadline) {
      if (await input.isVisible()) {
        await input.fill(target);
        await page.waitForTimeout(300);
        if ((await input.inputValue()) === target) await input.press('Enter');
      }
      for (let i = 0; i < 20 && !fs.existsSync(target); i++) await page.waitForTimeout(100);
    }
    const head = fs.existsSync(target) ? fs.readFileSync(target).subarray(0, 8).toString('hex') : 'missing';
    if (head !== '89504e470d0a1a0a') throw new Error(`${target}: expected a PNG, found ${head}`);
  }],

  ['choosing another metric redraws the detail and survives closing and reopening the panel', async ({ page }) => {
    const frame = WEBVIEW(page);
    await frame.locator('#metric').evaluate((select) => {
      select.value = 'retransmits';
      select.dispatchEvent(new Event('change'));
    });
    await frame.locator('canvas[aria-label^="iperf3: retransmits"]').waitFor({ state: 'attached', timeout: 10_000 });
    await palette(page, 'View: Close All Editors');
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'detached', timeout: 10_000 });
    await palette(page, 'HyperShield: Open Results');
    await WEBVIEW(page).locator('canvas[aria-label^="iperf3: retransmits"]').waitFor({ state: 'attached', timeout: 20_000 });
  }],

  ['"Compare Two Runs" shows both runs side by side', async ({ page }) => {
    await palette(page, 'HyperShield: Compare Two Runs');
    await quickPick(page, 'synthetic-a');
    await quickPick(page, 'synthetic-b');
    const frame = WEBVIEW(page);
    await frame.locator('h1', { hasText: 'compared with' }).waitFor({ state: 'visible', timeout: 20_000 });
    const labels = await chartDescriptions(page, 3);
    if (!labels.some((l) => /Legend: A · none/.test(l))) throw new Error(`no A/B overhead chart: ${labels.join(' | ')}`);
    const rows = await frame.locator('#overview table tbody tr').count();
    if (rows < 4) throw new Error(`compare table has ${rows} rows`);
    await shot(page, '04-compare-runs.png');
  }],

  ['"Compare Two Runs" of runs with different placements says why nothing pairs up, labels A and B, flags the plan differences', async ({ page }) => {
    await palette(page, 'HyperShield: Compare Two Runs');
    await quickPick(page, 'synthetic-a');
    // The picker shows local times, as the Runs view does.
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill('synthetic-c');
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'synthetic-c' }).first();
    await row.waitFor({ state: 'visible', timeout: 5_000 });
    const rowText = await row.innerText();
    const local = new Date('2026-11-19T10:00:00Z').toLocaleString();
    if (!rowText.includes(local) || rowText.includes('T10:00')) throw new Error(`picker row: ${rowText} (expected the local time ${local})`);
    await shot(page, '04b-compare-picker.png');
    await input.press('Enter');
    const frame = WEBVIEW(page);
    await frame.locator('h1', { hasText: 'synthetic-a (A) compared with synthetic-c (B)' }).waitFor({ state: 'visible', timeout: 20_000 });
    const why = await frame.locator('#no-pairs').innerText();
    if (!why.includes('same benchmark, mode and placement') || !why.includes('A measured direct · none, direct · user, model · none, model · user; B measured direct · ebpf, model · ebpf')) throw new Error(`explanation: ${why}`);
    const plan = await frame.locator('#plan-differences').innerText();
    if (!plan.includes('6 × 10 s (A) vs 2 × 2 s (B)') || !plan.includes('placements: none, user (A) vs ebpf (B)')) throw new Error(`plan differences: ${plan}`);
    await shot(page, '04c-compare-different-placements.png');
    // B measured 2 rounds: its overheads carry no interval or verdict, and say why.
    const numbersB = await frame.locator('table.hs-numbers').last().innerText();
    if (!numbersB.includes('too few rounds (n=2, need 6 paired)') || numbersB.includes('detectable')) throw new Error(`numbers of B: ${numbersB}`);
    const captions = await frame.locator('#metadata h3').allInnerTexts();
    if (captions.join(' | ') !== 'A: run synthetic-a | B: run synthetic-c') throw new Error(`metadata captions: ${captions.join(' | ')}`);
    const differs = await frame.locator('#metadata .hs-metadata-a td.hs-differs').allInnerTexts();
    if (!differs.some((t) => t.includes('2 repetitions') || t.includes('6 repetitions'))) throw new Error(`plan not marked as differing: ${differs.join(' | ')}`);
    await frame.locator('#metadata').evaluate((e) => e.scrollIntoView());
    await shot(page, '04d-compare-metadata.png');
  }],

  ['a hot line of a profiled run opens the model source at that line beside the results panel', async ({ page }) => {
    await palette(page, 'View: Close All Editors');
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'detached', timeout: 10_000 });
    await viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem]', { hasText: new Date('2026-11-18T10:00:00Z').toLocaleString() }).first().click();
    const frame = WEBVIEW(page);
    await frame.locator('h1', { hasText: 'Run hot-profile' }).waitFor({ state: 'visible', timeout: 20_000 });
    const link = frame.locator('#hot-functions button.hs-hot-line', { hasText: 'src/filter.c:42' });
    await link.scrollIntoViewIfNeeded({ timeout: 10_000 });
    const cells = await frame.locator('#hot-functions tbody tr').first().locator('td').allInnerTexts();
    if (cells[0] !== 'match_payload' || cells[1] !== '60.0 %' || cells[3] !== 'src/filter.c:42') throw new Error(`hottest function row: ${cells.join(' | ')}`);
    if (await frame.locator('#hot-functions tbody tr', { hasText: 'memcpy' }).locator('button').count()) throw new Error('a function without a source line is a link');
    await link.click();
    await page.locator('.tabs-container .tab', { hasText: 'filter.c' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await page.locator('.statusbar-item', { hasText: 'Ln 42, Col 1' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    // Beside the panel: the panel stays in view in its own group.
    const groups = await page.locator('.editor-group-container').count();
    if (groups < 2) throw new Error(`the source opened over the panel (${groups} editor group)`);
    await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ state: 'visible', timeout: 5_000 });
    // The editor marks the hot line with its share of the model's samples (text VS Code draws as CSS content).
    const marked = () => page.locator('.view-lines span').evaluateAll((spans) => spans.some((s) => ['::after', '::before'].some((p) => getComputedStyle(s, p).content.includes('60.0 % of model samples'))));
    for (const deadline = Date.now() + 10_000; !(await marked());) {
      if (Date.now() > deadline) throw new Error('the editor does not mark line 42 with "60.0 % of model samples"');
      await page.waitForTimeout(250);
    }
    await shot(page, '04e-hot-line-opened.png');
  }],

  ['an A/B run of hypervisor builds shows each arm\'s rows and B vs A per metric with "too few rounds" for 2 rounds', async ({ page }) => {
    await palette(page, 'View: Close All Editors');
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'detached', timeout: 10_000 });
    await viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem]', { hasText: new Date('2026-11-17T10:00:00Z').toLocaleString() }).first().click();
    const frame = WEBVIEW(page);
    await frame.locator('h1', { hasText: 'Run ab-arms' }).waitFor({ state: 'visible', timeout: 20_000 });
    const numbers = frame.locator('#detail-host table.hs-numbers').first();
    const head = await numbers.locator('th').allInnerTexts();
    if (head[1] !== 'Arm') throw new Error(`numbers table head: ${head.join(' | ')}`);
    const arms = await numbers.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[1].textContent));
    if (!arms.includes('A') || !arms.includes('B')) throw new Error(`arms in the numbers table: ${arms.join(', ')}`);
    const ab = frame.locator('#ab-comparison table');
    await ab.scrollIntoViewIfNeeded({ timeout: 10_000 });
    const rows = await ab.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const tp = rows.find((r) => r[0] === 'iperf3' && r[1] === 'model' && r[3].startsWith('throughput'));
    if (!tp || tp[4] !== 'B vs A' || !/^-[\d.]+ %, too few rounds \(n=2, need 6 paired\)$/.test(tp[5])) throw new Error(`B vs A rows: ${JSON.stringify(rows)}`);
    if (rows.some((r) => r[3].startsWith('perf.'))) throw new Error('perf counters in the A/B table');
    await shot(page, '04f-ab-run.png');
  }],

  ['"Run Benchmarks" asks for the plan step by step, runs it as a task and shows the new run', async ({ page }) => {
    await palette(page, 'HyperShield: Run Benchmarks');
    await toggleQuickPickItem(page, 'Run Benchmarks (1/4)', 'iperf3');
    await acceptQuickInput(page, 'Run Benchmarks (1/4)', ['ping']);
    await acceptQuickInput(page, 'Run Benchmarks (2/4)', ['direct', 'model']);
    await acceptQuickInput(page, 'Run Benchmarks (3/4)', []);
    await acceptQuickInput(page, 'Run Benchmarks (4/4)', undefined, '2');
    // 2 repetitions x 2 modes x 1 s of ping, then the new run heads the Runs view and the panel shows it alone.
    const first = viewPane(page, 'Runs').locator('div.monaco-list-row[role=treeitem] .label-description').first();
    const ping = /^ping none: direct [\d.]+ · model [\d.]+ ms/;
    let headline = '';
    for (const deadline = Date.now() + 60_000; !ping.test(headline) && Date.now() < deadline; await page.waitForTimeout(250)) {
      headline = await first.innerText().catch(() => '');
    }
    if (!ping.test(headline)) throw new Error(`the new run is not first in the Runs view: ${headline}`);
    const frame = WEBVIEW(page);
    await frame.locator('#headlines').waitFor({ state: 'attached', timeout: 20_000 });
    await frame.locator('#headlines').evaluate((e) => e.scrollIntoView());
    await frame.locator('canvas[aria-label^="ping: rttAvg"]').waitFor({ state: 'attached', timeout: 20_000 });
    await frame.locator('body').evaluate(() => window.scrollTo(0, 0));
    await frame.locator('canvas[aria-label^="iperf3"]').first().waitFor({ state: 'detached', timeout: 20_000 });
    await shot(page, '05-bench-run.png');
  }],

  ['a broken testbed file while the testbed is up: the testbed stays in view and "Bring Testbed Down" works from its state', async ({ page, workspace }) => {
    const file = path.join(workspace, 'hypershield.testbed.json');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, original.replace('"mode": "model"', '"mode": "fast"'));
      // The running testbed stays, with a row that names the file's problem.
      await waitForLabels(page, 'Testbed', [TESTBED, 'hypershield.testbed.json', 'client', 'model', 'server']);
      await page.locator('.statusbar-item', { hasText: 'testbed file has errors' }).first().waitFor({ state: 'visible', timeout: 10_000 });
      await shot(page, '07-broken-file-while-up.png');
      await palette(page, 'HyperShield: Bring Testbed Down');
      await page.locator('.notifications-toasts .notification-toast', { hasText: `Testbed ${TESTBED} is down (from its recorded state)` }).waitFor({ state: 'visible', timeout: 30_000 });
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      if (left.includes(`hs-${TESTBED}-`)) throw new Error(`namespaces left: ${left}`);
      await viewPane(page, 'Testbed').locator('.welcome-view-content', { hasText: 'hypershield.testbed.json has errors' }).waitFor({ state: 'visible', timeout: 20_000 });
      // Up is refused with the user's file and its problem: not the extension's schema, never "delete it".
      await palette(page, 'HyperShield: Bring Testbed Up');
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'is not a valid testbed description' });
      await toast.waitFor({ state: 'visible', timeout: 20_000 });
      const message = await toast.innerText();
      if (!message.includes(file) || !/line \d+, column \d+: \/mode/.test(message) || /schema|delete/i.test(message)) throw new Error(`message: ${message}`);
      if (!(await toast.locator('a.monaco-button', { hasText: 'Show Problems' }).count())) throw new Error(`no "Show Problems" on: ${message}`);
      await shot(page, '08-broken-file-up-refused.png');
    } finally {
      fs.writeFileSync(file, original);
    }
    await viewPane(page, 'Testbed').locator('.welcome-view-content', { hasText: 'described in hypershield.testbed.json is down' }).waitFor({ state: 'visible', timeout: 20_000 });
    await welcomeButton(page, 'Testbed', 'Bring Testbed Up').waitFor({ state: 'visible', timeout: 10_000 });
    await shot(page, '09-testbed-down.png');
  }],
];
