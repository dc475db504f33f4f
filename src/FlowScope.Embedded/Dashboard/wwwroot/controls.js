// Controls view: fault injection and simulators (operator actions). Loaded on
// first open with import(). Every change sends the antiforgery header that
// api/operator hands out; a refused change shows the server's problem details
// next to the control that failed. Data refreshes every 2 s while the view is
// visible.
import { h, componentTag } from './dom.js';
import { apiUrl, problemError } from './api.js';
import { formatCount, formatDuration, formatClock, formatUptime, parseTime } from './format.js';

const REFRESH_MS = 2000;
const KINDS = ['middleware', 'endpoint', 'queue', 'worker'];
const MIN_RATE = 0.01;
const UNITS = { seconds: 1, minutes: 60, hits: 0 };
// Maps a problem's `parameter` to the form field to mark.
const FIELD_OF = { kind: 'target', component: 'target', delayMs: 'delay', maxDelayMs: 'delayMax', failureRate: 'failure', durationSeconds: 'limit', maxHits: 'limit' };

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v) => (v == null ? '' : String(v));
const clock = (ms) => formatClock(ms).slice(0, 8); // HH:MM:SS
// A reason from the API as the start of a sentence (without its final full stop).
const clause = (v) => str(v).trim().replace(/[.\s]+$/, '');

// The message shown for a failed call: the problem's title and detail.
export function describeError(err) {
  if (err?.name === 'HttpError') {
    const parts = [err.title, err.message !== err.title ? err.message : null].filter(Boolean);
    const text = parts.join(' — ') || `HTTP ${err.status}`;
    return err.parameter ? `${text} (${err.parameter})` : text;
  }
  return `Request failed: ${err?.message || err}`;
}

function isAntiforgeryError(err) {
  return err?.status === 400 && /antiforgery/i.test(`${err.title ?? ''} ${err.message ?? ''}`);
}

// The operator API: GET api/operator once per opening (permission, the
// antiforgery token and its cookie); mutations carry the token and are retried
// once with a fresh one when the server says it is missing or invalid.
class OperatorApi {
  constructor() {
    this.info = null;
    this.skewMs = 0; // server clock minus browser clock: api/faults' "now", else the Date header
  }

  async #fetch(method, path, body) {
    const headers = { Accept: 'application/json' };
    const af = this.info?.antiforgery;
    if (method !== 'GET' && af && typeof af.headerName === 'string' && af.headerName && typeof af.token === 'string') {
      headers[af.headerName] = af.token;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const date = Date.parse(res.headers.get('Date') ?? '');
    if (Number.isFinite(date)) {
      const skew = date - Date.now();
      this.skewMs = Math.abs(skew) > 2000 ? skew : 0; // the header has 1 s resolution
    }
    if (!res.ok) throw problemError(res, await res.json().catch(() => null));
    if (res.status === 204) return null;
    return res.json().catch(() => null);
  }

  get(path) { return this.#fetch('GET', path); }

  async loadOperator() {
    this.info = await this.get('api/operator');
    return this.info;
  }

  async send(method, path, body) {
    if (!this.info) await this.loadOperator();
    try {
      return await this.#fetch(method, path, body);
    } catch (err) {
      if (!isAntiforgeryError(err)) throw err;
      await this.loadOperator();
      return this.#fetch(method, path, body);
    }
  }
}

export class ControlsView {
  constructor(container, { onShowTraces } = {}) {
    this.el = container;
    this.onShowTraces = onShowTraces;
    this.api = new OperatorApi();
    this.active = false;
    this.timer = 0;
    this.loading = false;
    this.operator = null;
    this.operatorError = null;
    this.faults = null;
    this.faultsError = null;
    this.sims = null;
    this.simsError = null;
    this.targetsKey = '';
    this.faultRows = new Map(); // id -> row parts
    this.simRows = new Map(); // name -> row parts
    this.busy = false;
    this.#build();
    document.addEventListener('visibilitychange', () => {
      if (!this.active) return;
      if (document.hidden) this.#stopTimer();
      else this.refresh();
    });
  }

  activate() {
    if (this.active) return;
    this.active = true;
    this.refresh({ operator: true });
  }

  deactivate() {
    this.active = false;
    this.#stopTimer();
  }

  #stopTimer() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  #schedule() {
    this.#stopTimer();
    if (this.active && !document.hidden) this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  // ---- Layout ------------------------------------------------------------------

