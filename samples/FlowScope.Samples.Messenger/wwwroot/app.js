// FlowScope Messenger UI. Plain ES modules; every piece of user text is inserted with textContent.
import { api, ApiError } from './api.js';
import { Live } from './socket.js';

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const state = {
  me: null,
  rooms: [],
  room: null,
  messages: new Map(), // room -> array of message records
  unread: new Map(),
  members: [],
  online: new Set(),
  typing: new Map(), // user -> { room, until }
  maxLength: 2000,
};

let clientSeq = 0;
const newClientId = () => `c${Date.now().toString(36)}${(clientSeq++).toString(36)}`;

const live = new Live({
  onState: (s) => {
    $('connection').dataset.state = s;
    $('connection').textContent = s;
    if (s === 'online' && state.room) loadRoom(state.room, { keepPending: true });
  },
  onFrame: handleFrame,
});

// ---- auth -------------------------------------------------------------------

async function start() {
  try {
    const me = await api.me();
    await signedIn(me.userName);
  } catch {
    showAuth();
  }
}

function showAuth() {
  state.me = null;
  $('auth').hidden = false;
  $('chat').hidden = true;
  $('me').hidden = true;
  $('logout').hidden = true;
  $('auth-name').focus();
}

async function authenticate(kind) {
  const name = $('auth-name').value.trim().toLowerCase();
  const password = $('auth-password').value;
  $('auth-error').textContent = '';
  try {
    const result = kind === 'register' ? await api.register(name, password) : await api.login(name, password);
    $('auth-password').value = '';
    await signedIn(result.userName);
  } catch (e) {
    $('auth-error').textContent = e instanceof ApiError ? e.message : 'The server could not be reached.';
  }
}

async function signedIn(userName) {
  state.me = userName;
  $('auth').hidden = true;
  $('chat').hidden = false;
  $('me').hidden = false;
  $('me').textContent = userName;
  $('logout').hidden = false;
  await refreshRooms();
  live.open();
  const first = state.rooms.find((r) => r.name === 'general' && r.joined) ?? state.rooms.find((r) => r.joined) ?? state.rooms[0];
  if (first) await openRoom(first.name);
}

$('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  authenticate('login');
});
$('sign-up').addEventListener('click', () => authenticate('register'));
$('logout').addEventListener('click', async () => {
  live.close();
  try { await api.logout(); } catch { /* signed out either way */ }
  state.messages.clear();
  state.room = null;
  showAuth();
});

// ---- rooms ------------------------------------------------------------------

async function refreshRooms() {
  state.rooms = await api.rooms();
  renderRooms();
}

function renderRooms() {
  const list = $('room-list');
  list.replaceChildren(...state.rooms.map((room) => {
    const unread = state.unread.get(room.name) ?? 0;
    const li = el('li', {
      class: [room.name === state.room ? 'active' : '', room.joined ? '' : 'not-joined'].join(' ').trim(),
      dataset: { room: room.name },
    }, el('button', { type: 'button', title: room.topic, onclick: () => openRoom(room.name) },
      el('span', { text: `# ${room.name}` }),
      unread > 0 ? el('span', { class: 'badge', text: String(unread) }) : null));
    return li;
  }));
}

async function openRoom(name) {
  const room = state.rooms.find((r) => r.name === name);
  try {
    if (room && !room.joined) {
      await api.join(name);
      room.joined = true;
    }
    state.room = name;
    state.unread.delete(name);
    $('room-title').textContent = `# ${name}`;
    $('room-topic').textContent = room?.topic ?? '';
    renderRooms();
    await loadRoom(name, { keepPending: false });
    $('message-input').focus();
  } catch (e) {
    $('room-error').textContent = e.message;
  }
}

async function loadRoom(name, { keepPending }) {
  const [history, members] = await Promise.all([api.history(name), api.members(name)]);
  const pending = keepPending ? (state.messages.get(name) ?? []).filter((m) => m.pending) : [];
  state.messages.set(name, [...history.map(fromHistory), ...pending]);
  state.members = members;
  for (const m of members) if (m.online) state.online.add(m.userName);
  if (state.room === name) {
    renderMessages();
    renderMembers();
  }
}

