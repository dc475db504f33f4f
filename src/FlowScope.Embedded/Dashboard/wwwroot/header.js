// Header: health from every kind of work, the figures of one kind (HTTP
// requests by default; connections, messages, worker units and simulator runs
// selectable), capture statistics and a notice when the buffer drops spans or
// the store evicts. While an imported file is viewed it shows that file's
// figures and nothing of the live app.
import { fetchMetrics, fetchStats } from './api.js';
import { h } from './dom.js';
import { formatBytes, formatCount, formatDuration, formatUptime } from './format.js';

const INTERVAL_MS = 2000;
const $ = (id) => document.getElementById(id);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

// What each kind's figures are called: the unit counted and what its duration means.
export const KINDS = {
  http: { label: 'Requests', unit: 'req/s', noun: 'requests', duration: '' },
  connection: { label: 'Connections', unit: 'closed/s', noun: 'connections', duration: 'open ' },
  message: { label: 'Messages', unit: 'msg/s', noun: 'messages handled', duration: '' },
  worker: { label: 'Worker units', unit: 'units/s', noun: 'worker units', duration: '' },
  simulator: { label: 'Simulators', unit: 'runs/s', noun: 'simulator runs', duration: '' },
};

export class Header {
  constructor({ onStats } = {}) {
    this.metrics = null;
    this.stats = null;
    this.kind = 'http';
    this.history = []; // [{ at, dropped, evicted }] over the last minute
    this.failures = 0;
    this.imported = null;
    this.onStats = onStats;
    $('kinds').addEventListener('click', (e) => {
      const btn = e.target.closest('button[data-kind]');
      if (btn) this.selectKind(btn.dataset.kind);
    });
    $('kinds').addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const buttons = [...$('kinds').querySelectorAll('button[data-kind]')];
      const i = buttons.findIndex((b) => b.dataset.kind === this.kind);
      const next = buttons[(i + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
      if (!next) return;
      e.preventDefault();
      this.selectKind(next.dataset.kind);
      next.focus();
    });
  }

