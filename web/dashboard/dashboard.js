/* Guild API cache dashboard (served at /dashboard by nginx; plain JS, no build step).
 *
 * Every 2 s it reads GET /api/cache/stats (and GET /api/cache/warm, see WARM_IDLE_EVERY) and
 * GET /metrics (Prometheus text; nginx lets only loopback reach it, so elsewhere the
 * rate-limit chart says "no data"), then redraws the Chart.js charts and the numbers.
 * An admin can log in: the token lives in the `token` variable below and nowhere else (no
 * localStorage, no cookie), so a reload logs out.
 *
 * Budget: anonymous /api/ calls count against the client's address in the "api" rate-limit
 * policy (100 per 60 s by default), so the page spends about 36 of them a minute: the stats
 * every 2 s, the warm job every 10 s, or every 2 s while a warm runs. A 429 backs off for
 * the Retry-After it names. /metrics is not under /api/ and costs nothing.
 */
(function () {
  'use strict';

  const POLL_MS = 2000;
  const WARM_IDLE_EVERY = 5;      // polls between two GET /api/cache/warm when idle
  const HISTORY = 150;            // points kept on the time charts (5 min at 2 s)
  const METRICS_RETRY_MS = 30000; // after /metrics failed (absent, forbidden), try again later
  const COLORS = {
    blue: '#2563eb', green: '#16a34a', orange: '#ea580c', red: '#dc2626',
    purple: '#7c3aed', teal: '#0d9488', grey: '#94a3b8',
  };

  let token = null;               // the admin's bearer token: memory only
  let pollCount = 0;
  let warmFastUntil = 0;          // poll the warm job every 2 s until then
  let backoffUntil = 0;
  let metricsRetryAt = 0;
  let prev = null;                // previous stats sample, for per-interval rates
  let prevLimited = null;         // previous rate-limit counters by policy

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ formatting

  const nf = new Intl.NumberFormat('en-US');
  function fmtInt(v) { return typeof v === 'number' ? nf.format(v) : '—'; }
  function fmtPct(v) { return typeof v === 'number' ? v.toFixed(1) + ' %' : '—'; }
  function fmtMs(v) { return typeof v === 'number' ? v.toFixed(v < 10 ? 2 : 1) + ' ms' : '—'; }
  function fmtBytes(v) {
    if (typeof v !== 'number') return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(i ? 2 : 0) + ' ' + units[i];
  }
  function fmtDuration(s) {
    if (typeof s !== 'number') return '—';
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    const m = Math.floor(s % 3600 / 60), sec = Math.floor(s % 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + sec + 's';
    return sec + 's';
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    const t = new Date(iso);
    if (isNaN(t)) return String(iso);
    return t.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
  }
  function clock() { return new Date().toLocaleTimeString('en-GB', { hour12: false }); }

  function setText(id, text, cls) {
    const el = $(id);
    el.textContent = text;
    if (cls !== undefined) el.className = 'value ' + cls;
  }

  // ------------------------------------------------------------------ HTTP

  // fetchJSON: {status, body (parsed or null), headers}; throws only on network failure.
  async function fetchJSON(url, opts) {
    const r = await fetch(url, Object.assign({ cache: 'no-store' }, opts || {}));
    let body = null;
    const text = await r.text();
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = null; }
    }
    if (r.status === 429) {
      const after = parseInt(r.headers.get('Retry-After') || '5', 10);
      backoffUntil = Date.now() + Math.min(Math.max(after, 1), 120) * 1000;
    }
    return { status: r.status, body, headers: r.headers };
  }

  function detailOf(res) {
    if (res.body && typeof res.body.detail === 'string') return res.body.detail;
    if (res.body && typeof res.body.message === 'string') return res.body.message;
    return 'HTTP ' + res.status;
  }

  // Sum of guild_ratelimit_decisions_total{decision="limited"} by policy, or null if absent.
  function parseLimited(text) {
    const out = {};
    let found = false;
    const re = /^guild_ratelimit_decisions_total\{([^}]*)\}\s+([0-9.eE+-]+)/gm;
    let m;
    while ((m = re.exec(text)) !== null) {
      const labels = {};
      m[1].replace(/(\w+)="((?:[^"\\]|\\.)*)"/g, (_, k, v) => { labels[k] = v; return ''; });
      if (labels.decision !== 'limited') continue;
      const policy = labels.policy || 'all';
      out[policy] = (out[policy] || 0) + Number(m[2]);
      found = true;
    }
    return found ? out : null;
  }

  async function fetchMetrics() {
    if (Date.now() < metricsRetryAt) return null;
    try {
      const r = await fetch('/metrics', { cache: 'no-store' });
      if (!r.ok) { metricsRetryAt = Date.now() + METRICS_RETRY_MS; return null; }
      return parseLimited(await r.text());
    } catch (e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ charts

  let charts = null;

  function baseOptions(yTitle, extra) {
    return Object.assign({
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 }, grid: { display: false } },
        y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } },
      },
    }, extra || {});
  }

  // bar charts over the cache entries: every name shown, slanted if need be
  function barOptions(yTitle) {
    const o = baseOptions(yTitle);
    o.scales.x.ticks = { autoSkip: false, maxRotation: 35 };
    return o;
  }

  function line(label, color, extra) {
    return Object.assign({
      label, data: [], borderColor: color, backgroundColor: color + '22',
      borderWidth: 2, pointRadius: 0, tension: 0.25, spanGaps: false,
    }, extra || {});
  }

  function bar(label, color) {
    return { label, data: [], backgroundColor: color, borderRadius: 3, maxBarThickness: 28 };
  }

  function makeCharts() {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = '#4b5563';
    const mk = (id, config) => new Chart($(id), config);
    const hitOpts = baseOptions('%');
    hitOpts.scales.y.max = 100;
    const latOpts = barOptions('ms');
    latOpts.plugins.tooltip = {
      callbacks: {
        footer(items) {
          const i = items[0].dataIndex, ds = items[0].chart.data.datasets;
          const hit = ds[0].data[i], miss = ds[1].data[i];
          return hit > 0 && miss > 0 ? (miss / hit).toFixed(1) + '× faster from the cache' : '';
        },
      },
    };
    return {
      hitrate: mk('chart-hitrate', {
        type: 'line',
        data: { labels: [], datasets: [
          line('since start / reset', COLORS.blue, { fill: true }),
          line('last 2 s', COLORS.orange, { borderDash: [4, 3], pointRadius: 2 }),
        ] },
        options: hitOpts,
      }),
      entries: mk('chart-entries', {
        type: 'bar',
        data: { labels: [], datasets: [
          bar('hits', COLORS.green), bar('misses', COLORS.red), bar('bypasses', COLORS.grey),
        ] },
        options: barOptions('lookups'),
      }),
      latency: mk('chart-latency', {
        type: 'bar',
        data: { labels: [], datasets: [
          bar('hit (cache)', COLORS.green), bar('miss (database)', COLORS.orange),
        ] },
        options: latOpts,
      }),
      memory: mk('chart-memory', {
        type: 'line',
        data: { labels: [], datasets: [line('used memory', COLORS.purple, { fill: true })] },
        options: baseOptions('MiB'),
      }),
      keys: mk('chart-keys', {
        type: 'line',
        data: { labels: [], datasets: [
          line('all keys', COLORS.teal), line('cache entries', COLORS.blue),
        ] },
        options: baseOptions('keys'),
      }),
      ratelimit: mk('chart-ratelimit', {
        type: 'line',
        data: { labels: [], datasets: [] },
        options: baseOptions('requests', { plugins: { legend: { position: 'bottom' } } }),
      }),
    };
  }

  function showNoData(chart, show) {
    chart.canvas.parentNode.querySelector('.nodata').hidden = !show;
  }

  // Append one point to every dataset of a time chart (values in dataset order).
  function pushPoint(chart, label, values) {
    const d = chart.data;
    d.labels.push(label);
    values.forEach((v, i) => d.datasets[i].data.push(v));
    if (d.labels.length > HISTORY) {
      d.labels.shift();
      d.datasets.forEach((ds) => ds.data.shift());
    }
  }

  function hasValue(chart) {
    return chart.data.datasets.some((ds) => ds.data.some((v) => v !== null && v !== undefined));
  }

  // ------------------------------------------------------------------ rendering

  function renderStatus(kind, text, banner) {
    const pill = $('status-pill');
    pill.className = 'pill pill-' + kind;
    pill.textContent = text;
    const b = $('banner');
    b.hidden = !banner;
    b.textContent = banner || '';
    b.className = kind === 'bad' ? 'banner bad' : 'banner';
  }

  function renderNumbers(s) {
    const up = s.status === 'connected';
    setText('n-status', up ? 'connected' : (s.status || 'unknown'), up ? 'ok' : 'bad');
    setText('n-version', s.redis_version || '—');
    // the pool-wide counters live in Redis: without it they read 0, which would mislead
    setText('n-hitrate', up ? fmtPct(s.hit_rate) : '—');
    $('n-lookups').textContent = up && typeof s.hits === 'number'
      ? fmtInt(s.hits) + ' hits · ' + fmtInt(s.misses) + ' misses' +
        (s.bypasses ? ' · ' + fmtInt(s.bypasses) + ' bypassed' : '')
      : (up ? '' : 'counters are kept in Redis');
    setText('n-uptime', fmtDuration(s.uptime_seconds));
    setText('n-memory', typeof s.used_memory_bytes === 'number' ? fmtBytes(s.used_memory_bytes) : '—');
    $('n-policy').textContent = s.maxmemory_policy ? 'policy ' + s.maxmemory_policy : '';
    setText('n-keys', typeof s.total_keys === 'number'
      ? fmtInt(s.total_keys) + ' / ' + fmtInt(s.cache_keys) + (s.cache_keys_exact === false ? '≈' : '')
      : '—');
    setText('n-evicted', fmtInt(s.evicted_keys));
    $('n-expired').textContent = typeof s.expired_keys === 'number'
      ? fmtInt(s.expired_keys) + ' expired' : '';
    setText('n-clients', fmtInt(s.connected_clients));
  }

  function renderWarm(w) {
    if (!w || typeof w !== 'object') return;
    $('warm-status').textContent = w.status || '—';
    $('warm-started').textContent = fmtTime(w.started_at);
    $('warm-started').dataset.iso = w.started_at || '';
    $('warm-finished').textContent = fmtTime(w.finished_at);
    $('warm-finished').dataset.iso = w.finished_at || '';
    $('warm-keys').textContent = typeof w.keys_warmed === 'number' ? fmtInt(w.keys_warmed) : '—';
    $('warm-duration').textContent = fmtMs(w.duration_ms);
    $('warm-panel').dataset.status = w.status || '';
  }

  function renderEntries(endpoints) {
    const eps = Array.isArray(endpoints) ? endpoints : [];
    const names = eps.map((e) => e.name);
    const c = charts.entries, l = charts.latency;
    c.data.labels = names;
    c.data.datasets[0].data = eps.map((e) => e.hits || 0);
    c.data.datasets[1].data = eps.map((e) => e.misses || 0);
    c.data.datasets[2].data = eps.map((e) => e.bypasses || 0);
    l.data.labels = names;
    l.data.datasets[0].data = eps.map((e) => e.avg_ms_hit || 0);
    l.data.datasets[1].data = eps.map((e) => e.avg_ms_miss || 0);
    showNoData(c, !eps.some((e) => (e.hits || 0) + (e.misses || 0) + (e.bypasses || 0) > 0));
    showNoData(l, !eps.some((e) => (e.avg_ms_hit || 0) + (e.avg_ms_miss || 0) > 0));
    c.update('none');
    l.update('none');
  }

  function renderSeries(label, s) {
    const up = s !== null && s.status === 'connected';
    // hit rate: the server's cumulative figure, and the rate over the last interval
    let recent = null;
    if (up && prev !== null && typeof s.hits === 'number') {
      const dh = s.hits - prev.hits, dm = s.misses - prev.misses;
      if (dh >= 0 && dm >= 0 && dh + dm > 0) recent = Math.round(1000 * dh / (dh + dm)) / 10;
    }
    const lookups = up && (s.hits || 0) + (s.misses || 0) > 0;
    pushPoint(charts.hitrate, label, [lookups ? s.hit_rate : null, recent]);
    pushPoint(charts.memory, label,
      [up ? Math.round(s.used_memory_bytes / 1048576 * 100) / 100 : null]);
    pushPoint(charts.keys, label, [up ? s.total_keys : null, up ? s.cache_keys : null]);
    for (const k of ['hitrate', 'memory', 'keys']) {
      showNoData(charts[k], !hasValue(charts[k]));
      charts[k].update('none');
    }
    prev = up && typeof s.hits === 'number' ? { hits: s.hits, misses: s.misses } : null;
  }

  function renderRateLimit(label, limited) {
    const c = charts.ratelimit;
    const policies = limited ? Object.keys(limited).sort() : [];
    const palette = [COLORS.red, COLORS.orange, COLORS.purple, COLORS.blue, COLORS.teal];
    for (const p of policies) {
      if (!c.data.datasets.some((ds) => ds.label === p)) {
        const color = palette[c.data.datasets.length % palette.length];
        const ds = line(p, color, { pointRadius: 1, tension: 0 });
        ds.data = c.data.labels.map(() => null);
        c.data.datasets.push(ds);
      }
    }
    c.data.labels.push(label);
    for (const ds of c.data.datasets) {
      let v = null;
      if (limited && ds.label in limited) {
        const before = prevLimited && prevLimited[ds.label];
        if (typeof before === 'number') {
          v = limited[ds.label] >= before ? limited[ds.label] - before : limited[ds.label];
        }
      }
      ds.data.push(v);
    }
    if (c.data.labels.length > HISTORY) {
      c.data.labels.shift();
      c.data.datasets.forEach((ds) => ds.data.shift());
    }
    prevLimited = limited;
    // "no data" while the counter is absent; a flat zero line once it is there
    showNoData(c, !limited && !hasValue(c));
    c.update('none');
  }

  // ------------------------------------------------------------------ polling

  async function poll() {
    const label = clock();
    if (Date.now() < backoffUntil) {
      renderStatus('warn', 'rate limited', 'The API is rate-limiting this address; polling resumes in ' +
        Math.ceil((backoffUntil - Date.now()) / 1000) + ' s.');
      return;
    }
    const wantWarm = pollCount % WARM_IDLE_EVERY === 0 || Date.now() < warmFastUntil;
    pollCount++;
    const [stats, warm, limited] = await Promise.all([
      fetchJSON('/api/cache/stats').catch(() => null),
      wantWarm ? fetchJSON('/api/cache/warm').catch(() => null) : Promise.resolve(null),
      fetchMetrics(),
    ]);

    let s = null;
    if (stats === null) {
      renderStatus('bad', 'unreachable', 'Cannot reach the API (network error). Retrying every 2 s…');
    } else if (stats.status !== 200 || !stats.body) {
      renderStatus(stats.status === 429 ? 'warn' : 'bad', 'HTTP ' + stats.status,
        '/api/cache/stats answered ' + stats.status + ': ' + detailOf(stats) + '. Retrying…');
    } else {
      s = stats.body;
      if (s.status === 'connected') {
        renderStatus('ok', 'Redis connected', null);
      } else {
        renderStatus('bad', 'Redis ' + (s.status || 'unknown'),
          'Redis is ' + (s.status || 'unknown') + (s.message ? ' (' + s.message + ')' : '') +
          ': the API answers from MariaDB without the cache (X-Cache: BYPASS). ' +
          'Redis figures are blank until it is back.');
      }
      renderNumbers(s);
      renderEntries(s.status === 'connected' ? s.endpoints : []);
      if (s.last_warm) renderWarm(s.last_warm);
    }
    if (warm && warm.status === 200 && warm.body) {
      renderWarm(warm.body);
      if (warm.body.status === 'running') warmFastUntil = Date.now() + 4 * POLL_MS;
    }
    renderSeries(label, s);
    renderRateLimit(label, limited);
    $('updated').textContent = 'Last update ' + label + '.';
    document.body.dataset.polls = String(pollCount);
  }

  async function loop() {
    try {
      await poll();
    } catch (e) {
      console.warn('dashboard: poll failed', e);
    }
    setTimeout(loop, POLL_MS);
  }

  // ------------------------------------------------------------------ admin

  function result(text, ok) {
    const el = $('admin-result');
    el.textContent = text;
    el.className = 'result small ' + (ok ? 'ok' : 'bad');
  }

  function setLoggedIn(name, isAdmin) {
    $('login-form').hidden = name !== null;
    $('admin-actions').hidden = name === null;
    $('admin-name').textContent = name || '';
    $('admin-role').textContent = isAdmin ? '(admin)' : '(not an admin: warm and clear will be refused)';
  }

  // Run an admin call; a 401 means the token expired or was revoked: log out.
  async function adminCall(method, url) {
    const res = await fetchJSON(url, { method, headers: { Authorization: 'Bearer ' + token } });
    if (res.status === 401) {
      token = null;
      setLoggedIn(null);
      result('Your session ended (' + detailOf(res) + '); please log in again.', false);
      return null;
    }
    return res;
  }

  async function withButton(button, fn) {
    button.disabled = true;
    try {
      await fn();
    } catch (e) {
      result('Network error: ' + e.message, false);
    } finally {
      button.disabled = false;
    }
  }

  async function login(ev) {
    ev.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    await withButton($('login-button'), async () => {
      const body = 'username=' + encodeURIComponent(username) + '&password=' + encodeURIComponent(password);
      const res = await fetchJSON('/api/auth/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      if (res.status !== 200 || !res.body || !res.body.access_token) {
        result('Login failed: ' + detailOf(res), false);
        return;
      }
      token = res.body.access_token;
      $('login-password').value = '';
      let isAdmin = false, name = username;
      const me = await adminCall('GET', '/api/users/me');
      if (me && me.status === 200 && me.body) {
        isAdmin = !!me.body.is_admin;
        name = me.body.username || username;
      }
      if (token) {
        setLoggedIn(name, isAdmin);
        result('Logged in.', true);
      }
    });
  }

  async function logout() {
    const t = token;
    token = null;
    setLoggedIn(null);
    result('Logged out.', true);
    if (t) {   // revoke it server-side too; best effort
      fetch('/api/auth/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + t } })
        .catch(() => {});
    }
  }

  async function warmCache() {
    await withButton($('warm-button'), async () => {
      const res = await adminCall('POST', '/api/cache/warm');
      if (!res) return;
      if (res.status === 202 || res.status === 200) {
        const job = res.body && res.body.job;
        if (job) renderWarm(job);
        warmFastUntil = Date.now() + 15000;
        result(detailOf(res) + (job && job.status ? ' (job ' + job.status + ')' : ''), true);
        const started = detailOf(res);
        const follow = async (left) => {   // the job is quick: show its end without a poll
          const w = await fetchJSON('/api/cache/warm').catch(() => null);
          if (!w || w.status !== 200 || !w.body) return;
          renderWarm(w.body);
          if (w.body.status === 'done') {
            result(started + ' — done: ' + fmtInt(w.body.keys_warmed) + ' entries in ' +
              fmtMs(w.body.duration_ms) + '.', true);
          } else if (w.body.status === 'failed') {
            result(started + ' — the warm failed.', false);
          } else if (left > 0) {
            setTimeout(() => follow(left - 1), 500);
          }
        };
        setTimeout(() => follow(10), 300);
      } else {
        result('Warm refused: ' + detailOf(res), false);
      }
    });
  }

  async function clearCache() {
    const pattern = $('clear-pattern').value.trim() || '*';
    await withButton($('clear-button'), async () => {
      const res = await adminCall('DELETE', '/api/cache/clear?pattern=' + encodeURIComponent(pattern));
      if (!res) return;
      if (res.status === 200) {
        const n = res.body && typeof res.body.deleted === 'number' ? res.body.deleted : '?';
        result(detailOf(res) + ' (pattern ' + pattern + ', ' + n + ' deleted)', true);
      } else {
        result('Clear refused: ' + detailOf(res), false);
      }
    });
  }

  // ------------------------------------------------------------------ start

  function start() {
    if (typeof Chart === 'undefined') {
      renderStatus('bad', 'error', 'Chart.js did not load from /static/vendor/chart.js/: ' +
        'run `npm ci` in web/ (scripts/stack does it).');
      return;
    }
    charts = makeCharts();
    $('login-form').addEventListener('submit', login);
    $('logout-button').addEventListener('click', logout);
    $('warm-button').addEventListener('click', warmCache);
    $('clear-button').addEventListener('click', clearCache);
    loop();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
