// The chat WebSocket: reconnects with backoff, and keeps what the person typed while offline in
// a queue that is sent once, in order, when the socket is open again.
//
// Each message carries a client_id the server echoes back. A message handed to an open socket
// but not yet confirmed (user_message_saved or a refusal) when the connection drops is
// "uncertain": the server may or may not have it. Rather than risk sending it twice, the owner
// decides on reconnect (beforeFlush) by looking at the stored history.
//
// Events: 'status' {state: connecting|open|reconnecting|offline|closed, delay?},
//         'frame' {frame}, 'sent' {frame}, 'ended' (the server ended the sign-in: close code 4001).
//
// Close codes the server uses: 4001 sign in again (expired, signed out, paused); 1001 the server
// is restarting (reconnect at once, to any instance); 4029 too many connections and 1008 too many
// malformed frames (reconnect with backoff).

const PATH = '/api/v1/chat/ws/chat';
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const PING_EVERY_MS = 25000;
const PONG_WAIT_MS = 10000;
const SESSION_ENDED = 4001;
const GOING_AWAY = 1001;

export class ChatSocket extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.ready = false;      // open, and anything uncertain has been settled
    this.running = false;
    this.attempt = 0;
    this.queue = [];         // not yet handed to an open socket
    this.inflight = new Map(); // client_id -> frame, sent but not confirmed
    this.uncertain = [];
    this.beforeFlush = null; // async (uncertain, reconnected) => frames to send again
    this.state = 'closed';
    this._timer = null;
    this._pingTimer = null;
    this._pongTimer = null;
    this._everOpened = false;
    this._onOnline = () => { this.attempt = 0; this._reconnectNow(); };
    this._onOffline = () => this._drop('offline');
    // A phone waking up: reconnect at once if closed, and check at once a socket that looks open
    // (it may have died while the phone slept).
    this._onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      if (this.ws) this._ping();
      else this._reconnectNow();
    };
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener('online', this._onOnline);
    window.addEventListener('offline', this._onOffline);
    document.addEventListener('visibilitychange', this._onVisible);
    this._connect();
  }

  // Signing out or leaving: no reconnect; returns the messages that were never confirmed.
  stop() {
    this.running = false;
    window.removeEventListener('online', this._onOnline);
    window.removeEventListener('offline', this._onOffline);
    document.removeEventListener('visibilitychange', this._onVisible);
    clearTimeout(this._timer);
    const ws = this.ws;
    this._detach();
    if (ws) ws.close(1000, 'bye');
    const unsent = [...this.uncertain, ...this.queue];
    this.queue = [];
    this.uncertain = [];
    this._everOpened = false;
    this._setState('closed');
    return unsent;
  }

  send(frame) {
    this.queue.push(frame);
    this._flush();
  }

  // Every message not yet confirmed by the server, oldest first.
  pending() {
    return [...this.uncertain, ...this.inflight.values(), ...this.queue];
  }

  _connect() {
    if (!this.running || this.ws) return;
    if (navigator.onLine === false) {
      this._setState('offline');
      return;
    }
    this._setState(this.attempt ? 'reconnecting' : 'connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}${PATH}`);
    this.ws = ws;
    ws.addEventListener('open', () => this._opened(ws));
    ws.addEventListener('message', (event) => this._received(ws, event));
    ws.addEventListener('close', (event) => {
      if (ws !== this.ws) return;
      if (event.code === SESSION_ENDED) {
        this._detach(); // no reconnect: the owner signs in again, keeping what was unsent
        this.dispatchEvent(new CustomEvent('ended'));
        return;
      }
      if (event.code === GOING_AWAY) this.attempt = 0;
      this._drop('closed');
    });
  }

  async _opened(ws) {
    if (ws !== this.ws) return;
    const reconnected = this._everOpened;
    this._everOpened = true;
    this.attempt = 0;
    this._setState('open');
    this._heartbeat();
    const uncertain = this.uncertain;
    this.uncertain = [];
    let again = uncertain;
    if (this.beforeFlush) {
      try {
        again = await this.beforeFlush(uncertain, reconnected);
      } catch {
        again = uncertain;
      }
    }
    this.queue.unshift(...again);
    if (ws !== this.ws) return; // dropped while settling: the queue waits for the next open
    this.ready = true;
    this._flush();
  }

  _flush() {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    while (this.queue.length) {
      const frame = this.queue.shift();
      try {
        this.ws.send(JSON.stringify(frame));
      } catch {
        this.queue.unshift(frame);
        return;
      }
      if (frame.client_id) this.inflight.set(frame.client_id, frame);
      this.dispatchEvent(new CustomEvent('sent', { detail: { frame } }));
    }
  }

  _received(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this._pongTimer); // any frame proves the connection is alive
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === 'pong') return;
    if (frame.client_id && (frame.type === 'user_message_saved' || frame.type === 'error')) {
      this.inflight.delete(frame.client_id);
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: { frame } }));
  }

  _heartbeat() {
    clearInterval(this._pingTimer);
    this._pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
  }

  _ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    try { this.ws.send('{"type":"ping"}'); } catch { return; }
    clearTimeout(this._pongTimer);
    this._pongTimer = setTimeout(() => this._drop('closed'), PONG_WAIT_MS);
  }

  _detach() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
    this.ready = false;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      // A socket can linger for a long time without a network; forget it at once.
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        try { ws.close(4000, 'dropped'); } catch { /* already closing */ }
      }
    }
    this.uncertain.push(...this.inflight.values());
    this.inflight.clear();
  }

  _drop(reason) {
    this._detach();
    if (!this.running) return;
    clearTimeout(this._timer);
    if (reason === 'offline' || navigator.onLine === false) {
      this._setState('offline');
      return; // the 'online' event reconnects
    }
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this._setState('reconnecting', delay);
    this._timer = setTimeout(() => this._connect(), delay);
  }

  _reconnectNow() {
    if (!this.running || this.ws) return;
    clearTimeout(this._timer);
    this._connect();
  }

  _setState(state, delay) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, delay } }));
  }
}