  start() { this.#poll(); }

  selectKind(kind) {
    if (!KINDS[kind]) return;
    this.kind = kind;
    this.render();
  }

  // Shows an imported file's figures instead of the live app's (null: back to live).
  setImported(figures) {
    this.imported = figures;
    this.render();
  }

  async #poll() {
    const [m, s] = await Promise.allSettled([fetchMetrics(), fetchStats()]);
    if (m.status === 'fulfilled') this.metrics = m.value;
    if (s.status === 'fulfilled') { this.stats = s.value; this.onStats?.(s.value); }
    this.failures = m.status === 'rejected' && s.status === 'rejected' ? this.failures + 1 : 0;
    this.render();
    setTimeout(() => this.#poll(), document.hidden ? INTERVAL_MS * 4 : INTERVAL_MS);
  }

  // The figures of one kind (the top-level HTTP figures for servers that report no kinds).
  kindFigures(kind) {
    const m = this.metrics;
    if (!m) return null;
    const listed = Array.isArray(m.kinds) ? m.kinds.find((k) => k?.kind === kind) : null;
    if (listed) return listed;
    if (kind !== 'http') return null;
    return {
      kind: 'http', perSecond: m.requestsPerSecond, lastMinute: m.requestsLastMinute, errorRate: m.errorRate,
      errorsLastMinute: Math.round(num(m.errorRate) * num(m.requestsLastMinute)), clientErrorsLastMinute: m.clientErrorsLastMinute,
      p50Ms: m.latencyP50Ms, p95Ms: m.latencyP95Ms, p99Ms: m.latencyP99Ms, total: m.requestsTotal, errorsTotal: m.errorsTotal,
    };
  }

  render() {
    const importing = !!this.imported;
    $('metrics').hidden = importing;
    $('kinds').hidden = importing;
    $('import-figures').hidden = !importing;
    if (importing) {
      this.#renderImported();
      return;
    }
    this.#renderKinds();
    const m = this.metrics, s = this.stats;
    $('metrics').classList.toggle('stale', this.failures >= 2);
    const k = this.kindFigures(this.kind);
    const meta = KINDS[this.kind];
    $('m-rate-label').textContent = meta.unit;
    for (const p of ['p50', 'p95', 'p99']) $(`m-${p}-label`).textContent = `${meta.duration}${p}`;
    $('m-inflight-box').hidden = this.kind !== 'http';
    $('m-4xx-box').hidden = this.kind !== 'http';
    if (k) {
      const rate = num(k.perSecond);
      $('m-rps').textContent = rate.toFixed(rate < 10 ? 2 : 1);
      $('m-rps').parentElement.title = `${formatCount(num(k.lastMinute))} ${meta.noun} in the last minute · ${formatCount(num(k.total))} since start`;
      $('m-inflight').textContent = formatCount(num(m.inFlight));
      $('m-inflight-box').title = 'Requests being served now (open connections included)';
      $('m-p50').textContent = formatDuration(num(k.p50Ms));
      $('m-p95').textContent = formatDuration(num(k.p95Ms));
      $('m-p99').textContent = formatDuration(num(k.p99Ms));
      $('m-p99').parentElement.title = this.kind === 'connection'
        ? 'How long the most recent connections stayed open'
        : this.kind === 'http' ? 'Latency of the most recent requests (connections excluded)' : `Duration of the most recent ${meta.noun}`;
      $('m-err').textContent = `${(num(k.errorRate) * 100).toFixed(1)}%`;
      $('m-err-box').classList.toggle('bad', num(k.errorRate) >= 0.05);
      $('m-err-box').title = `${formatCount(num(k.errorsLastMinute))} of ${formatCount(num(k.lastMinute))} ${meta.noun} failed in the last minute (${formatCount(num(k.errorsTotal))} since start); a unit counts as failed when it or anything it started failed`;
      const clientErrors = num(k.clientErrorsLastMinute);
      $('m-4xx').textContent = formatCount(clientErrors);
      $('m-4xx-box').classList.toggle('warn', clientErrors > 0);
      $('m-4xx-box').title = `${formatCount(clientErrors)} requests answered with a 4xx client error in the last minute (not counted as errors)`;
    } else {
      for (const id of ['m-rps', 'm-p50', 'm-p95', 'm-p99', 'm-err', 'm-4xx']) $(id).textContent = m ? '0' : '–';
    }
    if (s || m) $('m-uptime').textContent = formatUptime(num(s?.uptimeSeconds ?? m?.uptimeSeconds));
    if (s) this.#renderStats(s);
    const health = this.health();
    const el = $('health');
    el.dataset.health = health.level;
    $('health-label').textContent = health.label;
    el.title = health.reason;
  }

  #renderKinds() {
    const host = $('kinds');
    const shown = Object.keys(KINDS).filter((kind) => kind === 'http' || kind === this.kind || num(this.kindFigures(kind)?.total) > 0);
    const key = shown.join(',');
    if (host.dataset.shown !== key) {
      host.dataset.shown = key;
      host.replaceChildren(...shown.map((kind) => h('button', {
        type: 'button', class: 'kind', role: 'radio', dataset: { kind },
      }, h('span', { class: 'kind-name', text: KINDS[kind].label }), h('span', { class: 'kind-rate' }))));
    }
    for (const btn of host.querySelectorAll('button[data-kind]')) {
      const kind = btn.dataset.kind;
      const k = this.kindFigures(kind);
      const selected = kind === this.kind;
      btn.setAttribute('aria-checked', String(selected));
      btn.tabIndex = selected ? 0 : -1;
      const rate = num(k?.perSecond), err = num(k?.errorRate);
      btn.querySelector('.kind-rate').textContent = k ? `${rate.toFixed(rate < 10 ? 1 : 0)}/s${err > 0 ? ` · ${(err * 100).toFixed(err < 0.1 ? 1 : 0)}% err` : ''}` : '';
      btn.dataset.level = !k || num(k.lastMinute) === 0 ? 'idle' : err >= 0.25 ? 'critical' : err >= 0.05 ? 'degraded' : 'healthy';
      btn.title = `${KINDS[kind].label}: ${formatCount(num(k?.lastMinute))} in the last minute, ${(err * 100).toFixed(1)}% failed`;
    }
  }

