// @ts-check
// The conversations a supervisor may move: li.board-conv[data-conversation-id], draggable, with a
// selection checkbox (input.board-select). The waiting ones (urgent first, then the oldest) are
// listed here; each counselor's open ones in her card (counselors.js). Alias, channel, urgency and
// how long the consulter has waited: never a body, never an address.

import { t, label, formatDuration, formatFullTime } from "../i18n.js";
import { el, byId, morphChildren } from "../lib/dom.js";
import { tagText } from "../console/labels.js";
import { addRenderer, ageMs, selected, render } from "./state.js";

/** @typedef {import("./state.js").Board} Board */
/** @typedef {import("./state.js").BoardConversation} BoardConversation */

/** @param {number | null} secondsLeft @returns {string} */
function dueText(secondsLeft) {
  if (secondsLeft === null) return "";
  if (secondsLeft < 0) return t("board.conv.overdue", { d: formatDuration(-secondsLeft * 1000) });
  return t("board.conv.dueIn", { d: formatDuration(secondsLeft * 1000) });
}

/**
 * One conversation row, for the waiting list and a counselor's card alike.
 * @param {BoardConversation} conv
 * @param {number | null} [dueSoonS] below this many seconds left, the target is near
 * @returns {HTMLLIElement}
 */
export function conversationRow(conv, dueSoonS = null) {
  const row = el("li", "board-conv");
  row.dataset.conversationId = String(conv.id);
  row.dataset.key = `conv-${conv.id}`;
  row.draggable = true;
  if (conv.urgent) row.classList.add("board-conv-urgent");
  const box = el("input", "board-select");
  box.type = "checkbox";
  box.checked = selected.has(conv.id);
  box.dataset.focusKey = `select-${conv.id}`;
  box.id = `board-select-${conv.id}`;
  box.addEventListener("change", () => {
    if (box.checked) selected.add(conv.id);
    else selected.delete(conv.id);
    render();
  });
  const name = el("label", "board-conv-alias", conv.contact_alias);
  name.htmlFor = box.id;
  const facts = el("span", "board-conv-facts");
  facts.append(el("span", "board-conv-channel", label("channel", conv.channel)));
  if (conv.urgent || conv.urgency) {
    const category = conv.urgency ? tagText(conv.urgency) : t("urgency.generic");
    facts.append(el("span", "badge badge-urgent", t("urgency.badge", { category })));
  }
  const waited = ageMs(conv.waiting_since);
  if (waited !== null) {
    const wait = el("span", "board-conv-wait", t("board.conv.waited", { d: formatDuration(waited) }));
    wait.title = formatFullTime(conv.waiting_since);
    facts.append(wait);
  }
  const left = conv.seconds_left;
  if (left !== null) {
    const due = el("span", "board-conv-due", dueText(left));
    if (left < 0) due.classList.add("board-due-over");
    else if (dueSoonS !== null && left <= dueSoonS) due.classList.add("board-due-soon");
    due.title = formatFullTime(conv.due);
    facts.append(due);
  }
  row.append(box, name, facts);
  return row;
}

/** @param {Board} board */
function renderWaiting(board) {
  const list = byId("board-waiting", HTMLUListElement);
  const rows = board.waiting.map((c) => conversationRow(c, board.due_soon_s));
  morphChildren(list, rows); // in place, by key: a row that did not change stays as it is
  const shown = board.waiting.length;
  const note = byId("board-waiting-note", HTMLParagraphElement);
  note.textContent =
    shown === 0
      ? t("board.conv.none")
      : shown < board.waiting_total
        ? t("board.conv.capped", { n: shown, total: board.waiting_total })
        : t("board.conv.count", { n: shown });
  // what is no longer on the board cannot stay selected
  const present = new Set([...board.waiting, ...board.assigned].map((c) => c.id));
  for (const id of [...selected]) if (!present.has(id)) selected.delete(id);
}

export function startConversations() {
  addRenderer(renderWaiting);
}
