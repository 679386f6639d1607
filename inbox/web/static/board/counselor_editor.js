// @ts-check
// A counselor's profile, from her card: presence, capacity (in all and per channel), skills,
// languages, teams and her weekly shift (per weekday, windows like "09:00-17:00", in a time
// zone; the dated exceptions are kept as they are). Read with GET /api/counselors/{id}, saved
// with PATCH, which carries only the fields she changed (her presence changed meanwhile from her
// console stays as it is); the server checks every value, and an error names the field it is
// about. The shift says whether she works the desk's closed days (closed_days: "work" or
// "follow"); one more shift option plugs in with registerShiftOption() (#profile-shift-options).

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { announce, counselorName, focusBack, showError, signedOut } from "./action_kit.js";
import { getBoard, refresh } from "./state.js";

export const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const LABELS = ["skills", "languages", "teams"];
const DEFAULT_TZ = "Asia/Tokyo";

/**
 * Her shift as the API has it.
 * @typedef {object} ShiftData
 * @property {string} [timezone]
 * @property {Record<string, string[]>} [weekly]
 * @property {Record<string, string[]>} [exceptions]
 */

/**
 * Another shift option in the editor: it shows what a loaded shift says, and adds its keys to
 * the shift that is saved.
 * @typedef {object} ShiftOption
 * @property {(shift: (ShiftData & Record<string, unknown>) | null) => void} load
 * @property {() => Record<string, unknown>} read
 * @property {() => void} [render] re-word it (the language changed)
 */

/** @type {ShiftOption[]} */
const shiftOptions = [];

/**
 * Add a shift option; `node` goes in the editor's place for it (#profile-shift-options).
 * @param {HTMLElement} node
 * @param {ShiftOption} option
 */
export function registerShiftOption(node, option) {
  byId("profile-shift-options", HTMLElement).append(node);
  shiftOptions.push(option);
}