  #build() {
    this.accessEl = h('span', { class: 'access', id: 'controls-access', role: 'status' });
    this.updatedEl = h('span', { class: 'muted small', id: 'controls-updated' });

    // Fault injection
    this.f = {
      target: h('select', { id: 'fi-target', name: 'target', 'aria-label': 'Component to inject into', required: true }),
      delay: h('input', { id: 'fi-delay', name: 'delay', type: 'number', min: '0', step: '1', placeholder: '0', class: 'num', 'aria-label': 'Delay in milliseconds' }),
      delayMax: h('input', { id: 'fi-delay-max', name: 'delayMax', type: 'number', min: '0', step: '1', placeholder: 'fixed', class: 'num', 'aria-label': 'Maximum delay in milliseconds (random range)' }),
      failure: h('input', { id: 'fi-failure', name: 'failure', type: 'number', min: '0', max: '100', step: 'any', placeholder: '0', class: 'num', 'aria-label': 'Failure rate in percent' }),
      limit: h('input', { id: 'fi-limit', name: 'limit', type: 'number', min: '1', step: '1', value: '5', class: 'num', 'aria-label': 'Stop after' }),
      unit: h('select', { id: 'fi-unit', name: 'unit', 'aria-label': 'Unit' },
        h('option', { value: 'seconds', text: 'seconds' }), h('option', { value: 'minutes', text: 'minutes', selected: true }), h('option', { value: 'hits', text: 'hits' })),
      submit: h('button', { id: 'fi-submit', class: 'btn btn-primary', type: 'submit' }, '⚡ Inject'),
      error: h('span', { id: 'fi-error', class: 'ctl-error', role: 'alert' }),
    };
    const f = this.f;
    this.fieldset = h('fieldset', { class: 'fi-fields' },
      h('legend', { class: 'visually-hidden', text: 'New injection' }),
      field('Target', f.target, 'grow'),
      field('Delay (ms)', h('span', { class: 'field-row' }, f.delay, h('span', { class: 'muted', text: 'to' }), f.delayMax),
        null, 'A second value makes it a random delay in that range.'),
      field('Failure rate (%)', f.failure),
      field('Stop after', h('span', { class: 'field-row' }, f.limit, f.unit)),
      h('div', { class: 'field field-submit' }, h('span', { class: 'field-label', 'aria-hidden': 'true', text: '\u00a0' }), f.submit));
    this.form = h('form', { class: 'fi-form', id: 'fi-form', autocomplete: 'off', novalidate: true }, this.fieldset, h('p', { class: 'fi-error-line' }, f.error));
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.#inject(); });
    this.form.addEventListener('input', (e) => { e.target.removeAttribute?.('aria-invalid'); });

