// @ts-check
// --- desk: the open conversation's tags, shown as words (labels.js) and edited by whoever may add
// notes to it: choose a configured tag, or add a free one; remove one. Triage's labels are shown
// but cannot be removed (the server keeps them). PUT /api/conversations/{id}/tags.

import { t } from "../i18n.js";
import { el } from "../lib/dom.js";
import { state, els, isMine } from "./state.js";
import { call } from "./session.js";
import { configuredTags, isSystemTag, labelWord, tagLimits, tagText } from "./labels.js";

/** @typedef {import("./types.js").Conversation} Conversation */

const parts = {
  box: el("div", "tag-editor"),
  heading: el("span", "tag-editor-heading"),
  list: el("ul", "tag-list"),
  none: el("span", "tag-none"),
  controls: el("details", "tag-controls"),
  summary: el("summary", "tag-summary"),
  chooseLabel: el("label", "tag-choose-label"),
  choose: el("select", "tag-choose"),
  chooseAdd: el("button", "btn btn-small tag-choose-add"),
  freeLabel: el("label", "tag-free-label"),
  free: el("input", "tag-free"),
  freeAdd: el("button", "btn btn-small tag-free-add"),
  said: el("span", "visually-hidden"),
};
/** @type {() => void} */
let afterSave = () => {};
let saving = false;

function build() {
  const p = parts;
  p.box.setAttribute("data-testid", "tag-editor");
  p.heading.id = "tag-editor-heading";
  p.list.setAttribute("aria-labelledby", p.heading.id);
  p.list.setAttribute("data-testid", "tag-list");
  p.choose.id = "tag-choose";
  p.choose.setAttribute("data-testid", "tag-choose");
  p.chooseLabel.htmlFor = p.choose.id;
  p.chooseAdd.type = "button";
  p.chooseAdd.setAttribute("data-testid", "tag-choose-add");
  p.free.id = "tag-free";
  p.free.type = "text";
  p.free.autocomplete = "off";
  p.free.setAttribute("data-testid", "tag-free");
  p.freeLabel.htmlFor = p.free.id;
  p.freeAdd.type = "button";
  p.freeAdd.setAttribute("data-testid", "tag-free-add");
  p.said.setAttribute("role", "status");
  const choose = el("span", "tag-field");
  choose.append(p.chooseLabel, p.choose, p.chooseAdd);
  const free = el("span", "tag-field");
  free.append(p.freeLabel, p.free, p.freeAdd);
  p.summary.setAttribute("data-testid", "tag-edit");
  p.controls.append(p.summary, choose, free);
  p.box.append(p.heading, p.list, p.none, p.controls, p.said);
  els.convMeta.after(p.box);

  p.chooseAdd.addEventListener("click", () => {
    if (p.choose.value) add(p.choose.value, p.choose);
  });
  p.freeAdd.addEventListener("click", () => add(p.free.value, p.free));
  p.free.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      add(p.free.value, p.free);
    }
  });
  p.list.addEventListener("click", (e) => {
    const btn = e.target instanceof Element ? e.target.closest("[data-remove-tag]") : null;
    if (btn instanceof HTMLElement) remove(btn.dataset.removeTag || "");
  });
}

/** Whether she may change this conversation's tags (as for notes; the server decides). @param {Conversation} c */
function editable(c) {
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  if (roles.includes("supervisor") || isMine(c)) return true;
  return roles.includes("phone_staff") && c.channel === "phone";
}

/** The tags, as words, and the controls if she may edit them. */
export function renderTags() {
  const p = parts;
  const c = state.conv;
  p.heading.textContent = t("tags.heading");
  p.summary.textContent = t("tags.edit");
  p.chooseLabel.textContent = t("tags.choose");
  p.chooseAdd.textContent = t("tags.add");
  p.freeLabel.textContent = t("tags.free");
  p.free.placeholder = t("tags.freePlaceholder");
  p.freeAdd.textContent = t("tags.add");
  p.none.textContent = t("tags.none");
  if (!c) return;
  const tags = Array.isArray(c.tags) ? c.tags : [];
  const canEdit = editable(c);
  p.list.replaceChildren(
    ...tags.map((tag) => {
      const li = el("li", "tag");
      li.setAttribute("data-testid", "tag");
      li.dataset.tag = tag;
      li.append(el("span", "tag-word", tagText(tag)));
      if (isSystemTag(tag)) {
        li.classList.add("tag-system");
        li.append(el("span", "visually-hidden", ` (${t("tags.system")})`));
      } else if (canEdit) {
        const x = el("button", "tag-remove", "×");
        x.type = "button";
        x.dataset.removeTag = tag;
        x.setAttribute("aria-label", t("tags.remove", { tag: tagText(tag) }));
        li.append(x);
      }
      return li;
    }),
  );
  p.list.hidden = tags.length === 0;
  p.none.hidden = tags.length > 0;
  p.controls.hidden = !canEdit;
  const chosen = p.choose.value; // a live refresh must not undo her choice
  const placeholder = el("option", "", t("tags.choosePlaceholder"));
  placeholder.value = "";
  const options = configuredTags()
    .filter((l) => !tags.includes(l.id))
    .map((l) => {
      const o = el("option", "", labelWord(l));
      o.value = l.id;
      return o;
    });
  p.choose.replaceChildren(placeholder, ...options);
  if (options.some((o) => o.value === chosen)) p.choose.value = chosen;
  p.free.maxLength = tagLimits().maxChars;
}

/**
 * @param {string[]} wanted the tags people set (triage's stay on the server)
 * @param {HTMLElement} focusAfter
 * @returns {Promise<boolean>} whether it was saved
 */
async function save(wanted, focusAfter) {
  const c = state.conv;
  if (!c || saving) return false;
  saving = true;
  const id = c.id;
  const data = await call("PUT", `/api/conversations/${encodeURIComponent(id)}/tags`, { tags: wanted });
  saving = false;
  if (!data || !data.conversation || state.openId !== id) return false;
  state.conv = data.conversation;
  renderTags();
  parts.said.textContent = t("tags.saved");
  afterSave();
  focusAfter.focus();
  return true;
}

function ownTags() {
  const tags = state.conv && Array.isArray(state.conv.tags) ? state.conv.tags : [];
  return tags.filter((tag) => !isSystemTag(tag));
}

/** @param {string} raw @param {HTMLInputElement | HTMLSelectElement} from */
async function add(raw, from) {
  const tag = raw.trim();
  if (!tag) {
    from.focus();
    return;
  }
  if ((await save([...ownTags(), tag], from)) && from instanceof HTMLInputElement) from.value = "";
}

/** @param {string} tag */
async function remove(tag) {
  await save(
    ownTags().filter((x) => x !== tag),
    parts.choose,
  );
}

/** @param {() => void} onSaved after a change: the head and the queue show it */
export function bindTags(onSaved) {
  afterSave = onSaved;
  build();
}
