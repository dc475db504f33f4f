// Header: health status, request metrics (api/metrics), capture statistics
// (api/stats) and a notice when the buffer drops spans or the store evicts.
import { fetchMetrics, fetchStats } from './api.js';
import { formatCount, formatUptime, formatDuration } from './format.js';

const INTERVAL_MS = 2000;
const $ = (id) => document.getElementById(id);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export class Header {
  constructor() {
    this.metrics = null;
    this.stats = null;
    this.history = []; // [{ at, dropped, evicted }] over the last minute
    this.failures = 0;
  }

  start() { this.#poll(); }

  async #poll() {
    const [m, s] = await Promise.allSettled([fetchMetrics(), fetchStats()]);
    if (m.status === 'fulfilled') this.metrics = m.value;
    if (s.status === 'fulfilled') this.stats = s.value;
    this.failures = m.status === 'rejected' && s.status === 'rejected' ? this.failures + 1 : 0;
    this.render();
    setTimeout(() => this.#poll(), document.hidden ? INTERVAL_MS * 4 : INTERVAL_MS);
  }

  render() {
    const m = this.metrics, s = this.stats;
    $('metrics').classList.toggle('stale', this.failures >= 2);
    if (m) {
      $('m-rps').textContent = num(m.requestsPerSecond).toFixed(num(m.requestsPerSecond) < 10 ? 2 : 1);
      $('m-inflight').textContent = formatCount(num(m.inFlight));
      $('m-p50').textContent = formatDuration(num(m.latencyP50Ms));
      $('m-p95').textContent = formatDuration(num(m.latencyP95Ms));
      $('m-p99').textContent = formatDuration(num(m.latencyP99Ms));
      $('m-err').textContent = `${(num(m.errorRate) * 100).toFixed(1)}%`;
      $('m-err-box').classList.toggle('bad', num(m.errorRate) >= 0.05);
      $('m-err-box').title = `${formatCount(num(m.errorsTotal))} errors of ${formatCount(num(m.requestsTotal))} requests (rate over the last minute)`;
      $('m-rps').parentElement.title = `${formatCount(num(m.requestsLastMinute))} requests in the last minute`;
    }
    if (s || m) $('m-uptime').textContent = formatUptime(num(s?.uptimeSeconds ?? m?.uptimeSeconds));
    if (s) {
      const dropped = num(s.dropped), evicted = num(s.evictedTraces), evictedSpans = num(s.evictedSpans);
      $('stat-captured').textContent = formatCount(num(s.captured));
      $('stat-dropped').textContent = formatCount(dropped);
      $('stat-evicted').textContent = formatCount(evicted);
      $('stat-captured').parentElement.title = `${formatCount(num(s.captured))} spans captured · ${formatCount(num(s.storedTraces))} traces / ${formatCount(num(s.storedSpans))} spans stored · buffer ${formatCount(num(s.buffered))}/${formatCount(num(s.bufferCapacity))}`;
      $('stat-dropped-box').title = `${formatCount(dropped)} spans dropped (buffer full) · ${formatCount(num(s.rejected))} rejected (trace too large) · ${formatCount(num(s.failed))} failed`;
      $('stat-evicted-box').title = `${formatCount(evicted)} traces / ${formatCount(evictedSpans)} spans evicted (store full)`;
      $('stat-dropped-box').classList.toggle('warn', dropped > 0);
      $('stat-evicted-box').classList.toggle('warn', evicted > 0);
      const now = Date.now();
      this.history.push({ at: now, dropped, evicted });
      this.history = this.history.filter((x) => x.at >= now - 60000);
      const notice = $('notice');
      const parts = [];
      if (dropped > 0) parts.push(`${formatCount(dropped)} span${dropped === 1 ? '' : 's'} dropped because the capture buffer (${formatCount(num(s.bufferCapacity))}) was full`);
      if (evicted > 0) parts.push(`${formatCount(evicted)} older trace${evicted === 1 ? '' : 's'} evicted to stay within the store's limit`);
      const redis = s.extensions?.redis;
      if (redis) {
        $('stat-captured').parentElement.title += ` · Redis: ${formatCount(num(redis.persisted))} persisted, ${formatCount(num(redis.waiting))} waiting, ${formatCount(num(redis.dropped))} dropped`;
        if (num(redis.consecutiveFailures) > 0) parts.push(`Redis unreachable: ${formatCount(num(redis.waiting))} spans waiting for retry`);
        if (num(redis.dropped) > 0) parts.push(`${formatCount(num(redis.dropped))} spans not persisted to Redis (retry budget exceeded)`);
      }
      notice.hidden = !parts.length;
      notice.textContent = parts.length ? `⚠ ${parts.join('; ')}.` : '';
    }
    const health = this.health();
    const el = $('health');
    el.dataset.health = health.level;
    $('health-label').textContent = health.label;
    el.title = health.reason;
  }

  // healthy / degraded / critical from the error rate and recent drops.
  health() {
    const m = this.metrics;
    if (this.failures >= 2) return { level: 'critical', label: 'unreachable', reason: 'The dashboard API is not answering.' };
    if (!m) return { level: 'idle', label: 'starting…', reason: 'Waiting for metrics.' };
    const err = num(m.errorRate);
    const first = this.history[0], last = this.history[this.history.length - 1];
    const recentDrops = first && last ? last.dropped - first.dropped : 0;
    const captured = num(this.stats?.captured);
    if (err >= 0.25 || (recentDrops > 0 && recentDrops >= captured * 0.05)) {
      return { level: 'critical', label: 'critical', reason: `Error rate ${(err * 100).toFixed(1)}% · ${formatCount(recentDrops)} spans dropped in the last minute` };
    }
    if (err >= 0.05 || recentDrops > 0) {
      return { level: 'degraded', label: 'degraded', reason: `Error rate ${(err * 100).toFixed(1)}% · ${formatCount(recentDrops)} spans dropped in the last minute` };
    }
    if (num(m.requestsLastMinute) === 0) return { level: 'idle', label: 'idle', reason: 'No requests in the last minute.' };
    return { level: 'healthy', label: 'healthy', reason: `Error rate ${(err * 100).toFixed(1)}%, no drops in the last minute` };
  }
}