  #renderStats(s) {
    const dropped = num(s.dropped), evicted = num(s.evictedTraces), evictedSpans = num(s.evictedSpans);
    $('stat-captured').textContent = formatCount(num(s.captured));
    $('stat-captured-box').title = `${formatCount(num(s.captured))} spans captured (every recorded span: requests, pipeline stages, logs, database, queue, worker and custom spans) · ${formatCount(num(s.storedSpans))} spans stored · buffer ${formatCount(num(s.buffered))}/${formatCount(num(s.bufferCapacity))}`;
    $('stat-kept').textContent = formatCount(num(s.storedTraces));
    $('stat-kept-box').title = `${formatCount(num(s.storedTraces))} traces held by the store${s.maxTraces ? ` (at most ${formatCount(num(s.maxTraces))})` : ''}: errors, slow outliers and a sample of every route are kept longer than the rest`;
    const memory = num(s.memoryBytes), cap = num(s.memoryCapacityBytes);
    $('stat-memory').textContent = cap > 0 ? `${formatBytes(memory)}/${formatBytes(cap)}` : formatBytes(memory);
    $('stat-memory-box').title = `The store holds ${formatBytes(memory)} of its ${formatBytes(cap)} cap (FlowScope:MaxStoreMegabytes); when full, the oldest traces make room`;
    $('stat-dropped').textContent = formatCount(dropped);
    $('stat-evicted').textContent = formatCount(evicted);
    $('stat-dropped-box').title = `${formatCount(dropped)} spans dropped (buffer full) · ${formatCount(num(s.rejected))} rejected (trace too large) · ${formatCount(num(s.failed))} failed`;
    $('stat-evicted-box').title = `${formatCount(evicted)} traces / ${formatCount(evictedSpans)} spans evicted (store full)`;
    $('stat-dropped-box').classList.toggle('warn', dropped > 0);
    $('stat-evicted-box').classList.toggle('warn', evicted > 0);
    const now = Date.now();
    this.history.push({ at: now, dropped, evicted });
    this.history = this.history.filter((x) => x.at >= now - 60000);
    const parts = [];
    if (dropped > 0) parts.push(`${formatCount(dropped)} span${dropped === 1 ? '' : 's'} dropped because the capture buffer (${formatCount(num(s.bufferCapacity))}) was full`);
    if (evicted > 0) parts.push(`${formatCount(evicted)} older trace${evicted === 1 ? '' : 's'} evicted to stay within the store's ${formatBytes(num(s.memoryCapacityBytes))}`);
    const redis = s.extensions?.redis;
    if (redis) {
      $('stat-captured-box').title += ` · Redis: ${formatCount(num(redis.persisted))} persisted, ${formatCount(num(redis.waiting))} waiting, ${formatCount(num(redis.dropped))} dropped`;
      if (num(redis.consecutiveFailures) > 0) parts.push(`Redis unreachable: ${formatCount(num(redis.waiting))} spans waiting for retry`);
      if (num(redis.dropped) > 0) parts.push(`${formatCount(num(redis.dropped))} spans not persisted to Redis (retry budget exceeded)`);
    }
    const notice = $('notice');
    notice.hidden = !parts.length;
    notice.textContent = parts.length ? `⚠ ${parts.join('; ')}.` : '';
  }

  #renderImported() {
    const f = this.imported;
    $('notice').hidden = true;
    const item = (label, value, title) => h('div', { class: 'metric', title }, h('dt', { text: label }), h('dd', { text: value }));
    $('import-figures').replaceChildren(
      item('traces', formatCount(f.traces), `Traces in ${f.name}`),
      item('spans', formatCount(f.spans), 'Spans in the file'),
      item('errors', formatCount(f.errors), 'Traces with a failed span'),
      item('4xx', formatCount(f.clientErrors), 'Requests answered with a 4xx client error'),
      item('from', f.from, 'Earliest trace start'),
      item('to', f.to, 'Latest trace start'));
    const el = $('health');
    el.dataset.health = 'imported';
    $('health-label').textContent = 'imported file';
    el.title = `Showing ${f.name}: nothing of the live app`;
  }

  // healthy / degraded / critical from every kind's error rate and recent drops.
  health() {
    const m = this.metrics;
    if (this.failures >= 2) return { level: 'critical', label: 'unreachable', reason: 'The dashboard API is not answering.' };
    if (!m) return { level: 'idle', label: 'starting…', reason: 'Waiting for metrics.' };
    const kinds = Object.keys(KINDS).map((kind) => ({ kind, k: this.kindFigures(kind) })).filter(({ k }) => k && num(k.lastMinute) > 0);
    const worst = kinds.reduce((a, b) => (!a || num(b.k.errorRate) > num(a.k.errorRate) ? b : a), null);
    const err = num(worst?.k.errorRate);
    const first = this.history[0], last = this.history[this.history.length - 1];
    const recentDrops = first && last ? last.dropped - first.dropped : 0;
    const captured = num(this.stats?.captured);
    const failing = kinds.filter(({ k }) => num(k.errorRate) > 0)
      .map(({ kind, k }) => `${KINDS[kind].noun}: ${(num(k.errorRate) * 100).toFixed(1)}% failed`);
    const drops = `${formatCount(recentDrops)} spans dropped in the last minute`;
    const reason = [...failing, drops].join(' · ');
    if (err >= 0.25 || (recentDrops > 0 && recentDrops >= captured * 0.05)) return { level: 'critical', label: 'critical', reason };
    if (err >= 0.05 || recentDrops > 0) return { level: 'degraded', label: 'degraded', reason };
    if (!kinds.length) return { level: 'idle', label: 'idle', reason: 'No requests, messages, worker units or simulator runs in the last minute.' };
    return { level: 'healthy', label: 'healthy', reason: failing.length ? reason : 'No failures and no drops in the last minute.' };
  }
}
