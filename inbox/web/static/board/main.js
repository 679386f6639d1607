// @ts-check
// Tsunagu Inbox — the board page: boot. The frame (sign-in, nav, language) is lib/staff_page.js;
// the board's data and renders are state.js, its regions counselors.js, queue.js,
// conversations.js and alerts.js, and live.js keeps it current over the staff socket.

import { startStaffPage } from "../lib/staff_page.js";
import { loadLabels } from "../console/labels.js";
import { render } from "./state.js";
import { startAlerts } from "./alerts.js";
import { startCounselors } from "./counselors.js";
import { startQueue } from "./queue.js";
import { startConversations } from "./conversations.js";
import { startLineQuota } from "./line_quota.js";
import { startLive, stopLive, relabelLive } from "./live.js";
import { startActions } from "./actions.js"; // --- actions: move, drain, profile

startStaffPage({
  roles: ["supervisor"],
  onSignedIn: async () => {
    startAlerts();
    startCounselors();
    startQueue();
    startConversations();
    startLineQuota();
    startActions();
    await loadLabels();
    startLive();
  },
  onLangChange: () => {
    relabelLive();
    render();
  },
  onSignOut: stopLive,
});
