// @ts-check
// One WebSocket client for every page: it reconnects with exponential backoff and jitter, and
// tells its owner when a connection is back after a loss ("you reconnected: refetch what you may
// have missed"). The protocol on top (the console's event frames, the chat's hello/welcome) is
// the owner's: it gets each frame parsed from JSON.

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const MAX_ATTEMPT = 10;

/** @typedef {"connecting" | "reconnecting" | "connected"} LiveState */

/**
 * @typedef {object} LiveOptions
 * @property {string} path the socket's path on this host, e.g. "/api/ws"
 * @property {(state: LiveState) => void} onState the connection's state changed
 * @property {(msg: any) => void} onMessage a frame, parsed from JSON (frames that are not JSON are dropped)
 * @property {() => void} [onOpen] the socket opened (e.g. to say hello)
 * @property {() => void} [onClose] the current socket closed (not called by stop())
 * @property {() => void} [onReconnected] connected again after a loss or a failed first try:
 *   whatever happened meanwhile was missed, refetch it
 * @property {boolean} [handshake] the connection counts as made only when the owner calls
 *   established() (the chat's welcome); otherwise as soon as the socket opens
 * @property {() => Promise<boolean>} [beforeReconnect] asked before each reconnect: false stops
 *   trying (e.g. the session is over), a rejection backs off once more
 */

export class LiveSocket {
  /** @param {LiveOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.wanted = false;
    this.attempt = 0;
    this.everOpened = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {LiveState | null} */
    this.state = null;
  }

  /** Start connecting (again from scratch: no backoff, not a reconnect). */
  start() {
    this.wanted = true;
    this.attempt = 0;
    this.everOpened = false;
    this.connect();
  }

  /** Close the socket and stop reconnecting; onClose is not called. */
  stop() {
    this.wanted = false;
    this.state = null;
    this.drop();
  }

  /**
   * Drop the socket without onClose and connect afresh, as a new session (the chat's "clear
   * history"): no backoff, and the next connection is not a reconnect.
   */
  restart() {
    this.drop();
    this.wanted = true;
    this.attempt = 0;
    this.everOpened = false;
    this.connect();
  }

  /** @private */
  drop() {
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = null;
    if (old) {
      try {
        old.close(1000);
      } catch {
        /* ignore */
      }
    }
  }

  /** Whether a socket exists (open, or opening). */
  get active() {
    return this.ws !== null;
  }

  /** Whether the socket is open, so send() would send. */
  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Send one JSON frame; false when the socket is not open.
   * @param {unknown} frame
   */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /**
   * Connect now if there is no socket (the network is back, the page was restored), optionally
   * forgetting the backoff.
   * @param {{resetBackoff?: boolean}} [opts]
   */
  wake({ resetBackoff = false } = {}) {
    if (this.ws || !this.wanted) return;
    if (resetBackoff) this.attempt = 0;
    this.connect();
  }

  /** The owner's handshake is done (with `handshake: true`): the connection is made. */
  established() {
    const wasReconnect = this.everOpened || this.attempt > 0;
    this.everOpened = true;
    this.attempt = 0;
    this.setState("connected");
    if (wasReconnect && this.options.onReconnected) this.options.onReconnected();
  }

  /** @param {LiveState} state */
  setState(state) {
    this.state = state;
    this.options.onState(state);
  }

  /** @private */
  connect() {
    clearTimeout(this.timer);
    if (!this.wanted || this.ws) return;
    this.setState(this.everOpened || this.state === "reconnecting" ? "reconnecting" : "connecting");
    let sock;
    try {
      sock = new WebSocket(socketUrl(this.options.path));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = sock;
    sock.addEventListener("open", () => {
      if (sock !== this.ws) return;
      if (this.options.onOpen) this.options.onOpen();
      if (!this.options.handshake) this.established();
    });
    sock.addEventListener("message", (ev) => {
      if (sock !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.options.onMessage(msg);
    });
    sock.addEventListener("close", () => {
      if (sock !== this.ws) return;
      this.ws = null;
      if (this.options.onClose) this.options.onClose();
      if (this.wanted) this.scheduleReconnect();
    });
  }

  /** @private */
  scheduleReconnect() {
    this.setState("reconnecting");
    clearTimeout(this.timer);
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, MAX_ATTEMPT);
    const delay = Math.min(RECONNECT_MAX_MS, base * (0.75 + Math.random() * 0.5));
    this.timer = setTimeout(async () => {
      if (!this.wanted) return;
      const before = this.options.beforeReconnect;
      if (before) {
        let goOn;
        try {
          goOn = await before();
        } catch {
          if (this.wanted) this.scheduleReconnect(); // unreachable: keep backing off
          return;
        }
        if (!goOn) return;
      }
      this.connect();
    }, delay);
  }
}

/** @param {string} path */
function socketUrl(path) {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}${path}`;
}
