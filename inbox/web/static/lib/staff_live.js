// @ts-check
// A staff page's live connection: the staff socket (/api/ws, lib/live.js, which reconnects with
// backoff), its state in the page's status pill, a refetch clock (waits and windows change
// without events), and a wake with a fresh backoff when the page is shown again. The page says
// what a frame means and what the clock does (phone/live.js, board/live.js).

import { t } from "../i18n.js";
import { byId } from "./dom.js";
import { LiveSocket } from "./live.js";

/**
 * @typedef {object} StaffLiveOptions
 * @property {(msg: any) => void} onMessage a frame from the socket
 * @property {(socket: LiveSocket) => void} onOpen the socket opened
 * @property {() => void} [onReconnected] connected again after a loss
 * @property {number} clockMs how often `onClock` runs
 * @property {() => void} onClock the refetch clock's tick
 * @property {() => void} [onVisible] the page was shown again (after the socket's wake)
 */

export class StaffLive {
  /** @param {string} statusId the id of the page's status pill */
  constructor(statusId) {
    this.statusId = statusId;
    /** @type {LiveSocket | null} */
    this.socket = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.clock = undefined;
    /** @type {import("./live.js").LiveState | null} */
    this.shown = null;
  }

  /** @param {StaffLiveOptions} o */
  start(o) {
    const socket = new LiveSocket({
      path: "/api/ws",
      onState: (state) => {
        this.shown = state;
        this.relabel();
      },
      onMessage: o.onMessage,
      onOpen: () => o.onOpen(socket),
      onReconnected: o.onReconnected,
    });
    this.socket = socket;
    socket.start();
    this.clock = setInterval(o.onClock, o.clockMs);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible" || !this.socket) return;
      this.socket.wake({ resetBackoff: true });
      o.onVisible?.();
    });
  }

  stop() {
    this.socket?.stop();
    this.socket = null;
    clearInterval(this.clock);
  }

  /** Show the connection's state in the pill (again: the language changed). */
  relabel() {
    const status = byId(this.statusId, HTMLElement);
    status.dataset.state = this.shown || "offline";
    status.textContent = t(`console.status.${this.shown || "offline"}`);
  }
}
