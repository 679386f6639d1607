// @ts-check
// The satisfaction survey's question in her chat (sent when her conversation was closed): four
// buttons under it, the best first. Her click goes over the socket ({type: "survey", answer});
// the server's {type: "survey", answered} turns them into thanks, or says it can no longer be
// answered (answered already, or too late). Optional and anonymous: she may ignore it.

import { t } from "../i18n.js";
import { el } from "../lib/dom.js";

const ANSWERS = [1, 2, 3, 4];

/** @type {(frame: object) => boolean} */
let sendFrame = () => false;
/** @type {HTMLElement | null} the buttons waiting for the server's answer */
let waiting = null;

/** How a frame reaches the server (the live socket's send). @param {(frame: object) => boolean} send */
export function bindSurvey(send) {
  sendFrame = send;
}

/** Add the answers under a survey question's bubble (once). @param {HTMLElement} li */
export function addSurvey(li) {
  if (li.querySelector(".chat-survey")) return;
  const box = el("div", "chat-survey");
  box.setAttribute("role", "group");
  box.dataset.i18nAriaLabel = "chat.survey.group";
  box.setAttribute("aria-label", t("chat.survey.group"));
  box.setAttribute("data-testid", "chat-survey");
  const buttons = el("div", "chat-survey-answers");
  for (const n of ANSWERS) {
    const key = `chat.survey.answer${n}`;
    const button = el("button", "btn btn-small chat-survey-answer", t(key));
    button.setAttribute("type", "button");
    button.dataset.i18n = key;
    button.dataset.answer = String(n);
    button.addEventListener("click", () => answer(box, n));
    buttons.append(button);
  }
  const note = el("p", "chat-survey-note", t("chat.survey.note"));
  note.dataset.i18n = "chat.survey.note";
  box.append(buttons, note);
  li.append(box);
}

/** @param {HTMLElement} box @param {number} n */
function answer(box, n) {
  if (waiting || !sendFrame({ type: "survey", answer: n })) return;
  waiting = box;
  for (const b of box.querySelectorAll("button")) b.disabled = true;
}

/** The server's answer to her click. @param {any} msg */
export function onSurveyAnswer(msg) {
  const box = waiting;
  if (!box) return;
  waiting = null;
  const key = msg && msg.answered === true ? "chat.survey.thanks" : "chat.survey.closed";
  const said = el("p", "chat-survey-said", t(key));
  said.dataset.i18n = key;
  said.setAttribute("role", "status");
  said.setAttribute("data-testid", "chat-survey-said");
  box.replaceChildren(said);
}