const fromHistory = (m) => ({
  id: m.id, author: m.author, text: m.text, sentAt: m.sentAt, traceId: m.traceId,
  deliveredTo: m.deliveredTo ?? [], recipients: null, pending: false, error: null, clientId: null,
});

$('new-room').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('new-room-name').value.trim().toLowerCase();
  $('room-error').textContent = '';
  if (!name) return;
  try {
    await api.createRoom(name);
    $('new-room-name').value = '';
    await refreshRooms();
    await openRoom(name);
  } catch (err) {
    $('room-error').textContent = err.message;
  }
});

// ---- messages ---------------------------------------------------------------

function renderMessages() {
  const list = $('messages');
  const items = state.messages.get(state.room) ?? [];
  if (items.length === 0) {
    list.replaceChildren(el('li', { class: 'empty', text: 'No messages yet. Say hello!' }));
    return;
  }
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.replaceChildren(...items.map(renderMessage));
  if (nearBottom || items.at(-1)?.author === state.me) list.scrollTop = list.scrollHeight;
}

function renderMessage(m) {
  const mine = m.author === state.me;
  const classes = ['message', mine ? 'mine' : '', m.author === 'bot' ? 'bot' : '', m.error ? 'failed' : ''].join(' ').replace(/\s+/g, ' ').trim();
  const time = m.sentAt ? new Date(m.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  const meta = el('div', { class: 'meta' },
    el('span', { class: 'author', text: m.author }),
    el('time', { text: time }));
  if (mine) meta.append(status(m));
  if (m.traceId) {
    meta.append(el('a', { href: `/_flowscope/?trace=${encodeURIComponent(m.traceId)}`, target: '_blank', rel: 'noopener', title: 'Open this message’s trace', text: 'trace' }));
  }
  return el('li', { class: classes, dataset: { id: m.id ?? '', clientId: m.clientId ?? '' } },
    meta, el('div', { class: 'text', text: m.text }));
}

function status(m) {
  if (m.error) return el('span', { class: 'status failed', text: `✗ ${m.error}` });
  if (m.pending) return el('span', { class: 'status', text: '…' });
  const count = m.deliveredTo.length;
  if (count > 0) {
    const of = m.recipients ? `/${m.recipients}` : '';
    return el('span', { class: 'status delivered', title: `Delivered to ${m.deliveredTo.join(', ')}`, text: `✓✓ ${count}${of}` });
  }
  return el('span', { class: 'status', title: 'Stored', text: '✓' });
}

function findMessage(room, predicate) {
  return (state.messages.get(room) ?? []).find(predicate);
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('message-input');
  const text = input.value;
  $('send-error').textContent = '';
  if (!text.trim() || !state.room) return;
  if (text.length > state.maxLength) {
    $('send-error').textContent = `A message has at most ${state.maxLength} characters.`;
    return;
  }
  const clientId = newClientId();
  if (!live.send({ type: 'send', room: state.room, text, clientId })) {
    $('send-error').textContent = 'Not connected — reconnecting…';
    return;
  }
  const record = { id: null, author: state.me, text, sentAt: new Date().toISOString(), traceId: null, deliveredTo: [], recipients: null, pending: true, error: null, clientId };
  if (!state.messages.has(state.room)) state.messages.set(state.room, []);
  state.messages.get(state.room).push(record);
  input.value = '';
  renderMessages();
});

let lastTyping = 0;
$('message-input').addEventListener('input', () => {
  const now = Date.now();
  if (now - lastTyping > 1500 && state.room && $('message-input').value) {
    lastTyping = now;
    live.send({ type: 'typing', room: state.room });
  }
});

// ---- frames -----------------------------------------------------------------

