// OTLP JSON (ExportTraceServiceRequest, the protobuf JSON mapping) export and import.
import { summarize } from './model.js';

export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
const MAX_IMPORT_SPANS = 200000;

// Imported spans are capped as captured ones are (FlowScopeOptions' defaults): text beyond the length ends in "…".
const MAX_TEXT = 1024;
const MAX_KEY = 256;
const MAX_ATTRIBUTES = 64;
const MAX_EVENTS = 128;
const MAX_LINKS = 128;
const cap = (text, max = MAX_TEXT) => (text.length <= max ? text : `${text.slice(0, max)}…`);

const KIND_TO_OTLP = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const KIND_FROM_OTLP = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const KIND_NAMES = { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS_NAMES = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

// ISO 8601 with up to 9 fractional digits → Unix nanoseconds as a decimal string.
export function isoToNanos(iso) {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(String(iso));
  if (!m) return String(BigInt(Math.round((Date.parse(iso) || 0))) * 1000000n);
  const secs = BigInt(Math.floor(Date.parse(m[1] + (m[3] || 'Z')) / 1000));
  const frac = BigInt(((m[2] || '') + '000000000').slice(0, 9));
  return String(secs * 1000000000n + frac);
}

export function nanosToIso(nanos) {
  const n = BigInt(nanos);
  const secs = n / 1000000000n;
  const frac = String(n % 1000000000n).padStart(9, '0');
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.slice(0, 7)}Z`;
}

const attr = (key, value) => ({ key, value: { stringValue: typeof value === 'string' ? value : JSON.stringify(value) } });

// traces: [{ traceId, summary, spans }] → OTLP JSON object.
export function toOtlp(traces) {
  const groups = new Map(); // instance -> source -> spans
  for (const t of traces) {
    for (const s of t.spans || []) {
      const inst = String(s.instance ?? '');
      const src = String(s.source ?? '');
      if (!groups.has(inst)) groups.set(inst, new Map());
      const bySource = groups.get(inst);
      if (!bySource.has(src)) bySource.set(src, []);
      bySource.get(src).push(s);
    }
  }
  const resourceSpans = [];
  for (const [inst, bySource] of groups) {
    const resAttrs = [attr('service.name', 'flowscope-export')];
    if (inst) resAttrs.push(attr('service.instance.id', inst));
    resourceSpans.push({
      resource: { attributes: resAttrs },
      scopeSpans: [...bySource].map(([src, spans]) => ({
        scope: { name: src || 'flowscope' },
        spans: spans.map(spanToOtlp),
      })),
    });
  }
  return { resourceSpans };
}

function spanToOtlp(s) {
  const start = isoToNanos(s.startTime);
  const end = String(BigInt(start) + BigInt(Math.round((Number(s.durationMs) || 0) * 1e6)));
  const attributes = Object.entries(s.attributes || {}).map(([k, v]) => attr(k, v));
  if (s.component) attributes.push(attr('flowscope.component', s.component));
  // OTLP has no field for a stage's own time: it travels as an attribute and comes back as selfTimeMs.
  if (Number.isFinite(s.selfTimeMs)) attributes.push(attr('flowscope.self_time_ms', s.selfTimeMs));
  const out = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: String(s.name ?? ''),
    kind: KIND_TO_OTLP[String(s.kind).toLowerCase()] ?? 1,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    events: (s.events || []).map((e) => ({ timeUnixNano: isoToNanos(e.timestamp), name: String(e.name ?? ''), attributes: Object.entries(e.attributes || {}).map(([k, v]) => attr(k, v)) })),
    links: (s.links || []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
    status: { code: s.status === 'error' ? 2 : s.status === 'ok' ? 1 : 0, ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
  if (s.parentSpanId) out.parentSpanId = s.parentSpanId;
  return out;
}

export class ImportError extends Error {}

function anyValue(v) {
  if (!v || typeof v !== 'object') return '';
  if ('stringValue' in v) return String(v.stringValue);
  if ('intValue' in v) return String(v.intValue);
  if ('doubleValue' in v) return String(v.doubleValue);
  if ('boolValue' in v) return String(v.boolValue);
  if ('arrayValue' in v) return JSON.stringify((v.arrayValue?.values || []).map(anyValue));
  if ('kvlistValue' in v) return JSON.stringify(Object.fromEntries((v.kvlistValue?.values || []).map((kv) => [kv.key, anyValue(kv.value)])));
  if ('bytesValue' in v) return String(v.bytesValue);
  return '';
}

function attrsToObject(list, where, max = Infinity) {
  if (list == null) return {};
  if (!Array.isArray(list)) throw new ImportError(`${where}: "attributes" must be an array.`);
  const out = {};
  let n = 0;
  for (const kv of list) {
    if (!kv || typeof kv.key !== 'string') throw new ImportError(`${where}: every attribute needs a string "key".`);
    if (n >= max) continue;
    const key = cap(kv.key, MAX_KEY);
    if (!(key in out)) n++;
    out[key] = cap(anyValue(kv.value));
  }
  return out;
}

const COMPONENTS = new Set(['server', 'middleware', 'endpoint', 'controller', 'signalr', 'grpc', 'worker', 'queue', 'http-client', 'database', 'simulator', 'custom']);
const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;
const NANOS = /^\d{1,20}$/;

// Parses and validates an OTLP JSON text. Returns Map traceId -> { traceId, summary, spans }.
export function fromOtlpText(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ImportError(`The file is not valid JSON (${err.message}).`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.resourceSpans)) {
    throw new ImportError('Not an OTLP JSON trace file: expected a top-level "resourceSpans" array.');
  }
  const byTrace = new Map();
  let count = 0;
  doc.resourceSpans.forEach((rs, ri) => {
    const resAttrs = attrsToObject(rs?.resource?.attributes, `resourceSpans[${ri}].resource`);
    const scopes = rs?.scopeSpans ?? rs?.instrumentationLibrarySpans ?? [];
    if (!Array.isArray(scopes)) throw new ImportError(`resourceSpans[${ri}]: "scopeSpans" must be an array.`);
    scopes.forEach((ss, si) => {
      const spans = ss?.spans ?? [];
      if (!Array.isArray(spans)) throw new ImportError(`resourceSpans[${ri}].scopeSpans[${si}]: "spans" must be an array.`);
      const scopeName = String(ss?.scope?.name ?? ss?.instrumentationLibrary?.name ?? '');
      spans.forEach((sp, pi) => {
        const where = `span ${ri}/${si}/${pi}`;
        if (++count > MAX_IMPORT_SPANS) throw new ImportError(`The file holds more than ${MAX_IMPORT_SPANS.toLocaleString()} spans.`);
        if (!sp || typeof sp !== 'object') throw new ImportError(`${where}: not an object.`);
        if (!HEX32.test(sp.traceId ?? '') || /^0+$/.test(sp.traceId)) throw new ImportError(`${where}: "traceId" must be 32 hex digits.`);
        if (!HEX16.test(sp.spanId ?? '')) throw new ImportError(`${where}: "spanId" must be 16 hex digits.`);
        if (sp.parentSpanId && !HEX16.test(sp.parentSpanId)) throw new ImportError(`${where}: "parentSpanId" must be 16 hex digits.`);
        if (typeof sp.name !== 'string') throw new ImportError(`${where}: "name" must be a string.`);
        const st = String(sp.startTimeUnixNano ?? ''), en = String(sp.endTimeUnixNano ?? st);
        if (!NANOS.test(st) || !NANOS.test(en)) throw new ImportError(`${where}: start/end times must be Unix nanoseconds.`);
        const all = attrsToObject(sp.attributes, where, MAX_ATTRIBUTES + 1);
        const component = COMPONENTS.has(all['flowscope.component']) ? all['flowscope.component'] : guessComponent(sp, all);
        delete all['flowscope.component'];
        const selfTime = Number(all['flowscope.self_time_ms']);
        delete all['flowscope.self_time_ms'];
        const attributes = Object.fromEntries(Object.entries(all).slice(0, MAX_ATTRIBUTES));
        const links = Array.isArray(sp.links) ? sp.links : [];
        links.forEach((l, li) => {
          if (!l || !HEX32.test(l.traceId ?? '') || !HEX16.test(l.spanId ?? '')) {
            throw new ImportError(`${where} link ${li}: "traceId" must be 32 and "spanId" 16 hex digits.`);
          }
        });
        const kind = typeof sp.kind === 'string' ? (KIND_NAMES[sp.kind] ?? 1) : Number(sp.kind) || 0;
        const code = typeof sp.status?.code === 'string' ? (STATUS_NAMES[sp.status.code] ?? 0) : Number(sp.status?.code) || 0;
        const durNs = BigInt(en) - BigInt(st);
        const span = {
          traceId: sp.traceId.toLowerCase(),
          spanId: sp.spanId.toLowerCase(),
          parentSpanId: sp.parentSpanId ? sp.parentSpanId.toLowerCase() : null,
          name: cap(sp.name),
          kind: KIND_FROM_OTLP[kind] ?? 'internal',
          component,
          startTime: nanosToIso(st),
          durationMs: durNs > 0n ? Number(durNs) / 1e6 : 0,
          status: code === 2 ? 'error' : code === 1 ? 'ok' : 'unset',
          statusMessage: sp.status?.message ? cap(String(sp.status.message)) : null,
          attributes,
          selfTimeMs: Number.isFinite(selfTime) && selfTime >= 0 && selfTime <= Number(durNs) / 1e6 ? selfTime : null,
          events: (Array.isArray(sp.events) ? sp.events : []).slice(0, MAX_EVENTS).map((e, ei) => ({
            name: cap(String(e?.name ?? '')),
            timestamp: NANOS.test(String(e?.timeUnixNano ?? '')) ? nanosToIso(String(e.timeUnixNano)) : nanosToIso(st),
            attributes: attrsToObject(e?.attributes, `${where} event ${ei}`, MAX_ATTRIBUTES),
          })),
          links: links.slice(0, MAX_LINKS).map((l) => ({ traceId: l.traceId.toLowerCase(), spanId: l.spanId.toLowerCase() })),
          source: cap(scopeName),
          instance: cap(String(resAttrs['service.instance.id'] ?? resAttrs['service.name'] ?? '')) || null,
        };
        // Never mistaken for live data or an injection of this app's (see trace-view.js).
        Object.defineProperty(span, 'imported', { value: true });
        let t = byTrace.get(span.traceId);
        if (!t) { t = []; byTrace.set(span.traceId, t); }
        t.push(span);
      });
    });
  });
  if (count === 0) throw new ImportError('The file contains no spans.');
  const traces = new Map();
  for (const [traceId, spans] of byTrace) {
    spans.sort((a, b) => (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : 0));
    traces.set(traceId, { traceId, summary: summarize(traceId, spans), spans });
  }
  return traces;
}

function guessComponent(sp, a) {
  if (a['db.system'] || a['db.system.name']) return 'database';
  if (a['messaging.system'] || a['messaging.destination.name']) return 'queue';
  if (a['rpc.system'] === 'signalr') return 'signalr';
  const kind = typeof sp.kind === 'string' ? KIND_NAMES[sp.kind] : Number(sp.kind);
  if (kind === 2) return 'server';
  if (kind === 3 && a['rpc.system'] === 'grpc') return 'grpc';
  if (kind === 3 && (a['url.full'] || a['http.request.method'])) return 'http-client';
  return 'custom';
}

// Reads a File, enforcing the size limit before reading it.
export async function readImportFile(file) {
  if (!file) throw new ImportError('No file chosen.');
  if (file.size > MAX_IMPORT_BYTES) {
    throw new ImportError(`The file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${MAX_IMPORT_BYTES / 1048576} MB.`);
  }
  if (file.size === 0) throw new ImportError('The file is empty.');
  return fromOtlpText(await file.text());
}
