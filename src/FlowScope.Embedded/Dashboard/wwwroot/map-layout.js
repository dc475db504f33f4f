// What the flow map draws of a component graph, and where: the middleware chain
// folded into one pipeline node (expanded on demand into a vertical chain), an
// action's inner MVC stages folded into it, an endpoint and its only controller
// action drawn as one node; then a layered layout, left to right.

export const NODE_W = 192;
export const NODE_H = 46;
export const COL_GAP = 52;
export const ROW_GAP = 12;
export const STACK_GAP = 18;
export const PIPELINE_ID = 'pipeline:middleware';

const RANK = ['simulator', 'server', 'middleware', 'endpoint', 'controller', 'signalr', 'grpc', 'worker', 'queue', 'custom', 'http-client', 'database'];
const rank = (n) => {
  const r = RANK.indexOf(n.component);
  return r < 0 ? RANK.length : r;
};

function mergeEdge(into, e) {
  const total = into.count + e.count;
  into.p50Ms = total ? (into.p50Ms * into.count + e.p50Ms * e.count) / total : 0;
  into.p95Ms = Math.max(into.p95Ms, e.p95Ms);
  into.count = total;
  into.errorCount += e.errorCount;
}

// The graph as drawn. `expand`: draw every middleware and MVC stage.
// Returns { nodes, edges, alias (original id -> drawn id), stacks (drawn ids drawn as one vertical chain) }.
export function foldMap(map, { expand = false } = {}) {
  const nodes = new Map((map.nodes || []).map((n) => [n.id, { ...n }]));
  let edges = (map.edges || []).filter((e) => e.source !== e.target && nodes.has(e.source) && nodes.has(e.target)).map((e) => ({ ...e }));
  const alias = new Map([...nodes.keys()].map((id) => [id, id]));
  const incoming = (id) => edges.filter((e) => e.target === id);
  const outgoing = (id) => edges.filter((e) => e.source === id);

  // Removes a node, its callers calling what it called instead (counts shared out by how often each called it).
  const dissolve = (id) => {
    const ins = incoming(id), outs = outgoing(id);
    const total = ins.reduce((n, e) => n + e.count, 0) || 1;
    for (const [orig, shown] of alias) if (shown === id) alias.set(orig, ins[0]?.source ?? id);
    const merged = new Map(edges.filter((e) => e.source !== id && e.target !== id).map((e) => [`${e.source}\u0000${e.target}`, e]));
    for (const i of ins) {
      for (const o of outs) {
        if (i.source === o.target) continue;
        const share = { ...o, source: i.source, count: Math.max(1, Math.round((o.count * i.count) / total)), errorCount: Math.round((o.errorCount * i.count) / total) };
        const key = `${share.source}\u0000${share.target}`;
        const prev = merged.get(key);
        if (prev) mergeEdge(prev, share);
        else merged.set(key, share);
      }
    }
    edges = [...merged.values()];
    nodes.delete(id);
  };

  const rewire = (from, to) => {
    for (const [orig, shown] of alias) if (shown === from) alias.set(orig, to);
    const merged = new Map();
    for (const e of edges) {
      const s = e.source === from ? to : e.source, t = e.target === from ? to : e.target;
      if (s === t) continue;
      const key = `${s}\u0000${t}`;
      const prev = merged.get(key);
      if (prev) mergeEdge(prev, e);
      else merged.set(key, { ...e, source: s, target: t });
    }
    edges = [...merged.values()];
    nodes.delete(from);
  };

  const middleware = [...nodes.values()].filter((n) => n.component === 'middleware');
  const chain = chainOrder(middleware, edges);
  const stacks = new Map();
  if (middleware.length >= 2) {
    if (expand) {
      stacks.set(PIPELINE_ID, chain.map((n) => n.id));
    } else {
      const outer = chain[0];
      nodes.set(PIPELINE_ID, {
        id: PIPELINE_ID, component: 'middleware', name: `pipeline · ${middleware.length} middleware`,
        count: outer.count, errorCount: Math.max(...middleware.map((n) => n.errorCount || 0)), p50Ms: outer.p50Ms, p95Ms: outer.p95Ms,
        ratePerSecond: outer.ratePerSecond, selfTimeP50Ms: middleware.reduce((s, n) => s + (n.selfTimeP50Ms || 0), 0),
        folded: chain.map((n) => ({ ...n })),
      });
      for (const n of chain) rewire(n.id, PIPELINE_ID);
    }
  }

  if (!expand) {
    // An action's inner stages (action method, model binding, result): controller nodes called only by controller nodes.
    for (let changed = true; changed;) {
      changed = false;
      for (const n of [...nodes.values()]) {
        if (n.component !== 'controller') continue;
        const callers = incoming(n.id);
        if (!callers.length || !callers.every((e) => nodes.get(e.source)?.component === 'controller')) continue;
        // One stage node may serve many actions (every action's "model binding"): each caller keeps it as its own.
        for (const e of callers) {
          const parent = nodes.get(e.source);
          if (parent && !(parent.inner ??= []).includes(n.name)) parent.inner.push(n.name);
        }
        dissolve(n.id);
        changed = true;
      }
    }
    // An endpoint whose only call is one controller action that nothing else calls: one node.
    for (const n of [...nodes.values()]) {
      if (n.component !== 'endpoint') continue;
      const out = outgoing(n.id);
      if (out.length !== 1) continue;
      const action = nodes.get(out[0].target);
      if (action?.component !== 'controller' || incoming(action.id).length !== 1) continue;
      action.route = n.name;
      rewire(n.id, action.id);
    }
  }
  return { nodes: [...nodes.values()], edges, alias, stacks };
}