function handleFrame(frame) {
  switch (frame.type) {
    case 'hello':
      state.online = new Set(frame.online ?? []);
      state.maxLength = frame.maxMessageLength ?? state.maxLength;
      renderMembers();
      break;
    case 'message': onMessage(frame); break;
    case 'ack': {
      const m = findMessage(frame.room, (x) => x.clientId && x.clientId === frame.clientId);
      if (m) { Object.assign(m, { id: frame.id, traceId: frame.traceId, pending: false }); refresh(frame.room); }
      break;
    }
    case 'receipt': {
      const m = findMessage(frame.room, (x) => x.id === frame.id || (x.clientId && x.clientId === frame.clientId));
      if (m) {
        m.deliveredTo = [...new Set([...m.deliveredTo, ...(frame.deliveredTo ?? [])])];
        m.recipients = frame.recipients;
        m.pending = false;
        refresh(frame.room);
      }
      break;
    }
    case 'typing':
      state.typing.set(frame.user, { room: frame.room, until: Date.now() + 3000 });
      renderTyping();
      break;
    case 'presence':
      if (frame.online) state.online.add(frame.user); else state.online.delete(frame.user);
      if (!state.members.some((m) => m.userName === frame.user)) refreshMembers();
      renderMembers();
      break;
    case 'error': onError(frame); break;
    default: break;
  }
}

async function refreshMembers() {
  const room = state.room;
  if (!room) return;
  try {
    const members = await api.members(room);
    if (state.room === room) {
      state.members = members;
      renderMembers();
    }
  } catch { /* the next presence change retries */ }
}

function onMessage(frame) {
  const list = state.messages.get(frame.room);
  if (frame.room === state.room && !state.members.some((m) => m.userName === frame.author)) refreshMembers();
  state.typing.delete(frame.author);
  renderTyping();
  if (!list) {
    if (frame.room !== state.room) bumpUnread(frame.room);
    return;
  }
  const existing = list.find((x) => (x.id !== null && x.id === frame.id) || (x.clientId && x.clientId === frame.clientId && x.author === frame.author));
  if (existing) {
    Object.assign(existing, { id: frame.id, sentAt: frame.sentAt, traceId: frame.traceId, pending: false });
  } else {
    list.push({ id: frame.id, author: frame.author, text: frame.text, sentAt: frame.sentAt, traceId: frame.traceId, deliveredTo: [], recipients: null, pending: false, error: null, clientId: frame.clientId ?? null });
  }
  if (frame.room === state.room) renderMessages();
  else bumpUnread(frame.room);
}

function onError(frame) {
  const m = frame.clientId ? findMessage(state.room, (x) => x.clientId === frame.clientId) : null;
  if (m) {
    m.error = frame.message;
    m.pending = false;
    renderMessages();
  } else {
    $('send-error').textContent = frame.message;
  }
}

function bumpUnread(room) {
  state.unread.set(room, (state.unread.get(room) ?? 0) + 1);
  renderRooms();
}

function refresh(room) {
  if (room === state.room) renderMessages();
}

function renderMembers() {
  const list = $('member-list');
  const members = [...state.members].sort((a, b) => Number(state.online.has(b.userName)) - Number(state.online.has(a.userName)) || a.userName.localeCompare(b.userName));
  list.replaceChildren(...members.map((m) => el('li', {
    class: state.online.has(m.userName) || m.online && m.userName === 'bot' || m.userName === state.me ? 'online' : '',
    dataset: { user: m.userName },
  }, el('span', { class: 'dot' }), el('span', { text: m.userName === state.me ? `${m.userName} (you)` : m.userName }))));
}

function renderTyping() {
  const now = Date.now();
  const who = [...state.typing].filter(([, t]) => t.room === state.room && t.until > now).map(([user]) => user);
  $('typing').textContent = who.length === 0 ? '' : who.length === 1 ? `${who[0]} is typing…` : `${who.join(', ')} are typing…`;
}
setInterval(renderTyping, 1000);

start();
