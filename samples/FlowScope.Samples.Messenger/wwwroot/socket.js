// The live channel: one WebSocket, reconnected with backoff, frames as JSON objects with a "type".

export class Live {
  constructor({ onFrame, onState }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.socket = null;
    this.closed = true;
    this.retry = 0;
    this.timer = null;
  }

  open() {
    this.closed = false;
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    this.onState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retry = 0;
      this.onState('online');
    });
    socket.addEventListener('message', (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame && typeof frame.type === 'string') this.onFrame(frame);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onState('offline');
      if (!this.closed) {
        const delay = Math.min(10000, 500 * 2 ** this.retry++) * (0.5 + Math.random() / 2);
        this.timer = setTimeout(() => this.connect(), delay);
      }
    });
  }

  get ready() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.ready) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'bye');
    this.socket = null;
  }
}
