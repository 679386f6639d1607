// @ts-check
// The queue by channel and priority (a table: how many wait, the oldest wait, urgent first,
// paused channels marked), today's waiting times against the target (median, 90th percentile),
// and each channel's pause: who paused it and since when, with Pause / Resume.

import { t, label, formatDuration, formatTime, formatFullTime } from "../i18n.js";
import { el, byId, morphChildren } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";
import { tagText } from "../console/labels.js";
import { addRenderer, ageMs, getBoard, refresh } from "./state.js";

/** @typedef {import("./state.js").Board} Board */
/** @typedef {import("./state.js").ChannelState} ChannelState */

/** @param {string[]} headers @param {string} caption */
function table(headers, caption) {
  const tbl = el("table", "board-table");
  tbl.append(el("caption", "", caption));
  const head = el("thead");
  const row = el("tr");
  for (const h of headers) {
    const th = el("th", "", h);
    th.scope = "col";
    row.append(th);
  }
  head.append(row);
  tbl.append(head, el("tbody"));
  return tbl;
}

/** @param {number | null} seconds */
function secondsText(seconds) {
  return seconds === null ? "—" : formatDuration(seconds * 1000);
}

/**
 * A queue row's priority in words, never the raw number: the urgency of the conversations of
 * that channel and priority the board lists ("Urgent: suicide risk"), else "Urgent" or "Normal".
 * @param {Board} board
 * @param {import("./state.js").QueueRow} q
 */
function priorityText(board, q) {
  if (q.priority <= 0) return t("board.queue.normal");
  const tags = new Set();
  for (const c of board.waiting) {
    if (c.channel === q.channel && c.priority === q.priority && c.urgency) tags.add(c.urgency);
  }
  if (!tags.size) return t("urgency.generic");
  return t("urgency.badge", { category: [...tags].map(tagText).sort().join(t("actions.listSep")) });
}

/** @param {Board} board */
function renderQueue(board) {
  const tbl = table(
    [t("board.queue.channel"), t("board.queue.priority"), t("board.queue.count"), t("board.queue.oldest")],
    t("board.queue.caption", { n: board.waiting_total }),
  );
  const body = tbl.tBodies[0];
  for (const q of board.queue) {
    const row = el("tr", q.priority > 0 ? "board-queue-urgent" : "");
    row.dataset.key = `queue-${q.channel}-${q.priority}`;
    const channel = el("th", "", label("channel", q.channel));
    channel.scope = "row";
    if (q.paused) channel.append(" ", el("span", "badge board-paused", t("board.channel.pausedBadge")));
    const oldest = el("td", "", formatDuration(ageMs(q.oldest) ?? q.oldest_waiting_s * 1000));
    oldest.title = formatFullTime(q.oldest);
    row.append(
      channel,
      el("td", "", priorityText(board, q)),
      el("td", "board-num", q.count),
      oldest,
    );
    body.append(row);
  }
  if (!board.queue.length) {
    const row = el("tr");
    const cell = el("td", "", t("board.queue.empty"));
    cell.colSpan = 4;
    row.append(cell);
    body.append(row);
  }
  morphChildren(byId("board-queue-table", HTMLDivElement), [tbl]);
}

/** @param {Board} board */
function renderWaits(board) {
  const w = board.waits;
  const list = el("dl", "board-waits-list");
  /** @param {string} name @param {string} value @param {boolean} [over] */
  const add = (name, value, over = false) => {
    const wrap = el("div", over ? "board-fact board-due-over" : "board-fact");
    wrap.append(el("dt", "", name), el("dd", "", value));
    list.append(wrap);
  };
  add(t("board.waits.count"), String(w.count));
  add(t("board.waits.median"), secondsText(w.median_s), w.median_s !== null && w.median_s > w.target_s);
  add(t("board.waits.p90"), secondsText(w.p90_s), w.p90_s !== null && w.p90_s > w.target_s);
  add(t("board.waits.target"), secondsText(w.target_s));
  add(t("board.waits.over"), String(w.over_target), w.over_target > 0);
  const box = byId("board-waits", HTMLDivElement);
  const heading = el("h3", "board-subheading", t("board.waits.heading", { day: w.day }));
  morphChildren(box, [heading, list]);
}

/** Pause or resume as the board shows the channel now (its button outlives a redraw). @param {string} channel */
async function togglePause(channel) {
  const board = getBoard();
  const ch = board ? board.channels.find((c) => c.channel === channel) : undefined;
  if (!ch) return;
  const verb = ch.paused ? "resume" : "pause";
  const done = await call("POST", `/api/channels/${encodeURIComponent(ch.channel)}/${verb}`);
  if (done) await refresh();
}

/** @param {Board} board */
function renderChannels(board) {
  const tbl = table(
    [t("board.channel.channel"), t("board.channel.state"), t("board.channel.action")],
    t("board.channel.caption"),
  );
  const body = tbl.tBodies[0];
  for (const ch of board.channels) {
    const row = el("tr");
    row.dataset.channel = ch.channel;
    row.dataset.key = `channel-${ch.channel}`;
    const name = el("th", "", label("channel", ch.channel));
    name.scope = "row";
    const state = el("td", ch.paused ? "board-channel-paused" : "");
    if (ch.paused) {
      const since = ch.since ? formatTime(ch.since) : "";
      state.textContent = ch.by_name
        ? t("board.channel.pausedBy", { name: ch.by_name, since })
        : t("board.channel.pausedSince", { since });
      if (ch.since) state.title = formatFullTime(ch.since);
    } else {
      state.textContent = t("board.channel.running");
    }
    const button = el("button", `btn btn-small ${ch.paused ? "btn-primary" : ""}`.trim());
    button.type = "button";
    button.textContent = t(ch.paused ? "board.channel.resume" : "board.channel.pause");
    button.setAttribute(
      "aria-label",
      t(ch.paused ? "board.channel.resumeAria" : "board.channel.pauseAria", { channel: label("channel", ch.channel) }),
    );
    button.dataset.focusKey = `channel-${ch.channel}`;
    button.dataset.testid = `channel-toggle-${ch.channel}`;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await togglePause(ch.channel);
      } finally {
        button.disabled = false;
      }
    });
    const action = el("td");
    action.append(button);
    row.append(name, state, action);
    body.append(row);
  }
  morphChildren(byId("board-channels", HTMLDivElement), [tbl]);
}

export function startQueue() {
  addRenderer(renderQueue);
  addRenderer(renderWaits);
  addRenderer(renderChannels);
}
