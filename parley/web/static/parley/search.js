// "/" puts the cursor in the search box (on a room's page, the box that searches that room),
// unless the person is typing somewhere already. The search itself is a plain GET form.

function typingSomewhere(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select") !== null);
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typingSomewhere(event.target)) return;
  const box = document.getElementById("room-search-q") ?? document.getElementById("search-q");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});
