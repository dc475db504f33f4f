// The waterfall's row elements: a span (name indented by depth up to a cap, its
// level shown beyond it, component, total and self time, its bar), a log or
// exception event under a span, and a folded group of repeated queries.
import { h, componentTag } from './dom.js';
import { parseTime, formatDuration, formatOffset, formatCount } from './format.js';
import { injectedFault, describeInjection } from './span-detail.js';
import { indentOf, MAX_INDENT_DEPTH } from './waterfall-rows.js';

export const ROW_H = 24;
const LEVELS = { trace: 'trace', debug: 'debug', information: 'info', warning: 'warn', error: 'error', critical: 'crit', exception: 'exception' };
const INDENT_PX = 12;
const INJECTED_EXCEPTION = /(^|\.)InjectedFaultException$/;

function indentCell(cell, depth, base) {
  cell.style.paddingLeft = `${base + indentOf(depth) * INDENT_PX}px`;
  if (depth > MAX_INDENT_DEPTH) cell.append(h('span', { class: 'depth-badge', title: `Nesting level ${depth + 1}`, text: `L${depth + 1}` }));
}

// ctx: { t0, total, collapsed (span ids), openGroups (group keys) }.
export function spanRowElement(row, i, ctx) {
  const { node, ev } = row;
  const s = node.span;
  const el = h('div', { class: 'wrow', id: `wrow-${i}`, dataset: { spanId: s.spanId, index: String(i) } });
  el.style.transform = `translateY(${i * ROW_H}px)`;
  if (ev) {
    const isExc = String(ev.name).toLowerCase() === 'exception';
    const a = ev.attributes || {};
    const rawLevel = isExc ? 'exception' : String(a['log.level'] ?? 'log');
    const level = LEVELS[rawLevel.toLowerCase()] ?? rawLevel;
    const text = isExc
      ? `${a['exception.type'] ?? 'Exception'}: ${a['exception.message'] ?? ''}`
      : String(ev.name ?? '');
    el.classList.add('wrow-event', isExc || /error|critical/i.test(level) ? 'is-error' : /warn/i.test(level) ? 'is-warn' : 'is-log');
    el.setAttribute('role', 'none');
    const injected = isExc && !s.imported && INJECTED_EXCEPTION.test(String(a['exception.type'] ?? ''));
    const nameCell = h('span', { class: 'wc-name' });
    indentCell(nameCell, node.depth + 1, 24);
    nameCell.append(...[
      h('span', { class: 'ev-level', text: level }),
      injected ? h('span', { class: 'fault-badge', text: '⚡ injected' }) : null,
      h('span', { class: 'ev-text', text })].filter(Boolean));
    nameCell.title = a['log.category'] ? `${a['log.category']}\n${text}` : text;
    const bar = h('span', { class: 'wc-bar' });
    const mark = h('span', { class: 'event-mark' });
    mark.style.left = `${clamp(((parseTime(ev.timestamp) - ctx.t0) / ctx.total) * 100, 0, 100)}%`;
    bar.append(mark);
    // The name spans the component column too: five cells like a span row.
    el.append(nameCell, h('span', { class: 'wc-num', text: formatOffset(parseTime(ev.timestamp) - ctx.t0) }), h('span', { class: 'wc-num' }), bar);
    return el;
  }
  const hasKids = node.children.length > 0;
  const collapsed = ctx.collapsed.has(s.spanId);
  el.setAttribute('role', 'treeitem');
  el.setAttribute('aria-level', String(node.depth + 1));
  if (hasKids) el.setAttribute('aria-expanded', String(!collapsed));
  el.classList.toggle('is-error', s.status === 'error');
  el.classList.toggle('critical', node.critical);
  const nameCell = h('span', { class: 'wc-name' });
  indentCell(nameCell, node.depth, 4);
  nameCell.append(hasKids
    ? h('button', { class: 'toggle', type: 'button', tabindex: '-1', 'aria-label': collapsed ? 'Expand' : 'Collapse', text: collapsed ? '▸' : '▾' })
    : h('span', { class: 'toggle-spacer', 'aria-hidden': 'true' }));
  const label = String(s.name ?? '') || '(unnamed)';
  nameCell.append(h('span', { class: 'span-name', text: label }));
  const fault = injectedFault(s);
  if (fault) {
    el.classList.add('injected');
    nameCell.append(h('span', { class: 'fault-badge', title: `Injected on purpose ${describeInjection(fault)}`, text: '⚡ injected' }));
  }
  if (s.attributes?.['flowscope.db.repeated_statement']) {
    nameCell.append(h('span', { class: 'row-flag flag-nplus', title: `N+1: ${s.attributes['flowscope.db.repeated_statement']}`, text: `N+1 ×${s.attributes['flowscope.db.repeated_count'] ?? '?'}` }));
  }
  if (collapsed) nameCell.append(h('span', { class: 'collapsed-count', text: `+${countDescendants(node)}` }));
  const path = [];
  for (let p = node.parent, n = 0; p && n < 4; p = p.parent, n++) path.unshift(String(p.span.name ?? ''));
  nameCell.title = [label, node.depth > 0 ? `in ${node.depth > 4 ? '… › ' : ''}${path.join(' › ')} (level ${node.depth + 1})` : null,
    fault ? `Injected on purpose ${describeInjection(fault)}` : null].filter(Boolean).join('\n');
  const offset = Number.isFinite(node.start) ? node.start - ctx.t0 : 0;
  const bar = h('span', { class: 'bar', dataset: { component: s.component || 'custom' } });
  const left = clamp((offset / ctx.total) * 100, 0, 100);
  bar.style.left = `${left}%`;
  bar.style.width = `${Math.max(clamp((node.dur / ctx.total) * 100, 0, 100 - left), 0.3)}%`;
  const track = h('span', { class: 'wc-bar', title: `${formatOffset(offset)} · ${formatDuration(node.dur)} (self ${formatDuration(node.self)})` }, bar);
  el.append(nameCell,
    h('span', { class: 'wc-comp' }, componentTag(s.component)),
    h('span', { class: 'wc-num', text: formatDuration(node.dur) }),
    h('span', { class: 'wc-num self', text: formatDuration(node.self) }),
    track);
  return el;
}

