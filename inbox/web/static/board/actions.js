// @ts-check
// The supervisor's actions on the board: moving conversations (move.js: select, drag, M), a
// counselor going off shift (drain.js) and her profile (counselor_editor.js). Each counselor
// card's empty div.board-counselor-actions gets her two buttons after every render; clicks are
// heard once, on the region, so the board may redraw its cards freely. main.js calls
// startActions() once she is signed in.

import { t, onLangChange } from "../i18n.js";
import { el } from "../lib/dom.js";
import { bindMove, renderMove, syncSelection } from "./move.js";
import { bindDrain, openDrain, renderDrain } from "./drain.js";
import { bindEditor, openProfile, renderEditor } from "./counselor_editor.js";
import { counselorName } from "./action_kit.js";
import { onBoardRender } from "./state.js";

const ACTIONS = /** @type {const} */ (["profile", "drain"]);
/** The focus key of her button that had focus last, while nothing else took it since. @type {string | null} */
let focusedKey = null;

/** Her buttons, in every card that lacks them; re-worded when they are there. A button that
 * had focus before the card was redrawn has it again (the board's own restore runs before). */
function decorateCards() {
  const lost = document.activeElement === document.body || document.activeElement === null;
  for (const card of document.querySelectorAll("li.board-counselor[data-counselor-id]")) {
    if (!(card instanceof HTMLElement)) continue;
    const box = card.querySelector(".board-counselor-actions");
    if (!(box instanceof HTMLElement)) continue;
    const id = Number(card.dataset.counselorId);
    const name = counselorName(id);
    for (const action of ACTIONS) {
      const found = box.querySelector(`button[data-action="${action}"]`);
      let button = found instanceof HTMLButtonElement ? found : null;
      if (!button) {
        button = el("button", `btn btn-small btn-quiet board-action-${action}`);
        button.type = "button";
        button.dataset.action = action;
        button.dataset.testid = `counselor-${action}`;
        button.dataset.focusKey = `counselor-${action}-${id}`; // the board keeps its focus on redraw
        box.append(button);
      }
      setText(button, t(`actions.${action}`));
      const aria = t(`actions.${action}Aria`, { name });
      if (button.getAttribute("aria-label") !== aria) button.setAttribute("aria-label", aria);
      if (lost && focusedKey === button.dataset.focusKey) button.focus();
    }
  }
}

/** @param {HTMLElement} node @param {string} text */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** @param {MouseEvent} e */
function onCardClick(e) {
  const target = e.target instanceof Element ? e.target.closest("button[data-action]") : null;
  if (!(target instanceof HTMLButtonElement)) return;
  const card = target.closest("li.board-counselor[data-counselor-id]");
  if (!(card instanceof HTMLElement)) return;
  const id = Number(card.dataset.counselorId);
  if (target.dataset.action === "profile") openProfile(id, target);
  else if (target.dataset.action === "drain") openDrain(id, target);
}

let started = false;

/** Wire the actions (once; the board's regions stay, their contents are redrawn). */
export function startActions() {
  if (started) return;
  started = true;
  bindMove();
  bindDrain();
  bindEditor();
  const cards = document.getElementById("board-counselors");
  if (cards) cards.addEventListener("click", onCardClick);
  document.addEventListener("focusin", (e) => {
    const target = e.target;
    focusedKey = target instanceof HTMLButtonElement && target.dataset.action ? target.dataset.focusKey || null : null;
  });
  onBoardRender(() => {
    decorateCards();
    syncSelection();
  });
  onLangChange(() => {
    decorateCards();
    renderMove();
    renderDrain();
    renderEditor();
  });
}
