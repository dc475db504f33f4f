// Replay: steps through one trace span by span, or through a window of history
// (many traces interleaved in their real start order). The flow map and the
// waterfall highlight the current step. Play/pause at 0.25x … 5x.
import { h } from './dom.js';
import { queryTraces } from './api.js';
import { FlowMap } from './flow-map.js';
import { TraceView } from './trace-view.js';
import { source, loadTraces, mapFromSpans, nodeOf, summarize, REPLAY_SPEEDS } from './model.js';
import { formatDuration, formatOffset, formatClock, formatCount, parseTime } from './format.js';

export const SPEEDS = REPLAY_SPEEDS;
export const STEP_MS_AT_1X = 1000; // one span per second at 1x
const MAX_WINDOW_TRACES = 100;
const LOG_CONTEXT = 40;

export class ReplayView {
  constructor(container, { onState, onOpenTrace } = {}) {
    this.el = container;
    this.onState = onState;
    this.onOpenTrace = onOpenTrace;
    this.steps = [];
    this.index = -1;
    this.speed = 1;
    this.playing = false;
    this.timer = 0;
    this.traces = new Map();
    this.label = '';
    this.spec = null;
    this.#build();
  }

  #build() {
    this.prevBtn = h('button', { class: 'btn', type: 'button', id: 'replay-prev', title: 'Previous step (←)', onclick: () => this.step(-1) }, '‹ Prev');
    this.playBtn = h('button', { class: 'btn btn-primary', type: 'button', id: 'replay-play', title: 'Play / pause (Space)', 'aria-pressed': 'false', onclick: () => this.toggle() }, '▶ Play');
    this.nextBtn = h('button', { class: 'btn', type: 'button', id: 'replay-next', title: 'Next step (→)', onclick: () => this.step(1) }, 'Next ›');
    this.speedGroup = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Playback speed' },
      SPEEDS.map((s) => h('button', {
        class: 'seg', type: 'button', role: 'radio', 'aria-checked': String(s === this.speed), dataset: { speed: String(s) },
        title: `${s}x — ${formatDuration(STEP_MS_AT_1X / s)} per step`, onclick: () => this.setSpeed(s),
      }, `${s}x`)));
    this.counter = h('span', { class: 'replay-counter', id: 'replay-counter', 'aria-live': 'polite', text: '0 / 0' });
    this.scrub = h('input', { type: 'range', class: 'replay-scrub', min: '0', max: '0', value: '0', 'aria-label': 'Replay position' });
    this.scrub.addEventListener('input', () => this.go(Number(this.scrub.value)));
    this.clock = h('span', { class: 'replay-clock mono', text: '' });

    const now = new Date();
    this.fromInput = h('input', { type: 'datetime-local', step: '1', 'aria-label': 'Window start' });
    this.toInput = h('input', { type: 'datetime-local', step: '1', 'aria-label': 'Window end' });
    this.fromInput.value = toLocalInput(new Date(now.getTime() - 5 * 60000));
    this.toInput.value = toLocalInput(now);
    const windowForm = h('form', { class: 'replay-window' },
      h('span', { class: 'muted small', text: 'History window' }), this.fromInput, h('span', { class: 'muted', text: '→' }), this.toInput,
      h('button', { class: 'btn btn-small', type: 'submit' }, 'Replay window'));
    windowForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const from = new Date(this.fromInput.value), to = new Date(this.toInput.value);
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) { this.#message('Choose a window whose end is after its start.'); return; }
      this.loadWindow(from.toISOString(), to.toISOString());
    });

    this.title = h('h2', { class: 'replay-title', text: 'Replay' });
    this.note = h('p', { class: 'muted small replay-note', role: 'status' });
    this.mapHost = h('div', { class: 'replay-map' });
    this.map = new FlowMap(this.mapHost, { interactive: true });
    this.map.autoFit = true;
    this.log = h('ol', { class: 'replay-log', 'aria-label': 'Steps', tabindex: '0' });
    this.log.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-index]');
      if (li) this.go(Number(li.dataset.index));
    });
    this.viewHost = h('div', { class: 'replay-trace' });
    this.traceView = new TraceView(this.viewHost, { compact: true });
    this.traceView.showEmpty('Open a trace and press Replay, or choose a history window above.');

    this.el.replaceChildren(
      h('div', { class: 'replay-bar' },
        this.title,
        h('div', { class: 'replay-controls' }, this.prevBtn, this.playBtn, this.nextBtn, this.speedGroup, this.counter, this.clock),
        this.scrub,
        windowForm),
      this.note,
      h('div', { class: 'replay-body' }, this.mapHost, this.log),
      this.viewHost);
    this.#renderControls();
  }

  #message(text) { this.note.textContent = text; }

  async loadTrace(traceId) {
    this.pause();
    this.spec = { trace: traceId };
    this.#message('Loading trace…');
    try {
      const data = await source.loadTrace(traceId);
      this.setTraces([data], `Trace ${String(data.summary?.name ?? traceId)}`);
    } catch (err) {
      this.#message(`Could not load the trace: ${err?.message || err}`);
    }
  }

  async loadWindow(fromIso, toIso) {
    this.pause();
    this.spec = { from: fromIso, to: toIso };
    this.#message('Loading the traces of the window…');
    try {
      let ids;
      if (source.isImported) {
        const a = Date.parse(fromIso), b = Date.parse(toIso);
        ids = [...source.imported.values()].filter((t) => { const s = Date.parse(t.summary.startTime); return s >= a && s <= b; }).map((t) => t.traceId);
      } else {
        const page = await queryTraces({ from: fromIso, to: toIso, limit: MAX_WINDOW_TRACES });
        ids = page.traces.map((t) => t.traceId);
      }
      ids = ids.slice(0, MAX_WINDOW_TRACES);
      const traces = await loadTraces(ids, { onProgress: (d, n) => this.#message(`Loading traces… ${d} / ${n}`) });
      if (!traces.length) {
        this.setTraces([], '');
        this.#message('No traces in this window.');
        return;
      }
      this.setTraces(traces, `Window ${formatClock(Date.parse(fromIso))} → ${formatClock(Date.parse(toIso))} · ${traces.length} traces`);
    } catch (err) {
      this.#message(`Could not load the window: ${err?.message || err}`);
    }
  }

  setTraces(traces, label) {
    this.traces = new Map(traces.map((t) => [t.traceId, { ...t, summary: t.summary ?? summarize(t.traceId, t.spans) }]));
    this.label = label;
    this.title.textContent = label || 'Replay';
    const steps = [];
    for (const t of this.traces.values()) {
      for (const span of t.spans || []) steps.push({ trace: t, span, t: parseTime(span.startTime) });
    }
    // Real start order; a parent that starts at the same instant goes first.
    const depth = new Map();
    for (const t of this.traces.values()) {
      const byId = new Map((t.spans || []).map((s) => [s.spanId, s]));
      for (const s of t.spans || []) {
        let d = 0;
        for (let p = byId.get(s.parentSpanId); p && d < 500; p = byId.get(p.parentSpanId)) d++;
        depth.set(s, d);
      }
    }
    steps.sort((a, b) => a.t - b.t || depth.get(a.span) - depth.get(b.span));
    this.steps = steps;
    this.t0 = steps.length ? steps[0].t : 0;
    this.spanNode = new Map(steps.map((s) => [s.span.spanId, nodeOf(s.span)]));
    this.map.setData(mapFromSpans(steps.map((s) => s.span)));
    this.currentTraceId = null;
    this.#message(steps.length ? `${formatCount(steps.length)} steps. ← → to step, Space to play, Home/End to jump.` : '');
    this.index = -1;
    this.scrub.max = String(Math.max(steps.length - 1, 0));
    if (steps.length) this.go(0);
    else { this.traceView.showEmpty('Nothing to replay.'); this.#renderControls(); this.#renderLog(); }
    this.onState?.();
  }

  go(i) {
    if (!this.steps.length) return;
    i = Math.max(0, Math.min(this.steps.length - 1, i));
    this.index = i;
    const step = this.steps[i];
    const trace = step.trace;
    if (this.currentTraceId !== trace.traceId) {
      this.currentTraceId = trace.traceId;
      this.traceView.setData(trace);
    }
    const done = new Set();
    for (let k = 0; k <= i; k++) if (this.steps[k].trace === trace) done.add(this.steps[k].span.spanId);
    this.traceView.highlight(step.span.spanId, done);
    const nodeId = this.spanNode.get(step.span.spanId);
    const parentNode = step.span.parentSpanId ? this.spanNode.get(step.span.parentSpanId) : null;
    const edge = parentNode && parentNode !== nodeId ? { source: parentNode, target: nodeId } : null;
    this.map.highlight(new Set([nodeId, parentNode].filter(Boolean)), edge);
    if (edge) this.map.bubble(edge.source, edge.target, { error: step.span.status === 'error', duration: Math.min(900, (STEP_MS_AT_1X / this.speed) * 0.9) });
    this.#renderControls();
    this.#renderLog();
  }

  step(delta) {
    this.pause();
    this.go(this.index + delta);
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  play() {
    if (!this.steps.length) return;
    if (this.index >= this.steps.length - 1) this.go(0);
    this.playing = true;
    this.#schedule();
    this.#renderControls();
  }

  pause() {
    this.playing = false;
    clearTimeout(this.timer);
    this.timer = 0;
    this.#renderControls();
  }

  #schedule() {
    clearTimeout(this.timer);
    if (!this.playing) return;
    this.timer = setTimeout(() => {
      if (!this.playing) return;
      if (this.index >= this.steps.length - 1) { this.pause(); return; }
      this.go(this.index + 1);
      this.#schedule();
    }, STEP_MS_AT_1X / this.speed);
  }

  setSpeed(s) {
    if (!SPEEDS.includes(s)) return;
    this.speed = s;
    if (this.playing) this.#schedule();
    this.#renderControls();
    this.onState?.();
  }

  handleKey(e) {
    switch (e.key) {
      case 'ArrowRight': this.step(1); return true;
      case 'ArrowLeft': this.step(-1); return true;
      case ' ': case 'k': this.toggle(); return true;
      case 'Home': this.pause(); this.go(0); return true;
      case 'End': this.pause(); this.go(this.steps.length - 1); return true;
      default: return this.map.handleKey(e);
    }
  }

  deactivate() { this.pause(); }

  #renderControls() {
    const n = this.steps.length;
    this.counter.textContent = `${n ? this.index + 1 : 0} / ${n}`;
    this.el.dataset.step = String(this.index);
    this.el.dataset.playing = String(this.playing);
    this.playBtn.textContent = this.playing ? '❚❚ Pause' : '▶ Play';
    this.playBtn.setAttribute('aria-pressed', String(this.playing));
    this.prevBtn.disabled = !n || this.index <= 0;
    this.nextBtn.disabled = !n || this.index >= n - 1;
    this.playBtn.disabled = !n;
    this.scrub.value = String(Math.max(this.index, 0));
    for (const b of this.speedGroup.children) b.setAttribute('aria-checked', String(Number(b.dataset.speed) === this.speed));
    const step = this.steps[this.index];
    this.clock.textContent = step ? `${formatOffset(step.t - this.t0)} · ${formatClock(step.t)}` : '';
  }

  // The step log shows a window of steps around the current one.
  #renderLog() {
    const n = this.steps.length;
    const from = Math.max(0, this.index - LOG_CONTEXT), to = Math.min(n, this.index + LOG_CONTEXT + 1);
    const multi = this.traces.size > 1;
    const items = [];
    for (let i = from; i < to; i++) {
      const st = this.steps[i];
      const li = h('li', { dataset: { index: String(i) }, class: i === this.index ? 'current' : i < this.index ? 'done' : null },
        h('span', { class: 'log-off mono', text: formatOffset(st.t - this.t0) }),
        h('span', { class: 'tag', dataset: { component: st.span.component || 'custom' }, text: st.span.component || 'custom' }),
        multi ? h('span', { class: 'log-trace', text: String(st.trace.summary?.name ?? '').slice(0, 40) }) : null,
        h('span', { class: 'log-name', text: String(st.span.name ?? '') }),
        h('span', { class: 'log-dur mono', text: formatDuration(Number(st.span.durationMs) || 0) }));
      if (st.span.status === 'error') li.classList.add('is-error');
      if (i === this.index) li.setAttribute('aria-current', 'step');
      items.push(li);
    }
    this.log.replaceChildren(...items);
    this.log.querySelector('li.current')?.scrollIntoView({ block: 'nearest' });
  }
}

function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
