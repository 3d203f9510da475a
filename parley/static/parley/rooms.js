// Unread badges on the room lists of a page (the sidebar, the index page's cards), for a signed-in
// user.
//
// Every element with `data-room` and an `.unread-count` inside is a badge for that room. The page
// follows at most one room, so it is not told about each new message elsewhere: that would mean a
// frame per message per member, to sockets that mostly do not care. Instead the badges were
// rendered with the page, follow `unread` frames live (the user read a room in another tab or
// device, or someone wrote to them in a direct conversation: the server pushes that one to the
// page's ParleyClient, connection.js), and are refreshed from
// the API's `GET rooms` whenever the page regains focus and every 30 s while it is visible.
// A direct conversation the page does not list yet (someone wrote first) is added to the sidebar
// from `GET dms`. The open room's own badge stays hidden: its messages are on screen.
// Names and counts are set with textContent only.

import { apiUrl, roomUrl } from "./config.js";
import { pageClient } from "./connection.js";

const REFRESH_MS = 30_000;
const rooms = new Map(); // slug -> {lastRead, badges: [element]}
const notDirect = new Set(); // slugs the API's dms did not know: do not ask about them again
const directList = document.getElementById("side-directs");
const menuDot = document.getElementById("menu-dot");

function register(element) {
  const badge = element.querySelector(".unread-count");
  if (!badge) return;
  const slug = element.dataset.room;
  const entry = rooms.get(slug) ?? { lastRead: 0, badges: [] };
  entry.lastRead = Math.max(entry.lastRead, Number(element.dataset.lastRead || 0));
  entry.badges.push(badge);
  rooms.set(slug, entry);
}

for (const element of document.querySelectorAll("[data-room]")) register(element);

function isOpen(badge) {
  return badge.closest("[aria-current=page]") !== null;
}

// The menu button of a phone's room page shows a dot while some other room has unread messages.
function updateMenuDot() {
  if (!menuDot) return;
  const sidebar = document.getElementById("sidebar");
  menuDot.hidden = !sidebar?.querySelector(".unread-count:not([hidden])");
}

// Apply one room's unread state, unless it is older than what the page shows: a marker never
// moves back, so a smaller last_read is a stale answer that crossed a newer one.
function apply(slug, count, lastRead) {
  const entry = rooms.get(slug);
  if (!entry) {
    if (count > 0) findDirect(slug);
    return;
  }
  if (lastRead < entry.lastRead) return;
  entry.lastRead = lastRead;
  for (const badge of entry.badges) {
    badge.closest("[data-room]").dataset.lastRead = String(lastRead);
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.setAttribute("aria-label", `${count} unread`);
    badge.hidden = count === 0 || isOpen(badge);
  }
  updateMenuDot();
}

// A sidebar entry for a direct conversation, shaped like the server-rendered ones.
function directItem(conversation) {
  const link = document.createElement("a");
  link.className = "side-item direct";
  link.href = roomUrl(conversation.room);
  link.dataset.room = conversation.room;
  link.dataset.name = conversation.with_user;
  link.dataset.lastRead = "0";
  const avatar = document.createElement("span");
  avatar.className = "avatar tiny";
  avatar.setAttribute("aria-hidden", "true");
  avatar.textContent = (Array.from(conversation.with_user)[0] || "?").toUpperCase();
  const name = document.createElement("span");
  name.className = "side-name";
  name.textContent = conversation.with_user;
  const badge = document.createElement("span");
  badge.className = "unread-count";
  badge.title = "Unread messages";
  badge.hidden = true;
  link.append(avatar, name, badge);
  const item = document.createElement("li");
  item.append(link);
  return item;
}

const wanted = new Set(); // unlisted slugs with unread messages, to look for among the conversations
let findingDirects = false;

// An unread room the page does not list: if it is one of the user's direct conversations (someone
// wrote first), add it at the top of the sidebar's list. Other rooms (new ones, and for staff
// everyone else's conversations) wait for the next page load.
async function findDirect(slug) {
  if (!directList || notDirect.has(slug)) return;
  wanted.add(slug);
  if (findingDirects) return;
  findingDirects = true;
  const asked = [...wanted];
  wanted.clear();
  try {
    const response = await fetch(apiUrl("dms"), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const known = new Set();
    for (const conversation of (await response.json()).reverse()) {
      known.add(conversation.room);
      if (rooms.has(conversation.room)) continue;
      const item = directItem(conversation);
      directList.prepend(item);
      register(item.querySelector("[data-room]"));
      apply(conversation.room, conversation.unread, 0);
    }
    document.getElementById("side-directs-empty")?.remove();
    for (const each of asked) if (!known.has(each)) notDirect.add(each);
  } catch {
    // Offline: the next refresh asks again.
  } finally {
    findingDirects = false;
  }
}

let refreshing = false;

async function refresh() {
  if (refreshing || document.hidden) return;
  refreshing = true;
  try {
    const response = await fetch(apiUrl("rooms"), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return; // signed out, rate limited, …: the next refresh tries again
    for (const room of await response.json()) apply(room.slug, room.unread, room.last_read);
  } catch {
    // Offline: keep what is shown.
  } finally {
    refreshing = false;
  }
}

pageClient().on("unread", (frame) => apply(frame.room, frame.count, frame.last_read));
window.addEventListener("focus", refresh);
document.addEventListener("visibilitychange", refresh);
setInterval(refresh, REFRESH_MS);
updateMenuDot();
