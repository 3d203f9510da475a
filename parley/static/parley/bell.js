// The notification bell, `{% parley_bell %}`, on any page of a signed-in user (protocol v1, docs/protocol.md).
//
// It listens on the page's ParleyClient (connection.js, shared with the page's other scripts): the
// server pushes notifications without a subscription. The page was rendered with the newest
// notifications; on every (re)connect the bell asks for everything after the newest id it holds,
// so none stored meanwhile is missed, and for the unread count as it is now.
// Each notification is also announced as a `parley:notification` event on `document`, so other
// scripts on the page (an order page, say) can react without a client of their own.
// Text is always set with textContent: a notification's data never becomes HTML, and a link is
// made only to this site or to an origin the server allows (`safeHref`), whatever is stored.

import { pageClient } from "./connection.js";

const state = JSON.parse(document.getElementById("parley-bell").textContent);
const bell = document.getElementById("bell");
const button = document.getElementById("bell-button");
const panel = document.getElementById("bell-panel");
const list = document.getElementById("bell-list");
const empty = document.getElementById("bell-empty");
const counter = document.getElementById("bell-count");
const readAll = document.getElementById("bell-read-all");
const client = pageClient();

const SHOWN = 20; // notifications kept in the list
const shown = new Map(); // id -> {notification, element}
let newestId = 0;

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// `url` as a link this bell may make, or null: resolved by the browser's own URL parser (which
// reads "/\\evil.example" and "/\t/evil.example" as "//evil.example"), it must stay on this site
// or on an origin the server lists; javascript: and data: URLs have no such origin.
function safeHref(url) {
  if (typeof url !== "string") return null;
  let resolved;
  try {
    resolved = new URL(url, location.href);
  } catch {
    return null;
  }
  if (resolved.protocol !== "http:" && resolved.protocol !== "https:") return null;
  const origins = state.link_origins ?? [];
  return resolved.origin === location.origin || origins.includes(resolved.origin) ? resolved.href : null;
}

function render(notification) {
  // The server words every notification and picks its link (`text`, `url`: the kinds registered
  // in parley.notifications.kinds), for any kind; the link is checked again here all the same.
  const href = safeHref(notification.url);
  const item = document.createElement("li");
  item.className = notification.read ? "read" : "unread";
  item.dataset.id = String(notification.id);
  const link = document.createElement(href ? "a" : "span");
  if (href) link.href = href;
  link.className = "bell-text";
  link.textContent = notification.text ?? notification.kind;
  const when = document.createElement("time");
  when.dateTime = notification.created_at;
  when.textContent = timeFormat.format(new Date(notification.created_at));
  item.append(link, when);
  link.addEventListener("click", () => markRead(notification.id));
  return item;
}

function remember(notification, live) {
  newestId = Math.max(newestId, notification.id);
  if (shown.has(notification.id)) return;
  const element = render(notification);
  shown.set(notification.id, { notification, element });
  const newer = [...shown.keys()].filter((id) => id > notification.id).length;
  list.insertBefore(element, list.children[newer] ?? null);
  while (shown.size > SHOWN) {
    const oldest = Math.min(...shown.keys());
    shown.get(oldest).element.remove();
    shown.delete(oldest);
  }
  empty.hidden = shown.size > 0;
  if (live) document.dispatchEvent(new CustomEvent("parley:notification", { detail: notification }));
}

function setUnread(count) {
  // The name says what the badge shows (99+ included), so that the visible text is part of it.
  counter.textContent = count > 99 ? "99+" : String(count);
  counter.hidden = count === 0;
  button.setAttribute("aria-label", count ? `Notifications, ${counter.textContent} unread` : "Notifications");
  if (count === 0) for (const { element } of shown.values()) element.className = "read";
}

function markRead(id) {
  const entry = shown.get(id);
  if (entry) entry.element.className = "read";
  client.markNotificationRead(id).then(setUnread, () => {});
}

// Everything after the newest notification held, and the unread count: the page's first answer
// makes the bell live, and every reconnect asks again (the count may have moved meanwhile).
function catchUp() {
  client.notifications({ since: newestId }).then(
    ({ unread }) => {
      setUnread(unread);
      bell.dataset.live = String(client.state === "open");
    },
    () => {},
  );
}

client.on("notification", (notification) => remember(notification, true));
client.on("notifications_unread", (frame) => setUnread(frame.count));
client.on("state", (state) => {
  if (state === "open") catchUp();
  else bell.dataset.live = "false";
});

function toggle(open) {
  panel.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
}

button.addEventListener("click", () => toggle(panel.hidden));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !panel.hidden) {
    toggle(false);
    button.focus();
  }
});
document.addEventListener("click", (event) => {
  if (!panel.hidden && !bell.contains(event.target)) toggle(false);
});
readAll.addEventListener("click", () => {
  setUnread(0);
  client.markAllNotificationsRead().then(setUnread, () => {});
});

for (const notification of state.recent.slice().reverse()) remember(notification, false);
setUnread(state.unread);
if (client.state === "open") catchUp();
