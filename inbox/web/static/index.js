// @ts-check
// The start page: its link to the chat replaces the start page in the browser's history, so that
// after the chat's quick exit (which replaces the chat) Back does not lead to the service either.

for (const link of document.querySelectorAll("a[data-replace]")) {
  if (!(link instanceof HTMLAnchorElement)) continue;
  link.addEventListener("click", (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // a new tab
    e.preventDefault();
    window.location.replace(link.href);
  });
}
