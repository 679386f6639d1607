// @ts-check
// One card per counselor on shift or signed in (li.board-counselor[data-counselor-id]): presence,
// whether her console is connected, load against capacity (in total and per channel), time since
// her last assignment, her conversations near or past their response target, and her open
// conversations. A frame redraws the cards in place (lib/dom.js morphChildren), never anew. Each card keeps an empty div.board-counselor-actions for the actions (edit her
// profile, drain her), which the actions module fills after each render (onBoardRender).

import { t, label, formatDuration, formatFullTime } from "../i18n.js";
import { el, byId, morphChildren } from "../lib/dom.js";
import { addRenderer } from "./state.js";
import { conversationRow } from "./conversations.js";

/** @typedef {import("./state.js").Board} Board */
/** @typedef {import("./state.js").BoardCounselor} BoardCounselor */
/** @typedef {import("./state.js").BoardConversation} BoardConversation */

/**
 * @param {string} name
 * @param {string} value
 * @param {string} [className]
 */
function fact(name, value, className) {
  const wrap = el("div", `board-fact${className ? ` ${className}` : ""}`);
  wrap.append(el("dt", "", name), el("dd", "", value));
  return wrap;
}

/** @param {BoardCounselor} c */
function loadText(c) {
  const channels = Object.keys({ ...c.channel_load, ...c.channel_capacity }).sort();
  const parts = channels.map((ch) => {
    const cap = c.channel_capacity[ch];
    const load = c.channel_load[ch] || 0;
    return cap === undefined
      ? t("board.counselor.channelLoad", { channel: label("channel", ch), load })
      : t("board.counselor.channelLoadCap", { channel: label("channel", ch), load, cap });
  });
  return parts.join("・");
}

/**
 * @param {BoardCounselor} c
 * @param {Map<number, BoardConversation>} byId_
 * @param {number} dueSoonS
 */
function card(c, byId_, dueSoonS) {
  const item = el("li", "board-counselor");
  item.dataset.counselorId = String(c.id);
  item.dataset.key = `counselor-${c.id}`;
  if (c.load >= c.capacity) item.classList.add("board-counselor-full");
  const head = el("div", "board-counselor-head");
  const name = el("h3", "board-counselor-name", c.display_name || `#${c.id}`);
  name.id = `board-counselor-${c.id}`;
  item.setAttribute("aria-labelledby", name.id);
  const link = el(
    "span",
    `board-link ${c.connected ? "board-link-on" : "board-link-off"}`,
    t(c.connected ? "board.counselor.connected" : "board.counselor.disconnected"),
  );
  head.append(name, el("span", `board-presence board-presence-${c.presence}`, label("desk.presence", c.presence)), link);
  const facts = el("dl", "board-counselor-facts");
  facts.append(
    fact(t("board.counselor.load"), t("board.counselor.loadOf", { load: c.load, capacity: c.capacity })),
  );
  const perChannel = loadText(c);
  if (perChannel) facts.append(fact(t("board.counselor.byChannel"), perChannel));
  facts.append(fact(t("board.counselor.shift"), t(c.on_shift ? "board.counselor.onShift" : "board.counselor.offShift")));
  const sinceMs = c.since_last_assignment_s === null ? null : c.since_last_assignment_s * 1000;
  const last = fact(
    t("board.counselor.lastAssigned"),
    sinceMs === null ? t("board.counselor.never") : t("board.counselor.ago", { d: formatDuration(sinceMs) }),
  );
  if (c.last_assigned_at) last.title = formatFullTime(c.last_assigned_at);
  facts.append(last);
  if (c.due_soon || c.overdue) {
    facts.append(
      fact(
        t("board.counselor.targets"),
        t("board.counselor.targetsValue", { soon: c.due_soon, over: c.overdue }),
        c.overdue ? "board-due-over" : "board-due-soon",
      ),
    );
  }
  const list = el("ul", "board-conv-list board-counselor-convs");
  list.setAttribute("aria-label", t("board.counselor.conversationsOf", { name: c.display_name || `#${c.id}` }));
  for (const id of c.conversation_ids) {
    const conv = byId_.get(id);
    if (conv) list.append(conversationRow(conv, dueSoonS));
  }
  const actions = el("div", "board-counselor-actions");
  actions.dataset.morphKeep = ""; // the actions module fills it; a redraw leaves it as it is
  item.append(head, facts, list, actions);
  return item;
}

/** @param {Board} board */
function renderCounselors(board) {
  const list = byId("board-counselor-list", HTMLUListElement);
  const convs = new Map(board.assigned.map((c) => [c.id, c]));
  // drawn in place, by key: what did not change stays as it is (her focus, a click, a selection)
  morphChildren(list, board.counselors.map((c) => card(c, convs, board.due_soon_s)));
  byId("board-counselors-empty", HTMLParagraphElement).hidden = board.counselors.length > 0;
  const onCall = board.on_call;
  byId("board-on-call", HTMLParagraphElement).textContent = onCall
    ? t("board.onCall", { name: onCall.display_name || `#${onCall.id}` })
    : t("board.onCallNone");
}

export function startCounselors() {
  addRenderer(renderCounselors);
}
