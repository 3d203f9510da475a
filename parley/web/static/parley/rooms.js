// Unread badges on the room list (the index page), for a signed-in user.
//
// The page follows no room, so it is not told about each new message: that would mean a frame
// per message per member, to sockets that mostly do not care. Instead the badges were rendered
// with the page, follow `unread` frames live (the user read a room in another tab or device; the
// bell's socket re-dispatches them as `parley:frame` events), and are refreshed from
// `GET /api/rooms` whenever the page regains focus and every 30 s while it is visible.
// Counts are set with textContent only.

const REFRESH_MS = 30_000;
const cards = new Map(); // slug -> {card, badge, lastRead}

for (const card of document.querySelectorAll(".room-card[data-room]")) {
  const badge = card.querySelector(".unread-count");
  if (!badge) continue;
  cards.set(card.dataset.room, { card, badge, lastRead: Number(card.dataset.lastRead || 0) });
}

// Apply one room's unread state, unless it is older than what the page shows: a marker never
// moves back, so a smaller last_read is a stale answer that crossed a newer one.
function apply(slug, count, lastRead) {
  const entry = cards.get(slug);
  if (!entry || lastRead < entry.lastRead) return;
  entry.lastRead = lastRead;
  entry.card.dataset.lastRead = String(lastRead);
  entry.badge.textContent = count > 99 ? "99+" : String(count);
  entry.badge.setAttribute("aria-label", `${count} unread`);
  entry.badge.hidden = count === 0;
}

let refreshing = false;

async function refresh() {
  if (refreshing || document.hidden) return;
  refreshing = true;
  try {
    const response = await fetch("/api/rooms", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return; // signed out, rate limited, …: the next refresh tries again
    for (const room of await response.json()) apply(room.slug, room.unread, room.last_read);
  } catch {
    // Offline: keep what is shown.
  } finally {
    refreshing = false;
  }
}

document.addEventListener("parley:frame", (event) => {
  const frame = event.detail;
  if (frame.type === "unread") apply(frame.room, frame.count, frame.last_read);
});
window.addEventListener("focus", refresh);
document.addEventListener("visibilitychange", refresh);
setInterval(refresh, REFRESH_MS);
