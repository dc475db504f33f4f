// HTTP calls to the messenger's API. Errors come back as problem details; their text is shown to the user.

export class ApiError extends Error {
  constructor(status, problem) {
    super(describe(status, problem));
    this.status = status;
    this.problem = problem;
  }
}

function describe(status, problem) {
  if (problem?.errors) {
    const first = Object.values(problem.errors).flat()[0];
    if (first) return first;
  }
  return problem?.detail || problem?.title || `Request failed (${status})`;
}

export async function request(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  me: () => request('GET', '/api/account/me'),
  login: (userName, password) => request('POST', '/api/account/login', { userName, password }),
  register: (userName, password) => request('POST', '/api/account/register', { userName, password }),
  logout: () => request('POST', '/api/account/logout'),
  rooms: () => request('GET', '/api/rooms'),
  createRoom: (name) => request('POST', '/api/rooms', { name }),
  join: (room) => request('POST', `/api/rooms/${encodeURIComponent(room)}/join`),
  members: (room) => request('GET', `/api/rooms/${encodeURIComponent(room)}/members`),
  history: (room) => request('GET', `/api/rooms/${encodeURIComponent(room)}/messages?limit=100`),
};
