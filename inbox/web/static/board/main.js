// @ts-check
// Tsunagu Inbox — the board page: boot. The frame (sign-in, nav, language) is lib/staff_page.js.

import { startStaffPage } from "../lib/staff_page.js";

startStaffPage({
  roles: ["supervisor"],
  onSignedIn: () => {},
});