    this.faultNote = h('p', { class: 'panel-note', id: 'fi-note', role: 'status', hidden: true });
    this.stopAll = h('button', { id: 'fi-stop-all', class: 'btn btn-small', type: 'button', onclick: () => this.#stopAll() }, 'Stop all');
    this.stopAllError = h('span', { class: 'ctl-error', role: 'alert' });
    this.faultBody = h('tbody');
    this.faultTable = h('table', { class: 'ctl-table', id: 'fi-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', text: 'Component' }), h('th', { scope: 'col', text: 'Injects' }),
        h('th', { scope: 'col', class: 'num', text: 'Hits' }), h('th', { scope: 'col', class: 'num', text: 'Delays' }),
        h('th', { scope: 'col', class: 'num', text: 'Failures' }), h('th', { scope: 'col', text: 'Time left' }),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
      this.faultBody);
    this.faultEmpty = h('p', { class: 'muted small ctl-empty', id: 'fi-empty', text: 'No active injections.' });
    this.faultError = h('p', { class: 'ctl-error', role: 'alert', hidden: true });

    const faultPanel = h('section', { class: 'panel', id: 'panel-faults', 'aria-labelledby': 'panel-faults-title' },
      h('header', { class: 'panel-head' },
        h('h3', { id: 'panel-faults-title', text: 'Fault injection' }),
        h('span', { class: 'muted small', text: 'Make one component slow or failing on purpose. Spans it touches are marked ⚡ injected.' }),
        h('span', { class: 'panel-actions' }, this.stopAllError, this.stopAll)),
      h('div', { class: 'panel-body' }, this.faultNote, this.faultError, this.form,
        h('h4', { text: 'Active injections' }), this.faultTable, this.faultEmpty));

    // Simulators
    this.simNote = h('p', { class: 'panel-note', id: 'sim-note', role: 'status', hidden: true });
    this.simError = h('p', { class: 'ctl-error', role: 'alert', hidden: true });
    this.simBody = h('tbody');
    this.simTable = h('table', { class: 'ctl-table', id: 'sim-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', text: 'Simulator' }), h('th', { scope: 'col', text: 'State' }),
        h('th', { scope: 'col', text: 'Rate (runs/s)' }), h('th', { scope: 'col', class: 'num', text: 'Runs' }),
        h('th', { scope: 'col', class: 'num', text: 'Failures' }), h('th', { scope: 'col', text: 'Last run' }),
        h('th', { scope: 'col', text: 'Last error' }),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
      this.simBody);
    this.simEmpty = h('div', { class: 'ctl-empty', id: 'sim-empty', hidden: true },
      h('p', { class: 'muted small' }, 'No simulators registered. An app registers one with ',
        h('code', { text: 'builder.Services.AddFlowScope().AddSimulator("name", (services, ct) => …)' }),
        '; it then shows up here to start, stop and set its rate. Each run is traced as ',
        h('code', { text: 'simulate {name}' }), ' (component ', componentTag('simulator'), ').'));
    const simPanel = h('section', { class: 'panel', id: 'panel-sims', 'aria-labelledby': 'panel-sims-title' },
      h('header', { class: 'panel-head' },
        h('h3', { id: 'panel-sims-title', text: 'Simulators' }),
        h('span', { class: 'muted small', text: 'Simulated traffic registered by the app.' })),
      h('div', { class: 'panel-body' }, this.simNote, this.simError, this.simTable, this.simEmpty));

    this.el.replaceChildren(
      h('div', { class: 'controls-bar' }, h('h2', { text: 'Controls' }), this.accessEl, this.updatedEl),
      h('div', { class: 'controls-body' }, faultPanel, simPanel));
    this.#render();
  }

  // ---- Data ----------------------------------------------------------------------

  async refresh({ operator = false } = {}) {
    if (this.loading) { this.again = true; this.againOperator ||= operator; return; }
    this.loading = true;
    this.#stopTimer();
    try {
      if (operator || !this.operator) {
        try {
          this.operator = await this.api.loadOperator();
          this.operatorError = null;
        } catch (err) {
          this.operatorError = err;
          this.operator = null;
        }
      }
      const [faults, sims] = await Promise.allSettled([this.api.get('api/faults'), this.api.get('api/simulators')]);
      this.faults = faults.status === 'fulfilled' ? faults.value : this.faults;
      // The server says what time it is: count time left on its clock, to the millisecond.
      const serverNow = Date.parse(this.faults?.now ?? '');
      if (faults.status === 'fulfilled' && Number.isFinite(serverNow)) this.api.skewMs = serverNow - Date.now();
      this.faultsError = faults.status === 'rejected' ? faults.reason : null;
      this.sims = sims.status === 'fulfilled' ? sims.value : this.sims;
      this.simsError = sims.status === 'rejected' ? sims.reason : null;
      this.updatedAt = Date.now();
      this.#render();
    } finally {
      this.loading = false;
      const again = this.again, againOperator = this.againOperator;
      this.again = this.againOperator = false;
      if (again && this.active) this.refresh({ operator: againOperator });
      else this.#schedule();
    }
  }

  get canOperate() { return !!this.operator?.canOperate; }

  get faultsEnabled() {
    return !!this.operator?.faultInjection && this.faults?.enabled !== false && !this.faultsError;
  }

  // ---- Rendering ---------------------------------------------------------------------

