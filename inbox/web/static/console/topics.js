// @ts-check
// --- casework: the open conversation's "Topics and profile" panel: the consultation's topics
// (checkbox chips of the configured list) and her age group, saved as soon as they change
// (PUT /api/conversations/{id}/topics and /age-group), with a visible saved state. Whoever may
// add notes may set them (the server decides); never needed to close.

import { t } from "../i18n.js";
import { el } from "../lib/dom.js";
import { caseworkWords, checkedTopics, loadCaseworkWords, renderTopicChips, wordOf } from "../lib/casework.js";
import { state, els, isMine } from "./state.js";
import { call } from "./session.js";

/** @typedef {import("./types.js").Conversation} Conversation */

const parts = {
  box: el("section", "casework-panel"),
  heading: el("h3", "casework-heading"),
  topics: el("fieldset", "casework-topics"),
  legend: el("legend", "casework-legend"),
  ageLabel: el("label", "casework-age-label"),
  age: el("select", "casework-age"),
  status: el("span", "casework-status"),
};
/** @type {"idle" | "saving" | "saved" | "error"} */
let saveState = "idle";
let shownFor = /** @type {number | null} */ (null);

function build() {
  const p = parts;
  p.box.dataset.testid = "casework-panel";
  p.heading.id = "casework-heading";
  p.box.setAttribute("aria-labelledby", p.heading.id);
  p.topics.dataset.testid = "casework-topics";
  p.topics.append(p.legend);
  p.age.id = "casework-age";
  p.age.dataset.testid = "casework-age";
  p.ageLabel.htmlFor = p.age.id;
  p.status.dataset.testid = "casework-status";
  p.status.setAttribute("role", "status");
  const age = el("span", "casework-age-field");
  age.append(p.ageLabel, p.age);
  const bar = el("div", "casework-bar");
  bar.append(age, p.status);
  p.box.append(p.heading, p.topics, bar);
  p.box.hidden = true;
  const tags = document.querySelector(".tag-editor");
  (tags || els.convMeta).after(p.box);
  p.topics.addEventListener("change", () => saveTopics());
  p.age.addEventListener("change", () => saveAge());
}

/** As for notes and tags (the server decides). @param {Conversation} c */
function editable(c) {
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  if (roles.includes("supervisor") || isMine(c)) return true;
  return roles.includes("phone_staff") && c.channel === "phone";
}

function renderStatus() {
  parts.status.dataset.state = saveState;
  parts.status.textContent = saveState === "idle" ? "" : t(`casework.${saveState}`);
}

/** The panel for the open conversation (its topics and age group as the server last said). */
export function renderTopics() {
  const p = parts;
  const c = state.conv;
  p.heading.textContent = t("casework.heading");
  p.legend.textContent = t("casework.topics");
  p.ageLabel.textContent = t("casework.ageGroup");
  if (!c) {
    p.box.hidden = true;
    return;
  }
  if (shownFor !== c.id) {
    shownFor = c.id;
    saveState = "idle";
  }
  const words = caseworkWords();
  if (words.topics.length === 0) loadCaseworkWords().then((w) => w && w.topics.length && renderTopics());
  p.box.hidden = words.topics.length === 0 && words.age_groups.length === 0;
  const canEdit = editable(c);
  const ext = /** @type {{ topics?: string[], age_group?: string }} */ (c);
  if (saveState !== "saving") {
    renderTopicChips(p.topics, Array.isArray(ext.topics) ? ext.topics : [], {
      prefix: "topic",
      disabled: !canEdit,
    });
    p.age.replaceChildren(
      ...words.age_groups.map((w) => {
        const o = el("option", "", wordOf(w));
        o.value = w.id;
        return o;
      }),
    );
    p.age.value = ext.age_group || "unknown";
    p.age.disabled = !canEdit;
  }
  renderStatus();
}

/**
 * @param {string} path "topics" or "age-group"
 * @param {object} body
 * @param {(data: any, conv: any) => void} keep what to keep of the answer on the conversation
 */
async function save(path, body, keep) {
  const c = state.conv;
  if (!c) return;
  const id = c.id;
  saveState = "saving";
  renderStatus();
  const data = await call("PUT", `/api/conversations/${encodeURIComponent(id)}/${path}`, body);
  if (state.openId !== id || !state.conv) return;
  saveState = data ? "saved" : "error";
  if (data) keep(data, state.conv);
  renderTopics();
}

function saveTopics() {
  return save("topics", { topics: checkedTopics(parts.topics) }, (data, conv) => {
    conv.topics = data.topics;
  });
}

function saveAge() {
  return save("age-group", { age_group: parts.age.value }, (data, conv) => {
    conv.age_group = data.age_group;
  });
}

/** Build the panel (after the tags'); its words are fetched when a conversation is first shown. */
export function bindTopics() {
  build();
}
