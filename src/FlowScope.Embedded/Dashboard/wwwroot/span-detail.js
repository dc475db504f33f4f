// The span panel: ids (copy), kind, times, status, an injected fault's note,
// the database statement, attributes, events and links.
import { h, statusBadge, componentTag, copyText, toast } from './dom.js';
import { parseTime, formatDuration, formatOffset, formatDateTime } from './format.js';

const FAULT_ID = 'flowscope.fault.id';

// The injection (Controls view) that touched a span: { id, delayMs, failure } or null.
// A span from an imported file never counts as injected: the file may claim anything.
export function injectedFault(span) {
  const a = span?.attributes;
  if (!a || span.imported || a[FAULT_ID] == null || a[FAULT_ID] === '') return null;
  const delay = Number(a['flowscope.fault.delay_ms']);
  return {
    id: String(a[FAULT_ID]),
    delayMs: Number.isFinite(delay) && delay > 0 ? delay : 0,
    failure: String(a['flowscope.fault.failure']).toLowerCase() === 'true',
  };
}

export function describeInjection(f) {
  const what = [f.delayMs ? `a delay of ${formatDuration(f.delayMs)}` : null, f.failure ? 'a failure' : null].filter(Boolean);
  return `by fault ${f.id} from the Controls view: ${what.join(' and ') || 'no effect on this call'}. `
    + 'Not a real slowdown or failure.';
}

const HEX32 = /^[0-9a-f]{32}$/i;

// Renders the panel of one waterfall node ({ span, start, dur, self, critical }) into `el`.
export function renderSpanDetail(el, node, { t0, traceId, compact, onAction, onClose }) {
  const s = node.span;
  const offset = Number.isFinite(node.start) ? node.start - t0 : NaN;
  const rows = [
    ['Span ID', h('span', null, h('code', { class: 'mono', text: s.spanId }),
      h('button', { class: 'icon-btn', type: 'button', title: 'Copy span id', 'aria-label': 'Copy span id',
        onclick: async () => toast((await copyText(s.spanId)) ? 'Span id copied' : 'Copy failed') }, 'copy'))],
    ['Parent', s.parentSpanId ? h('code', { class: 'mono', text: s.parentSpanId }) : '—'],
    ['Kind', s.kind ?? '—'],
    ['Start', `${formatDateTime(node.start)} (${formatOffset(offset)})`],
    ['Duration', `${formatDuration(node.dur)} · self ${formatDuration(node.self)}${node.critical ? ' · on the critical path' : ''}`],
    ['Status', s.status ?? 'unset'],
  ];
  if (s.statusMessage) rows.push(['Message', h('span', { class: 'error-text', text: s.statusMessage })]);
  const fault = injectedFault(s);
  if (fault) {
    rows.push(['Injected', h('span', { class: 'fault-text' },
      [fault.delayMs ? `delay ${formatDuration(fault.delayMs)}` : null, fault.failure ? 'failure' : null].filter(Boolean).join(' + ') || 'no effect',
      ' · fault ', h('code', { class: 'mono', text: fault.id }))]);
  }
  if (s.source) rows.push(['Source', String(s.source)]);
  if (s.instance) rows.push(['Instance', String(s.instance)]);
  const a = s.attributes || {};
  const repeated = a['flowscope.db.repeated_statement'];
  const statement = a['db.query.text'];
  const parts = [
    h('div', { class: 'detail-title' },
      h('h3', { text: String(s.name ?? '') || '(unnamed)' }), componentTag(s.component), statusBadge(s.status),
      h('button', { class: 'btn btn-small', type: 'button', title: 'Copy this span as JSON',
        onclick: async () => toast((await copyText(JSON.stringify(s, null, 2))) ? 'Span JSON copied' : 'Copy failed') }, 'Copy JSON'),
      onClose ? h('button', { class: 'btn btn-small', type: 'button', title: 'Close the span panel', 'aria-label': 'Close the span panel', onclick: onClose }, '✕') : null),
    fault ? h('p', { class: 'fault-callout', role: 'note' }, h('strong', { text: '⚡ Injected on purpose' }), ' ', describeInjection(fault)) : null,
    repeated ? h('p', { class: 'nplus-callout', role: 'note' },
      h('strong', { text: `N+1: ${a['flowscope.db.repeated_count'] ?? 'several'} × ` }), h('code', { class: 'mono', text: repeated }),
      Number(a['flowscope.db.repeated_ms']) > 0 ? ` · ${formatDuration(Number(a['flowscope.db.repeated_ms']))} in all` : '',
      '. One query per item: load them in one query (a join or an IN list) instead.') : null,
    h('dl', { class: 'kv' }, rows.map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', null, v)))),
    statement ? [h('h4', { text: 'Statement' }), h('pre', { class: 'statement', tabindex: '0', text: statement })] : null,
    h('h4', { text: 'Attributes' }),
    attributesTable(a),
  ];
  const events = Array.isArray(s.events) ? s.events : [];
  parts.push(h('h4', { text: `Events (${events.length})` }));
  if (!events.length) parts.push(h('p', { class: 'muted small', text: 'No events.' }));
  else {
    const sorted = events.slice().sort((x, y) => (parseTime(x?.timestamp) || 0) - (parseTime(y?.timestamp) || 0));
    parts.push(h('ol', { class: 'events' }, sorted.map((ev) => {
      const isExc = String(ev?.name ?? '').toLowerCase() === 'exception';
      return h('li', { class: isExc ? 'is-error' : null },
        h('div', { class: 'event-head' },
          h('span', { class: 'event-time', text: formatOffset(parseTime(ev?.timestamp) - t0) }),
          h('span', { class: 'event-name', text: String(ev?.name ?? '') })),
        ev?.attributes && Object.keys(ev.attributes).length ? attributesTable(ev.attributes) : null);
    })));
  }
  const links = Array.isArray(s.links) ? s.links : [];
  if (links.length) {
    parts.push(h('h4', { text: `Links (${links.length})` }));
    parts.push(h('ul', { class: 'links' }, links.map((l) => {
      const tid = String(l?.traceId ?? '');
      const item = h('li', null);
      // Only a well-formed id of another trace becomes a button.
      if (HEX32.test(tid) && tid !== traceId && !compact) {
        item.append(h('button', { class: 'link-btn', type: 'button', title: 'Open linked trace', onclick: () => onAction?.('open', tid) },
          h('code', { class: 'mono', text: tid })));
      } else item.append(h('code', { class: 'mono', text: tid || '—' }));
      if (l?.spanId) item.append(' / ', h('code', { class: 'mono', text: String(l.spanId) }));
      return item;
    })));
  }
  el.replaceChildren(...parts.flat().filter(Boolean));
}

export function attributesTable(attrs) {
  const entries = attrs && typeof attrs === 'object' ? Object.entries(attrs) : [];
  if (!entries.length) return h('p', { class: 'muted small', text: 'No attributes.' });
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return h('table', { class: 'attrs' },
    h('tbody', null, entries.map(([k, v]) => h('tr', null,
      h('th', { scope: 'row', text: k }),
      h('td', { text: typeof v === 'string' ? v : JSON.stringify(v) })))));
}