  #render() {
    const op = this.operator;
    const reason = str(op?.reason);
    if (this.operatorError) {
      this.accessEl.dataset.state = 'error';
      this.accessEl.textContent = this.operatorError.status === 404
        ? 'This server has no operator controls (api/operator not found).'
        : `Operator status unavailable: ${describeError(this.operatorError)}`;
    } else if (op) {
      this.accessEl.dataset.state = op.canOperate ? 'operator' : 'read-only';
      this.accessEl.textContent = op.canOperate ? 'operator' : `read-only${reason ? ` — ${reason}` : ''}`;
      this.accessEl.title = op.canOperate ? 'You may change injections and simulators.' : reason;
    } else {
      this.accessEl.dataset.state = 'loading';
      this.accessEl.textContent = 'checking permissions…';
    }
    this.updatedEl.textContent = this.updatedAt ? `updated ${clock(this.updatedAt)} · every 2 s` : '';
    this.#renderFaults();
    this.#renderSims();
  }

  #renderFaults() {
    const op = this.operator;
    const data = this.faults;
    // Why the form is off, in plain words (the API's reason first).
    const notes = [];
    if (this.operatorError) notes.push('Operator controls are not available from this server.');
    else if ((op && !op.faultInjection) || data?.enabled === false) {
      notes.push('Fault injection is disabled on this server. It is off by default; enable it with the option '
        + 'FlowScope:EnableFaultInjection = true (for example only in the Development environment).');
    }
    if (op && !op.canOperate) {
      notes.push(`You cannot change injections: ${clause(op.reason) || 'this caller is not an operator'}. Operator actions are `
        + 'allowed from loopback by default, or to users who satisfy FlowScope:OperatorAuthorizationPolicy.');
    }
    if (!notes.length && this.faultsError) notes.push(`Could not load injections: ${describeError(this.faultsError)}`);
    this.faultNote.hidden = !notes.length;
    this.faultNote.replaceChildren(...notes.map((n) => h('span', { class: 'note-line', text: n })));
    const editable = !!op && op.canOperate && op.faultInjection && data?.enabled !== false && !this.operatorError;
    this.fieldset.disabled = !editable;
    this.form.classList.toggle('disabled', !editable);
    this.form.setAttribute('aria-disabled', String(!editable));

    this.#renderTargets(Array.isArray(data?.targets) ? data.targets : []);

    const faults = Array.isArray(data?.faults) ? data.faults.filter((x) => x && typeof x.id === 'string') : [];
    const seen = new Set();
    for (const fault of faults) {
      seen.add(fault.id);
      let row = this.faultRows.get(fault.id);
      if (!row) {
        row = this.#faultRow(fault.id);
        this.faultRows.set(fault.id, row);
      }
      this.#updateFaultRow(row, fault, editable);
      this.faultBody.append(row.tr); // keeps server order; moving a row keeps its focus
    }
    for (const [id, row] of this.faultRows) if (!seen.has(id)) { row.tr.remove(); this.faultRows.delete(id); }
    this.faultTable.hidden = faults.length === 0;
    this.faultEmpty.hidden = faults.length > 0;
    this.faultEmpty.textContent = data ? 'No active injections.' : 'Loading…';
    this.stopAll.disabled = !editable || faults.length === 0 || this.busy;
  }

  #renderTargets(targets) {
    const valid = targets.filter((t) => t && typeof t.name === 'string' && t.name);
    const empty = !this.faults ? 'loading…' : this.faults.enabled === false || this.operator?.faultInjection === false
      ? 'fault injection is disabled' : 'no components yet — send a request to the app first';
    const key = JSON.stringify([valid.length ? '' : empty, valid.map((t) => [t.kind, t.name])]);
    if (key === this.targetsKey) return;
    this.targetsKey = key;
    const sel = this.f.target;
    const prev = sel.value;
    const groups = [];
    const kinds = [...KINDS, ...new Set(valid.map((t) => str(t.kind)).filter((k) => !KINDS.includes(k)))];
    for (const kind of kinds) {
      const names = valid.filter((t) => str(t.kind) === kind).map((t) => t.name).sort((a, b) => a.localeCompare(b));
      if (names.length) groups.push(h('optgroup', { label: kind }, names.map((n) => h('option', { value: `${kind}:${n}`, text: n }))));
    }
    if (!groups.length) {
      sel.replaceChildren(h('option', { value: '', text: empty }));
      return;
    }
    sel.replaceChildren(h('option', { value: '', text: '— choose a component —' }), ...groups);
    if (prev && [...sel.options].some((o) => o.value === prev)) sel.value = prev;
  }

  #faultRow(id) {
    const row = {
      id,
      comp: h('td', { class: 'c-comp' }),
      what: h('td'),
      hits: h('td', { class: 'num' }),
      delays: h('td', { class: 'num' }),
      failures: h('td', { class: 'num' }),
      left: h('td', { class: 'c-left' }),
      error: h('span', { class: 'ctl-error', role: 'alert' }),
    };
    row.stop = h('button', { class: 'btn btn-small btn-stop', type: 'button', onclick: () => this.#stopFault(row) }, 'Stop');
    row.traces = h('button', { class: 'link-btn small', type: 'button', title: 'Traces touched by this injection', onclick: () => this.onShowTraces?.({ attr: `flowscope.fault.id=${id}` }) }, 'traces');
    row.tr = h('tr', { dataset: { faultId: id } }, row.comp, row.what, row.hits, row.delays, row.failures, row.left,
      h('td', { class: 'c-actions' }, row.error, row.traces, row.stop));
    return row;
  }

  #updateFaultRow(row, fault, editable) {
    const kind = str(fault.kind) || 'custom';
    const name = str(fault.component);
    if (row.key !== `${kind}:${name}`) {
      row.key = `${kind}:${name}`;
      row.comp.replaceChildren(h('span', { class: 'comp-cell' }, componentTag(kind), h('span', { class: 'fault-target', text: name, title: name })));
    }
    row.what.textContent = describeFault(fault);
    row.hits.textContent = fault.maxHits != null ? `${formatCount(num(fault.hits))} / ${formatCount(num(fault.maxHits))}` : formatCount(num(fault.hits));
    row.delays.textContent = formatCount(num(fault.delaysInjected));
    row.failures.textContent = formatCount(num(fault.failuresInjected));
    row.left.textContent = this.#timeLeft(fault);
    row.stop.disabled = !editable || !!row.pending;
    row.stop.title = editable ? `Stop injection ${fault.id}` : 'Not allowed';
    row.stop.setAttribute('aria-label', `Stop injection into ${name}`);
  }

  #timeLeft(fault) {
    const parts = [];
    const exp = parseTime(fault.expiresAt);
    if (Number.isFinite(exp)) parts.push(formatUptime(Math.max(0, (exp - (Date.now() + this.api.skewMs)) / 1000)));
    if (fault.maxHits != null) {
      const left = Math.max(0, num(fault.maxHits) - num(fault.hits));
      parts.push(`${formatCount(left)} hit${left === 1 ? '' : 's'}`);
    }
    return parts.length ? parts.join(' or ') : 'until stopped';
  }

  #renderSims() {
    const op = this.operator;
    const editable = !!op?.canOperate && !this.operatorError;
    let note = null;
    if (op && !op.canOperate) note = `You cannot start or stop simulators: ${clause(op.reason) || 'this caller is not an operator'}.`;
    this.simNote.hidden = !note;
    this.simNote.replaceChildren(note ? h('span', { class: 'note-line', text: note }) : '');
    this.simError.hidden = !this.simsError;
    this.simError.textContent = this.simsError ? `Could not load simulators: ${describeError(this.simsError)}` : '';

    const sims = Array.isArray(this.sims?.simulators) ? this.sims.simulators.filter((s) => s && typeof s.name === 'string') : [];
    const seen = new Set();
    for (const sim of sims) {
      seen.add(sim.name);
      let row = this.simRows.get(sim.name);
      if (!row) {
        row = this.#simRow(sim.name);
        this.simRows.set(sim.name, row);
      }
      this.#updateSimRow(row, sim, editable);
      this.simBody.append(row.tr);
    }
    for (const [name, row] of this.simRows) if (!seen.has(name)) { row.tr.remove(); this.simRows.delete(name); }
    this.simTable.hidden = sims.length === 0;
    this.simEmpty.hidden = sims.length > 0 || !this.sims;
  }

  #simRow(name) {
    const row = {
      name,
      desc: h('span', { class: 'muted small sim-desc' }),
      state: h('span', { class: 'state' }),
      rate: h('input', { type: 'number', class: 'num sim-rate', step: 'any', min: String(MIN_RATE), 'aria-label': `Rate of ${name} (runs per second)` }),
      runs: h('td', { class: 'num c-runs' }),
      failures: h('td', { class: 'num c-failures' }),
      lastRun: h('td', { class: 'c-last-run' }),
      lastError: h('td', { class: 'c-last-error' }),
      error: h('span', { class: 'ctl-error', role: 'alert' }),
      dirty: false,
    };
    row.rate.addEventListener('input', () => { row.dirty = true; row.rate.removeAttribute('aria-invalid'); });
    row.rate.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.#applyRate(row); } });
    row.apply = h('button', { class: 'btn btn-small sim-apply', type: 'button', onclick: () => this.#applyRate(row) }, 'apply rate');
    row.start = h('button', { class: 'btn btn-small sim-start', type: 'button', onclick: () => this.#setRunning(row, true) }, '▶ Start');
    row.stop = h('button', { class: 'btn btn-small sim-stop', type: 'button', onclick: () => this.#setRunning(row, false) }, '■ Stop');
    row.traces = h('button', { class: 'link-btn small', type: 'button', title: 'Traces of this simulator', onclick: () => this.onShowTraces?.({ name: `simulate ${name}` }) }, 'traces');
    row.tr = h('tr', { dataset: { simulator: name } },
      h('td', { class: 'c-sim' }, h('strong', { class: 'sim-name', text: name }), row.desc),
      h('td', null, row.state),
      h('td', { class: 'c-rate' }, h('span', { class: 'field-row' }, row.rate, row.apply)),
      row.runs, row.failures, row.lastRun, row.lastError,
      h('td', { class: 'c-actions' }, row.error, row.traces, row.start, row.stop));
    return row;
  }

  #updateSimRow(row, sim, editable) {
    row.sim = sim;
    row.desc.textContent = str(sim.description);
    row.desc.hidden = !sim.description;
    const running = !!sim.running;
    row.tr.classList.toggle('running', running);
    row.state.className = `state ${running ? 'state-running' : 'state-stopped'}`;
    row.state.textContent = running ? '● running' : 'stopped';
    const max = num(sim.maxRatePerSecond);
    if (max > 0) row.rate.max = String(max); else row.rate.removeAttribute('max');
    row.rate.title = `${MIN_RATE} to ${max > 0 ? max : '…'} runs per second`;
    if (!row.dirty && document.activeElement !== row.rate) row.rate.value = String(num(sim.ratePerSecond));
    row.runs.textContent = formatCount(num(sim.runs));
    row.failures.textContent = formatCount(num(sim.failures));
    row.failures.classList.toggle('error-text', num(sim.failures) > 0);
    const last = parseTime(sim.lastRunAt);
    row.lastRun.textContent = Number.isFinite(last) ? clock(last) : '—';
    row.lastError.replaceChildren(sim.lastError ? h('span', { class: 'error-text', text: str(sim.lastError), title: str(sim.lastError) }) : '—');
    const pending = !!row.pending;
    row.rate.disabled = !editable;
    row.apply.disabled = !editable || pending;
    row.start.disabled = !editable || pending || running;
    row.stop.disabled = !editable || pending || !running;
    for (const b of [row.apply, row.start, row.stop]) b.title = editable ? '' : str(this.operator?.reason) || 'Not allowed';
  }

  // ---- Actions -------------------------------------------------------------------------

  #readForm() {
    const f = this.f;
    for (const el of [f.target, f.delay, f.delayMax, f.failure, f.limit]) el.removeAttribute('aria-invalid');
    const bad = (field, message) => { f[field].setAttribute('aria-invalid', 'true'); f[field].focus(); throw new FormError(message); };
    const value = f.target.value;
    const i = value.indexOf(':');
    if (i <= 0) bad('target', 'Choose the component to inject into.');
    const body = { kind: value.slice(0, i), component: value.slice(i + 1) };
    const number = (field) => {
      const raw = f[field].value.trim();
      if (raw === '') return null;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) bad(field, 'Enter a number of 0 or more.');
      return n;
    };
    const delay = number('delay'), delayMax = number('delayMax'), failure = number('failure'), limit = number('limit');
    if (failure != null && failure > 100) bad('failure', 'The failure rate is a percentage: 0 to 100.');
    if (!(delay > 0) && !(delayMax > 0) && !(failure > 0)) bad('delay', 'Set a delay, a failure rate, or both.');
    if (delayMax != null && delayMax > 0) {
      if ((delay ?? 0) > delayMax) bad('delayMax', 'The range must end at or after its start.');
      body.delayMs = Math.round(delay ?? 0);
      body.maxDelayMs = Math.round(delayMax);
    } else if (delay > 0) body.delayMs = Math.round(delay);
    if (failure > 0) body.failureRate = Math.min(1, failure / 100);
    if (limit != null) {
      if (!(limit >= 1) || !Number.isInteger(limit)) bad('limit', 'Enter a whole number of 1 or more.');
      const unit = f.unit.value;
      if (unit === 'hits') body.maxHits = limit;
      else body.durationSeconds = limit * (UNITS[unit] ?? 1);
    }
    return body;
  }

  async #inject() {
    const f = this.f;
    f.error.textContent = '';
    delete f.error.dataset.kind;
    let body;
    try {
      body = this.#readForm();
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      f.error.textContent = err.message;
      return;
    }
    f.submit.disabled = true;
    try {
      const fault = await this.api.send('POST', 'api/faults', body);
      f.error.dataset.kind = 'ok';
      f.error.textContent = fault?.id ? `Injection ${fault.id} active.` : 'Injection active.';
    } catch (err) {
      delete f.error.dataset.kind;
      const field = FIELD_OF[err?.parameter];
      if (field) f[field].setAttribute('aria-invalid', 'true');
      f.error.textContent = describeError(err);
    } finally {
      f.submit.disabled = false;
      await this.refresh();
    }
  }

  async #stopFault(row) {
    row.error.textContent = '';
    row.pending = true;
    row.stop.disabled = true;
    try {
      await this.api.send('DELETE', `api/faults/${encodeURIComponent(row.id)}`);
      row.tr.classList.add('stopping');
    } catch (err) {
      if (err?.status !== 404) row.error.textContent = describeError(err); // 404: already gone
    } finally {
      row.pending = false;
      await this.refresh();
    }
  }

  async #stopAll() {
    this.stopAllError.textContent = '';
    this.busy = true;
    this.stopAll.disabled = true;
    try {
      await this.api.send('DELETE', 'api/faults');
    } catch (err) {
      this.stopAllError.textContent = describeError(err);
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  #readRate(row) {
    const n = Number(row.rate.value);
    const max = num(row.sim?.maxRatePerSecond);
    if (row.rate.value.trim() === '' || !Number.isFinite(n) || n < MIN_RATE || (max > 0 && n > max)) {
      row.rate.setAttribute('aria-invalid', 'true');
      throw new FormError(`The rate must be between ${MIN_RATE} and ${max > 0 ? max : 'the maximum'} runs per second.`);
    }
    return n;
  }

  async #simPost(row, body) {
    row.error.textContent = '';
    row.pending = true;
    this.#updateSimRow(row, row.sim, this.canOperate);
    try {
      const sim = await this.api.send('POST', 'api/simulators', body);
      if (sim && typeof sim.name === 'string') {
        row.dirty = false;
        row.rate.value = String(num(sim.ratePerSecond));
        row.pending = false;
        this.#updateSimRow(row, sim, this.canOperate);
      }
    } catch (err) {
      row.error.textContent = describeError(err);
      if (err?.parameter === 'ratePerSecond') row.rate.setAttribute('aria-invalid', 'true');
    } finally {
      row.pending = false;
      await this.refresh();
    }
  }

  #applyRate(row) {
    let rate;
    try { rate = this.#readRate(row); } catch (err) { row.error.textContent = err.message; return; }
    this.#simPost(row, { name: row.name, ratePerSecond: rate });
  }

  #setRunning(row, running) {
    const body = { name: row.name, running };
    if (running && row.dirty) {
      try { body.ratePerSecond = this.#readRate(row); } catch (err) { row.error.textContent = err.message; return; }
    }
    this.#simPost(row, body);
  }
}

class FormError extends Error {}

function field(label, control, cls = null, hint = null) {
  return h('label', { class: `field${cls ? ` ${cls}` : ''}`, title: hint },
    h('span', { class: 'field-label', text: label }), control);
}

// "delay 250 ms", "delay 100–400 ms", "fail 20 %", joined with " + ".
export function describeFault(fault) {
  const parts = [];
  const d = num(fault.delayMs), max = num(fault.maxDelayMs);
  const ms = (v) => (v < 1000 ? `${formatCount(v)} ms` : formatDuration(v));
  if (max > d) parts.push(`delay ${max < 1000 ? `${formatCount(d)}–${ms(max)}` : `${ms(d)}–${ms(max)}`} (random)`);
  else if (d > 0) parts.push(`delay ${ms(d)}`);
  const rate = num(fault.failureRate);
  if (rate > 0) parts.push(`fail ${+(rate * 100).toFixed(1)} %`);
  return parts.join(' + ') || '—';
}

