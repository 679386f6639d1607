// @ts-check
// A conversation's channel as the console shows it (queue, conversation header, search, her
// history): its word, and for LINE a speech-bubble mark beside it so a LINE consultation is
// told apart at a glance. The mark is drawn with DOM APIs (strict CSP: no inline style, no
// download) and is decorative: the word "LINE" is its accessible text.

import { label } from "../i18n.js";
import { el } from "../lib/dom.js";

const SVG = "http://www.w3.org/2000/svg";

/** A LINE-style speech bubble, coloured by CSS (.channel-mark). */
function lineMark() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("channel-mark");
  const bubble = document.createElementNS(SVG, "path");
  bubble.setAttribute(
    "d",
    "M10 2C5.03 2 1 5.2 1 9.15c0 3.54 3.2 6.5 7.5 7.06.3.06.7.2.8.45.1.22.06.57.03.8l-.13.76c-.04.22-.18.88.8.48s5.2-3.06 7.1-5.24C18.4 12.04 19 10.66 19 9.15 19 5.2 14.97 2 10 2Z",
  );
  bubble.classList.add("channel-mark-bubble");
  svg.append(bubble);
  return svg;
}

/**
 * The channel's word in a span of this class, with the LINE mark for a LINE conversation.
 * @param {string} channel
 * @param {string} className e.g. "qi-channel"
 */
export function channelTag(channel, className) {
  const tag = el("span", className);
  tag.dataset.channel = channel;
  if (channel === "line") {
    tag.classList.add("channel-line");
    tag.append(lineMark());
  }
  tag.append(el("span", "channel-word", label("channel", channel)));
  return tag;
}
