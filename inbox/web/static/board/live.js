// @ts-check
// The board, live: the staff socket (/api/ws) pushes supervisors `{"type": "board", "event_id",
// ...}` within a moment of each event (inbox/web/board_live.py); the page fetches GET /api/board
// when the socket opens or comes back, for whatever it missed. Older frames never replace newer.

import { StaffLive } from "../lib/staff_live.js";
import { setBoard, refresh } from "./state.js";

const CLOCK_MS = 30000; // waits grow and connection leases run out without events: refetched this often

const live = new StaffLive("board-status");

export function startLive() {
  live.start({
    onMessage: (msg) => {
      if (msg && msg.type === "board") setBoard(msg);
    },
    onOpen: () => {
      refresh();
    },
    clockMs: CLOCK_MS,
    onClock: () => void refresh(),
  });
}

export function stopLive() {
  live.stop();
}

/** Redraw what this module wrote itself (the language changed). */
export function relabelLive() {
  live.relabel();
}
