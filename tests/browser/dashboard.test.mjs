#!/usr/bin/env node
// tests/browser/dashboard.test.mjs: the operator pages in a real browser.
//
// Headless Debian Chromium (/usr/bin/chromium) driven by playwright-core (web/package.json
// devDependencies; it downloads no browser). Against a running stack at BASE_URL it:
//   1. sends some analytics traffic (each GET twice: a miss, then a hit);
//   2. opens /dashboard, waits for every Chart.js chart to hold data, checks the numbers,
//      then a burst on /api/protected-endpoint shows up in the rate-limit chart when
//      /metrics has the counter (else the chart must say "no data");
//   3. logs in as ADMIN_USERNAME / ADMIN_PASSWORD, presses Warm, waits for "Last warm" to
//      show a warm that started after the click;
//   4. checks no console error, no failed request, no 4xx/5xx, nothing fetched from another
//      origin; saves $GUILD_TEST_OUTPUT/dashboard.png (default var/test/out/);
//   5. Redis down: the page says so and keeps going. A real outage (stop/start of the cache
//      Redis through $STACK_CMD) when GUILD_BROWSER_REDIS_OUTAGE=1, as `scripts/stack test`
//      sets on its private stack; otherwise the answer of /api/cache/stats is simulated;
//   6. /docs: Swagger UI renders >= 20 operations; /redoc renders the API title.
// One line per check; exits 1 if any failed. Env: BASE_URL, ADMIN_USERNAME, ADMIN_PASSWORD
// (as in stack.env), GUILD_TEST_OUTPUT, CHROMIUM (default /usr/bin/chromium).
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(REPO, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const ORIGIN = new URL(BASE_URL).origin;
const ADMIN_USERNAME = process.env.ADMIN_USERNAME || 'admin';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const OUT = path.resolve(process.env.GUILD_TEST_OUTPUT || path.join(REPO, 'var', 'test', 'out'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 30000;

let passed = 0;
let failed = 0;
function report(ok, name, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${name}${detail ? ': ' + detail : ''}`);
}
async function check(name, fn) {
  try {
    const detail = await fn();
    report(true, name, detail);
    return true;
  } catch (e) {
    report(false, name, (e && e.message ? e.message : String(e)).split('\n')[0]);
    return false;
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// Watch a page: console errors, uncaught exceptions, failed requests, HTTP errors, and any
// request leaving this origin. /metrics may be absent (404) or refused (403) on some
// deployments: the dashboard says "no data" then, which is not an error of the page.
// `blocked` lists outside URLs a vendor bundle is known to try (ReDoc 2's footer logo):
// tolerated only if the page's Content-Security-Policy stopped them before the network.
function watch(page, blocked = []) {
  const w = { problems: [], requests: 0, active: true, pending: new Set(), stopped: [] };
  const optional = (url) => new URL(url).pathname === '/metrics';
  page.on('console', (msg) => {
    if (!w.active || msg.type() !== 'error') return;
    const loc = msg.location() && msg.location().url;
    if (loc && /^https?:/.test(loc) && optional(loc) && /status of 40[34]/.test(msg.text())) return;
    if (blocked.some((u) => msg.text().includes(u)) &&
        /violates the following Content Security Policy/.test(msg.text())) return;
    w.problems.push(`console error: ${msg.text()}${loc ? ' (' + loc + ')' : ''}`);
  });
  page.on('pageerror', (err) => { if (w.active) w.problems.push(`page error: ${err.message}`); });
  page.on('request', (req) => {
    if (!w.active) return;
    w.requests++;
    const url = req.url();
    if (/^(data|blob|about):/.test(url) || new URL(url).origin === ORIGIN) return;
    if (blocked.includes(url)) w.pending.add(url);
    else w.problems.push(`request to another origin: ${url}`);
  });
  page.on('requestfailed', (req) => {
    if (!w.active) return;
    const err = req.failure()?.errorText;
    if (w.pending.has(req.url()) && err === 'csp') {
      w.pending.delete(req.url());
      w.stopped.push(req.url());
      return;
    }
    w.problems.push(`request failed: ${req.method()} ${req.url()} ${err}`);
  });
  page.on('response', (res) => {
    if (!w.active || res.status() < 400) return;
    if (optional(res.url()) && (res.status() === 404 || res.status() === 403)) return;
    w.problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return w;
}
function clean(w, what) {
  w.active = false;
  for (const u of w.pending) w.problems.push(`request to another origin not stopped by the CSP: ${u}`);
  assert(w.problems.length === 0, w.problems.slice(0, 5).join('; '));
  return `${w.requests} requests on ${what}, none failed, no console error, all same-origin` +
    (w.stopped.length ? ` (the CSP stopped ${w.stopped.join(', ')})` : '');
}

async function get(p, headers) {
  const r = await fetch(BASE_URL + p, { headers });
  await r.arrayBuffer();
  return r;
}

// ---------------------------------------------------------------------------------------
async function main() {
  console.log(`browser tests against ${BASE_URL} with ${CHROMIUM}`);
  assert(ADMIN_PASSWORD, 'ADMIN_PASSWORD is not set (source the stack.env)');
  mkdirSync(OUT, { recursive: true });

  await check('traffic: analytics GETs, twice each', async () => {
    const paths = ['/api/analytics/users/stats', '/api/analytics/users/advanced-stats',
      '/api/analytics/missions/stats', '/api/analytics/leaderboard?limit=10',
      '/api/analytics/leaderboard?limit=25', '/api/users/1'];
    const seen = [];
    for (const p of paths) {
      for (let i = 0; i < 2; i++) {
        const r = await get(p);
        assert(r.status === 200, `GET ${p}: HTTP ${r.status}`);
        seen.push(r.headers.get('x-cache') || '-');
      }
    }
    return `${seen.length} requests, X-Cache ${[...new Set(seen)].join('/')}`;
  });

  const metrics = await fetch(BASE_URL + '/metrics').then(async (r) => (r.ok ? r.text() : ''),
    () => '');
  const hasLimitCounter = /^guild_ratelimit_decisions_total\{/m.test(metrics);

  const profile = mkdtempSync(path.join(tmpdir(), 'guild-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
      '--disable-dev-shm-usage'],
    viewport: { width: 1400, height: 1000 },
    timeout: WAIT_MS,
  });
  try {
    await dashboardChecks(context, hasLimitCounter);
    await outageChecks(context);
    await docsChecks(context);
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

async function dashboardChecks(context, hasLimitCounter) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const w = watch(page);

  const loaded = await check('/dashboard loads', async () => {
    const r = await page.goto(BASE_URL + '/dashboard', { waitUntil: 'load' });
    assert(r && r.status() === 200, `HTTP ${r && r.status()}`);
    assert(/text\/html/.test(r.headers()['content-type'] || ''), 'not text/html');
    return await page.title();
  });
  if (!loaded) return;

  await check('dashboard: charts drawn with data', async () => {
    await page.waitForFunction(() => {
      const c = (id) => window.Chart && Chart.getChart(document.getElementById(id));
      const ids = ['chart-hitrate', 'chart-entries', 'chart-latency', 'chart-memory',
        'chart-keys', 'chart-ratelimit'];
      if (!ids.every(c)) return false;
      const some = (id, pred) => c(id).data.datasets.some((ds) => ds.data.some(pred));
      const num = (v) => typeof v === 'number';
      return c('chart-hitrate').data.labels.length >= 2 && some('chart-hitrate', num) &&
        some('chart-entries', (v) => v > 0) && some('chart-latency', (v) => v > 0) &&
        some('chart-memory', (v) => v > 0) && some('chart-keys', (v) => v > 0);
    }, null, { timeout: WAIT_MS });
    const info = await page.evaluate(() => {
      const out = {};
      for (const cv of document.querySelectorAll('canvas')) {
        const ch = Chart.getChart(cv);
        // a drawn canvas has pixels that are not transparent
        const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4 * 7) if (px[i] !== 0) ink++;
        out[cv.id] = { points: ch.data.datasets.reduce((n, ds) => n + ds.data.length, 0), ink };
      }
      return out;
    });
    for (const [id, v] of Object.entries(info)) assert(v.ink > 50, `${id} looks blank`);
    return Object.entries(info).map(([id, v]) => `${id.slice(6)}=${v.points}pts`).join(' ');
  });

  await check('dashboard: current numbers', async () => {
    await page.waitForFunction(() => document.getElementById('n-version').textContent !== '—');
    const t = await page.evaluate(() => Object.fromEntries(
      ['n-status', 'n-version', 'n-hitrate', 'n-uptime', 'n-memory', 'n-keys', 'n-evicted',
        'status-pill'].map((id) => [id, document.getElementById(id).textContent.trim()])));
    assert(t['n-status'] === 'connected', `Redis status shows "${t['n-status']}"`);
    assert(/%$/.test(t['n-hitrate']), `hit rate shows "${t['n-hitrate']}"`);
    assert(t['n-evicted'] !== '—' && t['n-uptime'] !== '—', 'evicted keys / uptime blank');
    return `redis ${t['n-version']}, hit rate ${t['n-hitrate']}, memory ${t['n-memory']}, ` +
      `keys ${t['n-keys']}, pill "${t['status-pill']}"`;
  });

  await check('dashboard: rate-limited requests chart', async () => {
    if (!hasLimitCounter) {
      await page.waitForFunction(() =>
        !document.querySelector('#chart-ratelimit + .nodata').hidden, null, { timeout: 10000 });
      return 'no guild_ratelimit_decisions_total in /metrics: the chart says "no data"';
    }
    // a burst over the "protected" limit (10 per window) makes limited decisions
    const tok = await fetch(BASE_URL + '/api/auth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: ADMIN_USERNAME, password: ADMIN_PASSWORD }),
    }).then((r) => r.json());
    assert(tok.access_token, 'admin login for the burst failed');
    const codes = [];
    for (let i = 0; i < 14; i++) {
      codes.push((await get('/api/protected-endpoint',
        { Authorization: 'Bearer ' + tok.access_token })).status);
    }
    const limited = codes.filter((c) => c === 429).length;
    assert(limited > 0, `no 429 in the burst: ${codes.join(',')}`);
    await page.waitForFunction(() => Chart.getChart(document.getElementById('chart-ratelimit'))
      .data.datasets.some((ds) => ds.data.some((v) => v > 0)), null, { timeout: 10000 });
    return `${limited} of 14 requests limited; the chart shows them`;
  });

  await check('dashboard: admin login + Warm updates the last warm', async () => {
    await page.fill('#login-username', ADMIN_USERNAME);
    await page.fill('#login-password', ADMIN_PASSWORD);
    await page.click('#login-button');
    await page.waitForSelector('#admin-actions', { state: 'visible' });
    const role = (await page.textContent('#admin-role')).trim();
    assert(role === '(admin)', `signed in, but the page says ${role}`);
    const before = (await page.getAttribute('#warm-started', 'data-iso')) || '';
    await new Promise((r) => setTimeout(r, 1100));  // warm times have 1 s resolution
    const clicked = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()
      .replace(/\.\d+Z$/, 'Z');
    await page.click('#warm-button');
    await page.waitForFunction(() => /started/i.test(document.getElementById('admin-result')
      .textContent));
    await page.waitForFunction((t) => {
      const s = document.getElementById('warm-started').dataset.iso;
      const f = document.getElementById('warm-finished').dataset.iso;
      return document.getElementById('warm-status').textContent === 'done' && s >= t && f >= s;
    }, clicked, { timeout: 15000 });
    const res = (await page.textContent('#admin-result')).trim();
    const keys = (await page.textContent('#warm-keys')).trim();
    const after = await page.getAttribute('#warm-started', 'data-iso');
    return `"${res}"; last warm ${before || 'none'} -> ${after}, ${keys} entries`;
  });

  await check('dashboard: token kept in memory only', async () => {
    const leaked = await page.evaluate(() => localStorage.length + sessionStorage.length +
      document.cookie.length);
    assert(leaked === 0, 'something was written to localStorage/sessionStorage/cookies');
    return 'no localStorage, sessionStorage or cookie';
  });

  await check('dashboard: screenshot', async () => {
    await page.waitForTimeout(2500);   // one more poll, so the charts show the warm
    const file = path.join(OUT, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const size = statSync(file).size;
    assert(size > 20000, `${file} is only ${size} bytes`);
    return `${file} (${size} bytes)`;
  });

  await check('dashboard: no console errors, no failed or foreign requests', async () =>
    clean(w, '/dashboard'));
  await page.close();
}

async function outageChecks(context) {
  const real = process.env.GUILD_BROWSER_REDIS_OUTAGE === '1' && !!process.env.STACK_CMD;
  const sh = (cmd) => execSync(`${process.env.STACK_CMD} ${cmd}`, { stdio: 'pipe' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const how = real ? 'cache Redis stopped' : 'simulated answer';
  await check(`dashboard: Redis down shown gracefully (${how})`, async () => {
    if (real) {
      sh('stop redis-cache');
    } else {
      await page.route('**/api/cache/stats', (route) => route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ status: 'unavailable', message: 'Redis not connected', hits: 0,
          misses: 0, bypasses: 0, hit_rate: 0, miss_rate: 0, endpoints: [], last_warm: null }),
      }));
    }
    try {
      await page.goto(BASE_URL + '/dashboard', { waitUntil: 'load' });
      await page.waitForFunction(() => /unavailable/.test(
        document.getElementById('status-pill').textContent) &&
        !document.getElementById('banner').hidden &&
        Number(document.body.dataset.polls || 0) >= 3, null, { timeout: 20000 });
      const t = await page.evaluate(() => ({
        pill: document.getElementById('status-pill').textContent,
        redis: document.getElementById('n-status').textContent,
        hitrate: document.getElementById('n-hitrate').textContent,
        banner: document.getElementById('banner').textContent,
      }));
      assert(t.redis === 'unavailable', `Redis card shows "${t.redis}"`);
      assert(t.hitrate === '—', `hit rate shows "${t.hitrate}" without Redis`);
      assert(errors.length === 0, `page error: ${errors[0]}`);
      await page.screenshot({ path: path.join(OUT, 'dashboard-redis-down.png'), fullPage: true });
      return `pill "${t.pill}", banner "${t.banner.slice(0, 60)}…", no page error`;
    } finally {
      if (real) {
        sh('start redis-cache');
        const deadline = Date.now() + 15000;
        for (;;) {
          const st = await fetch(BASE_URL + '/api/cache/stats').then((r) => r.json(), () => ({}));
          if (st.status === 'connected') break;
          if (Date.now() > deadline) throw new Error('the cache Redis did not come back');
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    }
  });
  await page.close();
}

async function docsChecks(context) {
  const spec = await fetch(BASE_URL + '/openapi.json');
  let title = null;
  await check('/openapi.json served as application/json', async () => {
    assert(spec.status === 200, `HTTP ${spec.status}`);
    const type = spec.headers.get('content-type') || '';
    assert(/^application\/json/.test(type), `Content-Type ${type}`);
    const doc = await spec.json();
    title = doc.info && doc.info.title;
    assert(title, 'no info.title');
    return `"${title}", OpenAPI ${doc.openapi}, ${Object.keys(doc.paths || {}).length} paths`;
  });

  let page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  let w = watch(page);
  await check('/docs: Swagger UI renders the operations', async () => {
    const r = await page.goto(BASE_URL + '/docs', { waitUntil: 'load' });
    assert(r && r.status() === 200, `HTTP ${r && r.status()}`);
    await page.waitForFunction(() => document.querySelectorAll('.opblock').length >= 20, null,
      { timeout: WAIT_MS });
    const n = await page.locator('.opblock').count();
    await page.screenshot({ path: path.join(OUT, 'docs.png') });
    return `${n} operations`;
  });
  await check('/docs: no console errors, no failed or foreign requests', async () => clean(w, '/docs'));
  await page.close();

  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  w = watch(page, ['https://cdn.redoc.ly/redoc/logo-mini.svg']);
  await check('/redoc: ReDoc renders the API', async () => {
    const r = await page.goto(BASE_URL + '/redoc', { waitUntil: 'load' });
    assert(r && r.status() === 200, `HTTP ${r && r.status()}`);
    await page.waitForFunction((t) => [...document.querySelectorAll('h1')]
      .some((h) => t && h.textContent.includes(t)), title, { timeout: WAIT_MS });
    const ops = await page.locator('[data-section-id^="operation/"], [id^="operation/"]').count();
    assert(ops >= 20, `only ${ops} operations rendered`);
    await page.screenshot({ path: path.join(OUT, 'redoc.png') });
    return `title "${title}", ${ops} operations`;
  });
  await check('/redoc: no console errors, no failed or foreign requests', async () => clean(w, '/redoc'));
  await page.close();
}

try {
  await main();
} catch (e) {
  report(false, 'browser test harness', e && e.message ? e.message.split('\n')[0] : String(e));
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