// Middleware in call order: from the one no middleware calls, following the calls.
function chainOrder(middleware, edges) {
  const ids = new Set(middleware.map((n) => n.id));
  const next = new Map();
  const called = new Set();
  for (const e of edges) {
    if (ids.has(e.source) && ids.has(e.target)) {
      const prev = next.get(e.source);
      if (!prev || e.count > prev.count) next.set(e.source, e);
      called.add(e.target);
    }
  }
  const byId = new Map(middleware.map((n) => [n.id, n]));
  const heads = middleware.filter((n) => !called.has(n.id)).sort((a, b) => (b.count || 0) - (a.count || 0));
  const order = [];
  const seen = new Set();
  for (const head of heads.length ? heads : [middleware[0]]) {
    for (let n = head; n && !seen.has(n.id); n = byId.get(next.get(n.id)?.target)) {
      seen.add(n.id);
      order.push(n);
    }
  }
  for (const n of middleware) if (!seen.has(n.id)) order.push(n);
  return order;
}

// Layered layout, left to right: longest-path layers (cycles broken where a DFS
// meets them), crossings reduced by barycentre sweeps, each node then placed
// near its neighbours. A stack (expanded pipeline) is one tall node of a layer.
export function layout(nodes, edges, stacks = new Map()) {
  const stackOf = new Map();
  for (const [sid, members] of stacks) for (const m of members) stackOf.set(m, sid);
  const unit = (id) => stackOf.get(id) ?? id;
  const units = new Map();
  for (const n of nodes) {
    const u = unit(n.id);
    if (!units.has(u)) units.set(u, { id: u, rank: rank(n), count: n.count || 0, name: String(n.name), size: stacks.get(u)?.length ?? 1 });
  }
  const out = new Map([...units.keys()].map((id) => [id, new Set()]));
  const inc = new Map([...units.keys()].map((id) => [id, new Set()]));
  for (const e of edges) {
    const a = unit(e.source), b = unit(e.target);
    if (a === b || !units.has(a) || !units.has(b)) continue;
    out.get(a).add(b);
    inc.get(b).add(a);
  }
  // Break cycles: drop the edges a DFS from the roots meets as back edges.
  const state = new Map();
  const forward = new Map([...units.keys()].map((id) => [id, []]));
  const dfs = (id) => {
    state.set(id, 1);
    for (const t of [...out.get(id)].sort((x, y) => units.get(x).rank - units.get(y).rank)) {
      if (state.get(t) === 1) continue;
      forward.get(id).push(t);
      if (!state.has(t)) dfs(t);
    }
    state.set(id, 2);
  };
  const order = [...units.values()].sort((a, b) => (inc.get(a.id).size ? 1 : 0) - (inc.get(b.id).size ? 1 : 0) || a.rank - b.rank || b.count - a.count);
  for (const u of order) if (!state.has(u.id)) dfs(u.id);
  // Longest path from the sources.
  const layer = new Map();
  const indeg = new Map([...units.keys()].map((id) => [id, 0]));
  for (const ts of forward.values()) for (const t of ts) indeg.set(t, indeg.get(t) + 1);
  const queue = [...units.keys()].filter((id) => indeg.get(id) === 0);
  for (const id of queue) layer.set(id, 0);
  while (queue.length) {
    const id = queue.shift();
    for (const t of forward.get(id)) {
      layer.set(t, Math.max(layer.get(t) ?? 0, layer.get(id) + 1));
      indeg.set(t, indeg.get(t) - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  // A source moves right, next to the first node it calls (a worker that nothing calls sits beside its queue).
  for (const id of units.keys()) {
    if (inc.get(id).size || !forward.get(id).length) continue;
    layer.set(id, Math.max(layer.get(id) ?? 0, Math.min(...forward.get(id).map((t) => layer.get(t) ?? 0)) - 1));
  }
  const columns = [];
  for (const id of units.keys()) (columns[Math.min(layer.get(id) ?? 0, 60)] ??= []).push(id);
  const cols = columns.filter(Boolean);
  // Crossing reduction: barycentres against the previous column, then the next, a few times.
  const pos = new Map();
  const place = (col) => col.forEach((id, i) => pos.set(id, i));
  cols.forEach((col) => { col.sort((a, b) => units.get(a).rank - units.get(b).rank || units.get(b).count - units.get(a).count || units.get(a).name.localeCompare(units.get(b).name)); place(col); });
  const bary = (id, neigh) => {
    const ps = [...neigh.get(id)].filter((p) => pos.has(p)).map((p) => pos.get(p));
    return ps.length ? ps.reduce((s, p) => s + p, 0) / ps.length : pos.get(id);
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const seq = down ? cols.slice(1) : cols.slice(0, -1).reverse();
    for (const col of seq) {
      const key = new Map(col.map((id) => [id, bary(id, down ? inc : out)]));
      col.sort((a, b) => key.get(a) - key.get(b) || units.get(a).rank - units.get(b).rank);
      place(col);
    }
  }
  // Coordinates: each column centred, units stacked with their own heights.
  const heightOf = (id) => {
    const size = units.get(id).size;
    return size * NODE_H + (size - 1) * STACK_GAP;
  };
  const colHeight = (col) => col.reduce((s, id) => s + heightOf(id), 0) + (col.length - 1) * ROW_GAP;
  const tallest = Math.max(NODE_H, ...cols.map(colHeight));
  const positions = new Map();
  cols.forEach((col, ci) => {
    let y = (tallest - colHeight(col)) / 2;
    for (const id of col) {
      const x = ci * (NODE_W + COL_GAP);
      const members = stacks.get(id);
      if (members) members.forEach((m, k) => positions.set(m, { x, y: y + k * (NODE_H + STACK_GAP) }));
      else positions.set(id, { x, y });
      y += heightOf(id) + ROW_GAP;
    }
  });
  return { positions, bounds: { w: Math.max(1, cols.length) * (NODE_W + COL_GAP) - COL_GAP, h: tallest } };
}