function editorEls() {
  return {
    dialog: byId("profile-dialog", HTMLDialogElement),
    form: byId("profile-form", HTMLFormElement),
    heading: byId("profile-heading", HTMLElement),
    error: byId("profile-error", HTMLElement),
    presence: byId("profile-presence", HTMLSelectElement),
    capacity: byId("profile-capacity", HTMLInputElement),
    channels: byId("profile-channels", HTMLFieldSetElement),
    skills: byId("profile-skills", HTMLInputElement),
    languages: byId("profile-languages", HTMLInputElement),
    teams: byId("profile-teams", HTMLInputElement),
    hasShift: byId("profile-has-shift", HTMLInputElement),
    closedDays: byId("profile-closed-days", HTMLInputElement),
    shiftBody: byId("profile-shift-body", HTMLElement),
    timezone: byId("profile-timezone", HTMLInputElement),
    days: byId("profile-days", HTMLElement),
    exceptions: byId("profile-exceptions", HTMLElement),
    cancel: byId("profile-cancel", HTMLButtonElement),
    save: byId("profile-save", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof editorEls> | null} */
let p = null;
/** @type {Map<string, HTMLInputElement>} channel -> its limit */
const channelInputs = new Map();
/** @type {Map<string, HTMLInputElement>} weekday -> its windows */
const dayInputs = new Map();
/** @type {Map<string, HTMLLabelElement>} */
const labelsFor = new Map();
/** Whom the dialog edits, and her shift's exceptions (kept as they are). @type {{id: number, name: string, exceptions: Record<string, string[]>} | null} */
let editing = null;
/** The form as it was filled (the PATCH body it read then): only what differs is sent, so a
 * field changed meanwhile elsewhere (her presence, from her console) is not overwritten.
 * @type {Record<string, unknown> | null} */
let loaded = null;
/** @type {HTMLElement | null} */
let opener = null;

/** @param {string} id @param {string} text */
function labelled(id, text) {
  const lab = /** @type {HTMLLabelElement} */ (el("label", "", text));
  lab.htmlFor = id;
  labelsFor.set(id, lab);
  return lab;
}

/**
 * A limit field for each channel the board has, and each she has a limit for (kept so that it
 * is not lost); built as the dialog opens.
 * @param {Record<string, unknown>} limits her channel_capacity
 */
function buildChannels(limits) {
  if (!p) return;
  const board = getBoard();
  const wanted = [...new Set([...(board ? board.channels.map((c) => c.channel) : []), ...Object.keys(limits)])];
  if (wanted.length === channelInputs.size && wanted.every((ch) => channelInputs.has(ch))) return;
  p.channels.querySelectorAll(".profile-channel").forEach((node) => node.remove());
  for (const input of channelInputs.values()) labelsFor.delete(input.id);
  channelInputs.clear();
  for (const channel of wanted) {
    const id = `profile-channel-${channel}`;
    const input = /** @type {HTMLInputElement} */ (el("input"));
    input.id = id;
    input.type = "number";
    input.min = "0";
    input.max = "50";
    input.step = "1";
    input.inputMode = "numeric";
    input.dataset.testid = id;
    input.dataset.channel = channel;
    input.setAttribute("aria-describedby", "profile-error");
    channelInputs.set(channel, input);
    const field = el("div", "field profile-channel");
    field.append(labelled(id, ""), input);
    p.channels.append(field);
  }
  renderLabels();
}

function build() {
  if (!p) return;
  for (const day of DAYS) {
    const id = `profile-day-${day}`;
    const input = /** @type {HTMLInputElement} */ (el("input"));
    input.id = id;
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.dataset.testid = id;
    input.setAttribute("aria-describedby", "profile-days-hint profile-error");
    dayInputs.set(day, input);
    const field = el("div", "field profile-day");
    field.append(labelled(id, ""), input);
    p.days.append(field);
  }
}

function renderLabels() {
  for (const [channel, input] of channelInputs) {
    const lab = labelsFor.get(input.id);
    if (lab) lab.textContent = t(`channel.${channel}`);
  }
  for (const [day, input] of dayInputs) {
    const lab = labelsFor.get(input.id);
    if (lab) lab.textContent = t(`profile.day.${day}`);
  }
}

function renderHeading() {
  if (!p || !editing) return;
  p.heading.textContent = t("profile.heading", { name: editing.name });
  const n = Object.keys(editing.exceptions).length;
  p.exceptions.hidden = n === 0;
  p.exceptions.textContent = n ? t("profile.exceptionsKept", { n }) : "";
}

function showShift() {
  if (!p) return;
  p.shiftBody.hidden = !p.hasShift.checked;
}

/** "ja, en" from ["en", "ja"]. @param {unknown} list */
function joined(list) {
  return Array.isArray(list) ? list.map(String).join(", ") : "";
}

/** The words of a list field, cut at commas (、，too). @param {string} text */
function words(text) {
  return text
    .split(/[,、，]/)
    .map((w) => w.trim())
    .filter(Boolean);
}

/** @param {string} text */
function windows(text) {
  return text
    .split(/[,、，\s]+/)
    .map((w) => w.trim())
    .filter(Boolean);
}

/** @param {any} c her profile */
function fill(c) {
  if (!p) return;
  p.presence.value = String(c.presence || "offline");
  p.capacity.value = String(c.capacity ?? "");
  const limits = c.channel_capacity && typeof c.channel_capacity === "object" ? c.channel_capacity : {};
  buildChannels(limits);
  for (const [channel, input] of channelInputs) input.value = channel in limits ? String(limits[channel]) : "";
  p.skills.value = joined(c.skills);
  p.languages.value = joined(c.languages);
  p.teams.value = joined(c.teams);
  /** @type {(ShiftData & Record<string, unknown>) | null} */
  const shift = c.shift && typeof c.shift === "object" ? c.shift : null;
  p.hasShift.checked = shift !== null;
  p.timezone.value = (shift && shift.timezone) || DEFAULT_TZ;
  const weekly = (shift && shift.weekly) || {};
  for (const [day, input] of dayInputs) input.value = Array.isArray(weekly[day]) ? weekly[day].join(", ") : "";
  p.closedDays.checked = Boolean(shift && shift.closed_days === "work");
  for (const option of shiftOptions) option.load(shift);
  if (editing) editing.exceptions = (shift && shift.exceptions) || {};
  showShift();
}

/**
 * Open her profile.
 * @param {number} id
 * @param {HTMLElement | null} from where focus goes back
 */
export async function openProfile(id, from) {
  if (!p) return;
  const dlg = p;
  opener = from;
  clearInvalid();
  showError(dlg.error, null);
  let data;
  try {
    data = await api("GET", `/api/counselors/${encodeURIComponent(id)}`);
  } catch (err) {
    if (signedOut(err)) return;
    announce(err instanceof Error ? err.message : t("error.network"));
    return;
  }
  const c = data && data.counselor;
  if (!c) return;
  editing = { id, name: String(c.display_name || c.username || counselorName(id)), exceptions: {} };
  fill(c);
  loaded = formBody().body;
  renderHeading();
  dlg.save.disabled = false;
  if (!dlg.dialog.open) dlg.dialog.showModal();
  dlg.presence.focus();
}

function clearInvalid() {
  if (!p) return;
  for (const node of p.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/** The input a server field (or ours) is about: "shift.weekly.monday[0]" -> Monday's. @param {string} field */
function inputFor(field) {
  if (!p) return null;
  const [head, rest = ""] = field.split(/\.(.*)/s);
  const base = head.replace(/\[\d+\]$/, "");
  if (base === "capacity") return p.capacity;
  if (base === "presence") return p.presence;
  if (base === "skills") return p.skills;
  if (base === "languages") return p.languages;
  if (base === "teams") return p.teams;
  if (base === "channel_capacity") return channelInputs.get(rest.split(".")[0]) || channelInputs.values().next().value || null;
  if (base === "shift") {
    if (rest.startsWith("timezone")) return p.timezone;
    const day = /^weekly\.([a-z]+)/.exec(rest);
    if (day) return dayInputs.get(day[1]) || null;
    if (rest.startsWith("closed_days")) return p.closedDays;
    return p.hasShift;
  }
  return null;
}

/** What a field needs, in her language. @param {string} field */
function hintFor(field) {
  if (field.startsWith("capacity") || field.startsWith("channel_capacity")) return t("profile.hint.limit");
  if (field.startsWith("shift.timezone")) return t("profile.hint.timezone");
  if (field.startsWith("shift.weekly")) return t("profile.hint.windows");
  if (LABELS.some((name) => field.startsWith(name))) return t("profile.hint.label");
  return t("error.code.validation");
}

/** Say which field is wrong, mark it and go there. @param {string} field @param {string} [message] */
function fieldError(field, message) {
  if (!p) return;
  const input = inputFor(field);
  const lab = input ? labelsFor.get(input.id) || p.form.querySelector(`label[for="${CSS.escape(input.id)}"]`) : null;
  const name = lab ? lab.textContent || field : field;
  showError(p.error, t("profile.fieldError", { field: name.trim(), problem: message || hintFor(field) }));
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/**
 * The whole PATCH body the form says, or the field whose number is not one.
 * @returns {{body: Record<string, unknown> | null, bad: string | null}}
 */
function formBody() {
  if (!p) return { body: null, bad: null };
  const capacity = Number(p.capacity.value);
  if (p.capacity.value.trim() === "" || !Number.isInteger(capacity)) return { body: null, bad: "capacity" };
  /** @type {Record<string, number>} */
  const limits = {};
  for (const [channel, input] of channelInputs) {
    if (input.value.trim() === "") continue;
    const n = Number(input.value);
    if (!Number.isInteger(n)) return { body: null, bad: `channel_capacity.${channel}` };
    limits[channel] = n;
  }
  /** @type {Record<string, unknown>} */
  const body = {
    presence: p.presence.value,
    capacity,
    channel_capacity: limits,
    skills: words(p.skills.value),
    languages: words(p.languages.value),
    teams: words(p.teams.value),
    shift: null,
  };
  if (p.hasShift.checked) {
    /** @type {Record<string, string[]>} */
    const weekly = {};
    for (const [day, input] of dayInputs) {
      const list = windows(input.value);
      if (list.length) weekly[day] = list;
    }
    /** @type {Record<string, unknown>} */
    let shift = {
      timezone: p.timezone.value.trim() || DEFAULT_TZ,
      weekly,
      exceptions: editing ? editing.exceptions : {},
      closed_days: p.closedDays.checked ? "work" : "follow",
    };
    for (const option of shiftOptions) shift = { ...shift, ...option.read() };
    body.shift = shift;
  }
  return { body, bad: null };
}

/** A value as one comparable string (object keys sorted). @param {unknown} value @returns {string} */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fields of `body` that differ from `before` (all of them without `before`); a changed
 * shift is sent whole (with her closed days and exceptions).
 * @param {Record<string, unknown>} body
 * @param {Record<string, unknown> | null} before
 */
export function changedFields(body, before) {
  if (!before) return body;
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [key, value] of Object.entries(body)) {
    if (!(key in before) || canonical(before[key]) !== canonical(value)) out[key] = value;
  }
  return out;
}

/** The PATCH body from the form: only what she changed; null (the field said) when a number is not one. */
function readForm() {
  const { body, bad } = formBody();
  if (!body) {
    if (bad) fieldError(bad);
    return null;
  }
  return changedFields(body, loaded);
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!p || !editing) return;
  const dlg = p;
  const her = editing;
  clearInvalid();
  showError(dlg.error, null);
  const body = readForm();
  if (!body) return;
  if (!Object.keys(body).length) {
    announce(t("profile.unchanged", { name: her.name }));
    dlg.dialog.close();
    return;
  }
  dlg.save.disabled = true;
  try {
    await api("PATCH", `/api/counselors/${encodeURIComponent(her.id)}`, body);
  } catch (err) {
    dlg.save.disabled = false;
    if (signedOut(err)) return;
    if (err instanceof ApiError && err.field) fieldError(err.field);
    else showError(dlg.error, err);
    return;
  }
  dlg.save.disabled = false;
  announce(t("profile.saved", { name: her.name }));
  dlg.dialog.close();
  refresh().catch(() => {});
}

export function renderEditor() {
  renderLabels();
  renderHeading();
  for (const option of shiftOptions) option.render?.();
}

export function bindEditor() {
  p = editorEls();
  const dlg = p;
  build();
  renderLabels();
  dlg.form.addEventListener("submit", onSubmit);
  dlg.cancel.addEventListener("click", () => dlg.dialog.close());
  dlg.hasShift.addEventListener("change", showShift);
  dlg.form.addEventListener("input", (e) => {
    if (e.target instanceof Element) e.target.removeAttribute("aria-invalid");
  });
  dlg.dialog.addEventListener("close", () => {
    editing = null;
    loaded = null;
    focusBack(opener);
    opener = null;
  });
}
