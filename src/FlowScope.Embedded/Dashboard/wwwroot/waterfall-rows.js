// The waterfall's rows from a span tree: spans in tree order, their log and
// exception events under them, and repeated database statements of one parent
// (N+1 queries) folded into one group row until expanded.
import { parseTime } from './format.js';

// Indentation stops here; deeper spans show their depth instead, so names stay visible.
export const MAX_INDENT_DEPTH = 8;
// As many calls of one statement under one span as make a group without the capture's mark.
const GROUP_MIN = 5;

// A statement with its literals and parameters as "?" and IN lists collapsed,
// so the calls of one query with different values compare equal.
export function normalizeStatement(text) {
  return String(text ?? '')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$@:])[-+]?\d+(?:\.\d+)?(?![\w])/g, '?')
    .replace(/[@:$]\w+/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)*\s*\)/g, '(?)')
    .replace(/\s+/g, ' ')
    .trim();
}

const statementOf = (span) => span.attributes?.['db.query.text'] ?? span.name;

// Groups of a node's database children that ran one statement repeatedly.
function repeatedGroups(node) {
  const byStatement = new Map();
  for (const child of node.children) {
    if (child.span.component !== 'database') continue;
    const key = normalizeStatement(statementOf(child.span));
    let list = byStatement.get(key);
    if (!list) byStatement.set(key, (list = []));
    list.push(child);
  }
  const marked = node.span.attributes?.['flowscope.db.repeated_statement'];
  const markedKey = marked ? normalizeStatement(marked) : null;
  const groups = [];
  for (const [statement, members] of byStatement) {
    const isMarked = markedKey != null && (statement === markedKey || members.length === Number(node.span.attributes?.['flowscope.db.repeated_count']));
    if (members.length >= GROUP_MIN || (isMarked && members.length >= 2)) {
      let start = Infinity, end = -Infinity, total = 0;
      for (const m of members) {
        if (Number.isFinite(m.start)) { start = Math.min(start, m.start); end = Math.max(end, m.end); }
        total += m.dur;
      }
      groups.push({
        key: `${node.span.spanId}|${statement}`,
        parent: node,
        statement: marked && isMarked ? marked : statement,
        members,
        memberSet: new Set(members),
        start,
        end,
        totalMs: total,
        error: members.some((m) => m.span.status === 'error'),
        nPlusOne: isMarked || members.length >= GROUP_MIN,
      });
    }
  }
  return groups;
}

// Log entries and exceptions recorded on a span, shown as rows under it.
export function inlineEvents(span) {
  const evs = Array.isArray(span.events) ? span.events : [];
  return evs.filter((ev) => ev && (String(ev.name).toLowerCase() === 'exception' || ev.attributes?.['log.level'] != null))
    .sort((a, b) => (parseTime(a.timestamp) || 0) - (parseTime(b.timestamp) || 0));
}

// Rows: { node } a span, { node, ev } an event under it, { group, depth } a
// folded repeated statement. `collapsed` holds span ids whose children are
// hidden; `openGroups` the keys of groups shown expanded.
export function buildRows(tree, collapsed, openGroups) {
  const rows = [];
  const visit = (node, guard) => {
    if (guard.has(node)) return;
    guard.add(node);
    rows.push({ node });
    for (const ev of inlineEvents(node.span)) rows.push({ node, ev });
    if (collapsed.has(node.span.spanId) || !node.children.length) return;
    const groups = repeatedGroups(node);
    const groupOf = new Map();
    for (const g of groups) for (const m of g.members) groupOf.set(m, g);
    const emitted = new Set();
    for (const child of node.children) {
      const g = groupOf.get(child);
      if (!g) { visit(child, guard); continue; }
      if (emitted.has(g)) { if (openGroups.has(g.key)) visit(child, guard); continue; }
      emitted.add(g);
      rows.push({ group: g, depth: node.depth + 1 });
      if (openGroups.has(g.key)) visit(child, guard);
      else for (const m of g.members) guard.add(m);
    }
  };
  const guard = new Set();
  for (const root of tree.roots) visit(root, guard);
  return rows;
}

// The row index of a span, or -1 (hidden under a collapsed span or group).
export function rowIndexOf(rows, spanId) {
  return rows.findIndex((r) => !r.ev && !r.group && r.node.span.spanId === spanId);
}

export function indentOf(depth) {
  return Math.min(depth, MAX_INDENT_DEPTH);
}
