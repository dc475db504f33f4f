// Formatting helpers for times and durations.

const pad2 = (n) => String(n).padStart(2, '0');
const pad3 = (n) => String(n).padStart(3, '0');

// Parses an ISO 8601 timestamp into epoch milliseconds, keeping sub-millisecond
// precision (.NET emits up to 7 fractional digits). Returns NaN when invalid.
export function parseTime(iso) {
  if (typeof iso !== 'string') return NaN;
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(iso);
  if (!m) return Date.parse(iso);
  const base = Date.parse(m[1] + (m[3] || ''));
  if (Number.isNaN(base)) return Date.parse(iso);
  const frac = m[2] ? Number('0.' + m[2]) * 1000 : 0;
  return base + frac;
}

// 850 µs, 12.3 ms, 1.24 s, 2m 05s
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms === 0) return '0 µs';
  if (ms < 0.9995) {
    const us = ms * 1000;
    return us < 1 ? '<1 µs' : `${Math.round(us)} µs`;
  }
  if (ms < 9.995) return `${ms.toFixed(2)} ms`;
  if (ms < 99.95) return `${ms.toFixed(1)} ms`;
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 9.995) return `${s.toFixed(2)} s`;
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const totalS = Math.round(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m}m ${pad2(totalS % 60)}s`;
  return `${Math.floor(m / 60)}h ${pad2(m % 60)}m`;
}

// Offset from the start of a trace, e.g. "+12.3 ms".
export function formatOffset(ms) {
  if (!Number.isFinite(ms)) return '–';
  return ms <= 0 ? '+0 µs' : `+${formatDuration(ms)}`;
}

// Local wall clock HH:MM:SS.mmm
export function formatClock(epochMs) {
  if (!Number.isFinite(epochMs)) return '–';
  const d = new Date(Math.floor(epochMs));
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

// Local YYYY-MM-DD HH:MM:SS.mmm
export function formatDateTime(epochMs) {
  if (!Number.isFinite(epochMs)) return '–';
  const d = new Date(Math.floor(epochMs));
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${formatClock(epochMs)}`;
}

const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function formatCount(n) {
  return typeof n === 'number' && Number.isFinite(n) ? countFormat.format(n) : '–';
}

// Bytes as "840 KB" / "12.3 MB".
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  const mb = n / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

// Uptime such as "3h 12m" / "45s".
export function formatUptime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${pad2(m % 60)}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}