// A folded run of one repeated statement: "× 23 SELECT … WHERE ArticleId = ? · 41 ms".
export function groupRowElement(row, i, ctx) {
  const g = row.group;
  const open = ctx.openGroups.has(g.key);
  const el = h('div', { class: 'wrow wrow-group', id: `wrow-${i}`, role: 'treeitem', 'aria-level': String(row.depth + 1), 'aria-expanded': String(open), dataset: { group: g.key, index: String(i) } });
  el.style.transform = `translateY(${i * ROW_H}px)`;
  el.classList.toggle('is-error', g.error);
  const nameCell = h('span', { class: 'wc-name' });
  indentCell(nameCell, row.depth, 4);
  const text = `× ${g.members.length} ${shorten(g.statement, 90)} · ${formatDuration(g.totalMs)}`;
  nameCell.append(...[
    h('button', { class: 'toggle', type: 'button', tabindex: '-1', 'aria-label': open ? 'Collapse' : 'Expand', text: open ? '▾' : '▸' }),
    g.nPlusOne ? h('span', { class: 'row-flag flag-nplus', text: 'N+1' }) : null,
    h('span', { class: 'span-name group-text', text })].filter(Boolean));
  nameCell.title = `${g.members.length} calls of one statement under ${g.parent.span.name}:\n${g.statement}\n${formatDuration(g.totalMs)} in all`;
  const track = h('span', { class: 'wc-bar' });
  const left = clamp(((g.start - ctx.t0) / ctx.total) * 100, 0, 100);
  const span = h('span', { class: 'bar bar-group', dataset: { component: 'database' } });
  span.style.left = `${left}%`;
  span.style.width = `${Math.max(clamp(((g.end - g.start) / ctx.total) * 100, 0, 100 - left), 0.3)}%`;
  track.append(span);
  for (const m of g.members.slice(0, 200)) {
    const tick = h('span', { class: 'group-tick' });
    tick.style.left = `${clamp(((m.start - ctx.t0) / ctx.total) * 100, 0, 100)}%`;
    track.append(tick);
  }
  el.append(nameCell,
    h('span', { class: 'wc-comp' }, componentTag('database')),
    h('span', { class: 'wc-num', text: formatDuration(g.totalMs) }),
    h('span', { class: 'wc-num self', text: `${formatCount(g.members.length)}×` }),
    track);
  return el;
}

function countDescendants(node) {
  let n = 0;
  const stack = [...node.children];
  while (stack.length && n < 100000) { const c = stack.pop(); n++; stack.push(...c.children); }
  return n;
}

function shorten(text, max) {
  const t = String(text ?? '');
  return t.length <= max ? t : `${t.slice(0, Math.floor(max * 0.45))} … ${t.slice(t.length - Math.floor(max * 0.45))}`;
}

function clamp(v, lo, hi) {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}
