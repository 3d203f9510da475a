// "/" puts the cursor in the search box (on a room's page, the box that searches that room),
// unless the person is typing somewhere already. The search itself is a plain GET form.

import { searchUrl } from "./config.js";

function typingSomewhere(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select") !== null);
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typingSomewhere(event.target)) return;
  // The room's box where it is shown, else the top bar's; on a phone, where neither fits, the
  // search page.
  const boxes = [document.getElementById("room-search-q"), document.getElementById("search-q")];
  const box = boxes.find((element) => element && element.getClientRects().length > 0);
  event.preventDefault();
  if (!box) {
    if (document.getElementById("search-q")) location.assign(searchUrl);
    return;
  }
  box.focus();
  box.select();
});
