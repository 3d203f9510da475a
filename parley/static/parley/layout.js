// The app layout around a page: the room list (sidebar) and, on a room's page, the member list.
//
// Wide screens show sidebar | conversation | members side by side; the people button folds the
// member list away and back. At 1100 px and less the member list is a panel over the conversation,
// and at 720 px and less the sidebar is a drawer too, opened by the room header's menu button.
// An open panel makes the rest of the page inert (keyboard focus stays in it); Esc, the close
// button or a tap beside it closes it and gives focus back to the button that opened it.
// Alt+↑ and Alt+↓ go to the previous and next room of the sidebar, wherever focus is.

const body = document.body;
const sidebar = document.getElementById("sidebar");
const members = document.getElementById("members");
const menuButton = document.getElementById("menu-button");
const peopleButton = document.getElementById("people-button");
const scrim = document.getElementById("scrim");
const topbar = document.querySelector(".topbar");
const conversation = document.getElementById("conversation");

const phone = matchMedia("(max-width: 720px)");
const narrow = matchMedia("(max-width: 1100px)");
let open = null; // the panel shown over the page: {panel, opener, className}

function setInert(panel) {
  for (const element of [topbar, sidebar, conversation, members]) {
    if (element) element.inert = panel !== null && element !== panel;
  }
}

function showPanel(panel, opener, className) {
  if (open) closePanel(false);
  open = { panel, opener, className };
  body.classList.add(className);
  opener.setAttribute("aria-expanded", "true");
  if (scrim) scrim.hidden = false;
  setInert(panel);
  const first = panel.querySelector("[aria-current=page]") ?? panel.querySelector("a[href], button:not([disabled])");
  // Without preventScroll the browser scrolls the page sideways to a panel still sliding in.
  first?.focus({ preventScroll: true });
}

function closePanel(returnFocus = true) {
  if (!open) return;
  const { opener, className } = open;
  open = null;
  body.classList.remove(className);
  opener.setAttribute("aria-expanded", "false");
  if (scrim) scrim.hidden = true;
  setInert(null);
  if (returnFocus) opener.focus({ preventScroll: true });
}

function toggleSidebar() {
  if (open?.panel === sidebar) closePanel();
  else showPanel(sidebar, menuButton, "drawer-open");
}

// Wide: fold the member column away or back. Narrower: show it as a panel over the conversation.
function toggleMembers() {
  if (!narrow.matches) {
    const folded = body.classList.toggle("members-folded");
    peopleButton.setAttribute("aria-expanded", String(!folded));
    return;
  }
  if (open?.panel === members) closePanel();
  else showPanel(members, peopleButton, "members-open");
}

// Crossing a breakpoint closes what was open over the page; the buttons say what is shown.
function relayout() {
  closePanel(false);
  if (peopleButton) {
    const shown = !narrow.matches && !body.classList.contains("members-folded");
    peopleButton.setAttribute("aria-expanded", String(shown));
  }
  if (menuButton) menuButton.setAttribute("aria-expanded", "false");
}

menuButton?.addEventListener("click", toggleSidebar);
peopleButton?.addEventListener("click", toggleMembers);
document.getElementById("sidebar-close")?.addEventListener("click", () => closePanel());
document.getElementById("members-close")?.addEventListener("click", () => closePanel());
scrim?.addEventListener("click", () => closePanel());
phone.addEventListener("change", relayout);
narrow.addEventListener("change", relayout);
relayout();

// The sidebar's rooms and conversations, top to bottom.
function roomLinks() {
  return sidebar ? [...sidebar.querySelectorAll(".side-item[href]")] : [];
}

function goToNeighbour(step) {
  const links = roomLinks();
  if (!links.length) return;
  const here = links.findIndex((link) => link.getAttribute("aria-current") === "page");
  let next;
  if (here === -1) next = step > 0 ? 0 : links.length - 1;
  else next = Math.min(links.length - 1, Math.max(0, here + step));
  if (next === here) return;
  location.assign(links[next].href);
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.isComposing) return;
  if (event.key === "Escape" && open) {
    event.preventDefault();
    closePanel();
    return;
  }
  if (event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      goToNeighbour(event.key === "ArrowDown" ? 1 : -1);
    }
  }
});

// A link followed from the drawer leaves the page; one that does not (same page) closes it.
sidebar?.addEventListener("click", (event) => {
  if (open?.panel === sidebar && event.target.closest("a[href]")) closePanel(false);
});
