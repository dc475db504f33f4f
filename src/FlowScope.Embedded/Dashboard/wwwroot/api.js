// HTTP + Server-Sent Events client. Every URL is resolved relative to the page,
// so the dashboard works under any PathBase (e.g. /myapp/_flowscope/).

export function apiUrl(path, params) {
  const url = new URL(path, document.baseURI);
  if (params) {
    for (const [key, value] of Object.entries(params)) {
      if (value != null && value !== '') url.searchParams.set(key, String(value));
    }
  }
  return url;
}

export class HttpError extends Error {
  constructor(status, statusText, detail, parameter = null, title = null) {
    super(detail || title || `HTTP ${status}${statusText ? ' ' + statusText : ''}`);
    this.name = 'HttpError';
    this.status = status;
    this.parameter = parameter;
    this.title = title;
  }
}

// The HttpError for a failed response with (maybe) a problem details body.
export function problemError(res, problem) {
  const str = (v) => (typeof v === 'string' && v ? v : null);
  return new HttpError(res.status, res.statusText, str(problem?.detail), str(problem?.parameter), str(problem?.title));
}

export async function getJson(path, { params, signal } = {}) {
  const res = await fetch(apiUrl(path, params), {
    headers: { Accept: 'application/json' },
    cache: 'no-store',
    credentials: 'same-origin',
    signal,
  });
  if (!res.ok) {
    // The API answers errors with application/problem+json; show its detail when there is one.
    throw problemError(res, await res.json().catch(() => null));
  }
  return res.json();
}

// Trace ids are opaque but must never be able to walk the URL path.
export function isValidId(id) {
  return typeof id === 'string' && /^[A-Za-z0-9_.:-]{1,200}$/.test(id) && !/^\.+$/.test(id);
}

export function fetchTraces(params, signal) {
  return getJson('api/traces', { params, signal });
}

export function fetchTrace(traceId, signal) {
  if (!isValidId(traceId)) return Promise.reject(new HttpError(404, 'Not Found'));
  return getJson(`api/traces/${encodeURIComponent(traceId)}`, { signal });
}

export function fetchStats(signal) {
  return getJson('api/stats', { signal });
}

const STREAM_DOWN_BEFORE_POLLING_MS = 10000;
const POLL_INTERVAL_MS = 5000;
const FATAL_RETRY_MS = 15000;

// Live feed of trace summaries: SSE first, polling api/traces only while the
// stream stays down. States: connecting | live | reconnecting | polling.
export class LiveFeed {
  constructor({ onTraces, onState, onEvicted }) {
    this.onTraces = onTraces;
    this.onState = onState;
    this.onEvicted = onEvicted;
    this.state = 'connecting';
    this.es = null;
    this.downTimer = null;
    this.retryTimer = null;
    this.pollTimer = null;
    this.polling = false;
    this.everOpened = false;
  }

  start() {
    this.#connect();
    // If the stream never opens at all (e.g. a proxy that buffers), don't wait forever.
    this.#armDownTimer();
  }

  stop() {
    if (this.es) this.es.close();
    this.es = null;
    clearTimeout(this.downTimer);
    clearTimeout(this.retryTimer);
    this.#stopPolling();
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState?.(state);
  }

  #connect() {
    this.retryTimer = null;
    if (typeof EventSource === 'undefined') {
      this.#startPolling();
      return;
    }
    const es = new EventSource(apiUrl('api/stream'));
    this.es = es;

    es.addEventListener('open', () => {
      if (this.es !== es) return;
      this.everOpened = true;
      clearTimeout(this.downTimer);
      this.downTimer = null;
      this.#stopPolling();
      this.#setState('live');
    });
    es.addEventListener('hydrate', (e) => this.#deliver(e, 'hydrate'));
    es.addEventListener('traces', (e) => this.#deliver(e, 'traces'));
    es.addEventListener('heartbeat', () => {});
    es.addEventListener('evicted', (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      const ids = Array.isArray(data?.traceIds) ? data.traceIds.filter((id) => typeof id === 'string') : [];
      this.onEvicted?.(ids, data?.overflow === true);
    });
    es.addEventListener('error', () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (non-200 or wrong content type): poll and retry ourselves.
        es.close();
        this.es = null;
        this.#startPolling();
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.#connect(), FATAL_RETRY_MS);
        return;
      }
      // EventSource reconnects on its own (with Last-Event-ID).
      if (!this.polling) this.#setState('reconnecting');
      this.#armDownTimer();
    });
  }

  #armDownTimer() {
    if (this.downTimer || this.polling) return;
    this.downTimer = setTimeout(() => {
      this.downTimer = null;
      if (this.state !== 'live') this.#startPolling();
    }, STREAM_DOWN_BEFORE_POLLING_MS);
  }

  #deliver(event, kind) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // ignore malformed frames
    }
    if (this.state !== 'live' && this.es && this.es.readyState === EventSource.OPEN) {
      this.#stopPolling();
      this.#setState('live');
    }
    const list = Array.isArray(data) ? data : Array.isArray(data?.traces) ? data.traces : [data];
    this.onTraces?.(list.filter((t) => t && typeof t.traceId === 'string'), kind);
  }

  #startPolling() {
    if (this.polling) return;
    this.polling = true;
    this.#setState('polling');
    const tick = async () => {
      if (!this.polling) return;
      try {
        const page = await fetchTraces({ limit: 100 });
        if (this.polling && Array.isArray(page?.traces)) this.onTraces?.(page.traces, 'poll');
      } catch {
        // server unreachable; keep trying
      }
      if (this.polling) this.pollTimer = setTimeout(tick, POLL_INTERVAL_MS);
    };
    tick();
  }

  #stopPolling() {
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }
}

export function fetchMetrics(signal) {
  return getJson('api/metrics', { signal });
}

export function fetchMap(signal) {
  return getJson('api/map', { signal });
}

export function fetchRoutes(signal) {
  return getJson('api/routes', { signal });
}

// Queries api/traces. Returns { traces, nextCursor }.
export function queryTraces(params, signal) {
  return getJson('api/traces', { params, signal });
}
