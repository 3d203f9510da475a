// Parley's chat page: the DOM around the page's ParleyClient (connection.js, the npm package
// parley-client), which does everything on the socket: subscribing and resuming from the last
// seq, filling gaps from history, resending unacknowledged sends with the same client_id,
// reconnecting with back-off. Messages come from it once each, in seq order.
//
// Messages are always inserted with textContent, never as HTML, so nothing a person types can run
// as script.

import { pageClient } from "./connection.js";
import { fullFormat, messageElement, showAttachments } from "./messages.js";
import { roomThreads } from "./threads.js";
import { composerUploads } from "./uploads.js";

const config = JSON.parse(document.getElementById("parley-config").textContent);
const history = JSON.parse(document.getElementById("parley-history").textContent);
const client = pageClient();

const log = document.getElementById("log");
const list = document.getElementById("messages");
const empty = document.getElementById("empty");
const olderButton = document.getElementById("older");
const composer = document.getElementById("composer");
const input = document.getElementById("body");
const connection = document.getElementById("connection");
const latestButton = document.getElementById("latest");
const pageTitle = document.title;

const rendered = new Map(); // seq -> <li>
const unacked = new Map(); // client_id -> {element}: shown, not yet stored
let lastSeq = 0; // the newest seq on screen: where the subscription starts
let oldestSeq = null;
let live = false; // subscribed to the room on an open socket
let unseen = 0; // messages that arrived while the tab was in the background
let roomLost = false; // the server took the room away (a ban, a removal): stay out of it
// Read state (signed-in users): the user's read marker in this room as last heard from the
// server, and the newest seq this tab asked it to move to. Guests keep no marker.
let readUpTo = config.lastRead ?? 0;
let readAsked = readUpTo;
let readTimer = null;
let readSentAt = 0;
const READ_EVERY_MS = 1000; // at most one `read` a second

const GROUP_GAP_MS = 5 * 60 * 1000; // consecutive messages closer than this share one header
// An @mention as the server finds one (parley/mentions/parsing.py): "@" at the start or after a
// character that cannot be in a name, then a username; a trailing "." ends the sentence. Python's
// \w is Unicode, so the letters and digits here are too. Only the first MAX_MENTIONS distinct
// names notify anyone, so only those are marked.
const MENTION = /(?<![\p{L}\p{M}\p{N}_.+@-])@([\p{L}\p{M}\p{N}_.+-]+)/gu;
const MAX_MENTIONS = 20;
// Guests are never mentioned: only signed-in people have a name others can @.
const myName = config.me.guest ? null : config.me.name.toLowerCase();

function newClientId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function scrollToNewest() {
  log.scrollTop = log.scrollHeight;
}

// Set a stored message's text, with each @mention of the reader in a <mark> (text nodes only,
// never HTML). Returns whether the message mentions the reader: what the bell counts.
function fillBody(element, body, mine) {
  element.replaceChildren();
  if (myName === null || mine || !body.includes("@")) {
    element.textContent = body;
    return false;
  }
  const names = new Set();
  let shown = 0;
  for (const match of body.matchAll(MENTION)) {
    const name = match[1].replace(/\.+$/u, "");
    if (!name) continue;
    names.add(name.toLowerCase());
    if (names.size > MAX_MENTIONS) break;
    if (name.toLowerCase() !== myName) continue;
    const end = match.index + 1 + name.length;
    const mark = document.createElement("mark");
    mark.className = "mention-me";
    mark.textContent = body.slice(match.index, end);
    element.append(body.slice(shown, match.index), mark);
    shown = end;
  }
  element.append(body.slice(shown));
  return shown > 0;
}

// Decide, for a message and the one after it, whether each starts a new day or continues the
// previous message's group (same author, a few minutes apart).
function regroup(item) {
  for (const element of [item, item?.nextElementSibling]) {
    if (!element) continue;
    const previous = element.previousElementSibling;
    const newDay = !previous || previous.dataset.day !== element.dataset.day;
    const continued =
      !newDay &&
      previous.dataset.author === element.dataset.author &&
      Number(element.dataset.time) - Number(previous.dataset.time) < GROUP_GAP_MS;
    element.classList.toggle("new-day", newDay);
    element.classList.toggle("continued", continued);
  }
}

function removeMessageElement(element) {
  const next = element.nextElementSibling;
  element.remove();
  if (next) regroup(next);
}

function isMine(author) {
  return config.me.guest ? author.guest && author.name === config.me.name : author.id === config.me.id;
}

// Insert a stored message in seq order; a seq already on screen is ignored. Returns whether it
// was new.
function showMessage(message) {
  if (rendered.has(message.seq)) return false;
  const stick = nearBottom();
  const item = messageElement(message.author, message.body, message.created_at, isMine(message.author));
  item.dataset.seq = String(message.seq);
  const pending = unacked.get(message.client_id);
  if (pending && isMine(message.author)) {
    removeMessageElement(pending.element);
    unacked.delete(message.client_id);
  }
  let before = null;
  for (const [seq, element] of rendered) {
    if (seq > message.seq && (before === null || seq < Number(before.dataset.seq))) before = element;
  }
  list.insertBefore(item, before ?? firstPending());
  regroup(item);
  rendered.set(message.seq, item);
  decorate(item, message);
  lastSeq = Math.max(lastSeq, message.seq);
  oldestSeq = oldestSeq === null ? message.seq : Math.min(oldestSeq, message.seq);
  empty.hidden = true;
  if (stick || isMine(message.author)) scrollToNewest();
  else if (before === null) latestButton.hidden = false; // it landed below what the reader sees
  return true;
}

function noteArrival(message) {
  if (!document.hidden || isMine(message.author)) return;
  unseen += 1;
  document.title = `(${unseen}) ${pageTitle}`;
}

function firstPending() {
  const first = unacked.values().next();
  return first.done ? null : first.value.element;
}

function setConnection(state, text) {
  connection.className = `connection ${state}`;
  connection.textContent = text;
}

function showError(detail) {
  let note = composer.querySelector(".composer-error");
  if (!note) {
    note = document.createElement("p");
    note.className = "composer-error";
    note.setAttribute("role", "alert");
    composer.prepend(note);
  }
  note.textContent = detail;
  setTimeout(() => note.remove(), 6000);
}

// The "new messages" divider goes above the first message after `after` that someone else wrote;
// without one (all read, or all yours), there is none.
function placeDivider(after) {
  for (const old of list.querySelectorAll(".first-unread")) {
    old.classList.remove("first-unread");
    old.querySelector(".unread-divider")?.remove();
  }
  if (!after) return; // first visit: everything is new, a divider would say nothing
  const seqs = [...rendered.keys()].filter((seq) => seq > after).sort((a, b) => a - b);
  const first = seqs.map((seq) => rendered.get(seq)).find((item) => !item.classList.contains("mine"));
  if (!first) return;
  const divider = document.createElement("span");
  divider.className = "unread-divider";
  divider.setAttribute("role", "separator");
  divider.textContent = "New messages";
  first.classList.add("first-unread");
  first.prepend(divider);
}

// Tell the server how far the reader has read: the newest message on screen, once it is in view
// in a visible tab, at most once a second.
function noteRead() {
  if (config.me.guest || document.hidden || !live || !nearBottom() || lastSeq <= readAsked) return;
  if (readTimer !== null) return;
  const wait = Math.max(0, readSentAt + READ_EVERY_MS - Date.now());
  readTimer = setTimeout(() => {
    readTimer = null;
    if (document.hidden || !live || !nearBottom() || lastSeq <= readAsked) return;
    readAsked = lastSeq;
    readSentAt = Date.now();
    // The answer is an `unread` state, which handleUnread hears as an event like any other.
    client.read(config.room, lastSeq).catch(() => {});
  }, wait);
}

// The user's marker in this room moved (here, or in another tab or device). A marker never moves
// back, so an older state is stale. Read further elsewhere than here: the divider and the title's
// count follow.
function handleUnread(frame) {
  if (frame.room !== config.room || frame.last_read < readUpTo) return;
  readUpTo = frame.last_read;
  if (frame.last_read <= readAsked) return; // this tab's own read: leave the divider where the reader saw it
  readAsked = frame.last_read;
  placeDivider(frame.last_read);
  unseen = Math.min(unseen, frame.count);
  document.title = unseen ? `(${unseen}) ${pageTitle}` : pageTitle;
}

// The socket's state, as the composer's status line says it. "Live" waits for the room's
// `subscribed`: an open socket is not yet following the room.
client.on("state", (state) => {
  if (state === "open" || roomLost) return;
  live = false;
  if (state === "connecting") setConnection("connecting", "Connecting…");
  else if (state === "reconnecting") setConnection("offline", "Offline — reconnecting…");
  else if (state === "closed") setConnection("offline", "Signed out — reload to sign in");
});

client.on("subscribed", (frame) => {
  if (frame.room !== config.room || roomLost) return;
  live = true;
  setConnection("live", "Live");
  olderButton.disabled = false;
  noteRead();
});

client.on("message", (message) => {
  if (message.room !== config.room) return;
  if (showMessage(message)) noteArrival(message);
  threads.arrived(message);
  noteRead();
});

client.on("unread", handleUnread);
client.on("message_updated", (frame) => {
  if (frame.room !== config.room) return;
  showUpdate(frame);
  threads.updated(frame);
});
client.on("reactions", (frame) => {
  if (frame.room === config.room) showReactions(frame.seq, frame.counts, frame.mine);
});

// A send the server could not store yet goes again by itself (same client_id): say so beside it.
client.on("retrying", ({ frame }) => {
  const pending = frame.type === "send" ? unacked.get(frame.client_id) : undefined;
  const time = pending?.element.querySelector("time");
  if (time) time.textContent = "retrying…";
});

// Errors no request of this page waits for: why a room is about to be taken away, why the
// sign-in ended (the state says "closed" too), a stretch of history that could not be fetched.
client.on("error", (error) => {
  if (error.closeCode === 4401 || roomLost) return;
  showError(error.detail);
});

// The page never unsubscribes by itself: the server took the room away.
client.on("unsubscribed", ({ room, detail }) => {
  if (room === config.room) loseRoom(detail);
});

// Banned from the room, or removed from a private one: say why and stop the composer. The client
// no longer follows the room, so no reconnect goes back into it; the socket stays for the bell.
function loseRoom(detail) {
  roomLost = true;
  live = false;
  for (const note of composer.querySelectorAll(".composer-error")) note.remove();
  const note = document.createElement("p");
  note.className = "composer-error room-lost";
  note.setAttribute("role", "alert");
  note.textContent = detail || "You can no longer use this room.";
  composer.prepend(note);
  input.disabled = true;
  composer.querySelector("button[type=submit]").disabled = true;
  setConnection("offline", "No access");
}

// Follow the room from the newest message the page was rendered with: the client replays what
// came after it, and after every reconnect whatever came after the last one shown.
function follow() {
  setConnection("connecting", "Connecting…");
  const since = lastSeq;
  client.subscribe(config.room, { since }).then(
    (frame) => {
      // Nothing was on screen and the replay was cut short: older messages are a click away.
      if (frame.truncated && since === 0) olderButton.hidden = false;
    },
    (error) => {
      if (roomLost || error.code === "closed") return;
      setConnection("offline", "Room unavailable");
      showError(error.detail);
    },
  );
}

// --- edits, deletes and reactions (docs/protocol.md, "Edits, deletes and reactions") ---------
// Their results come back as `message_updated` and `reactions` events, here and on every page.

// A request the server refused: say why (a client closed for good says so in its status line).
function refused(error) {
  if (error.code !== "closed") showError(error.detail);
}
const threads = roomThreads({ client, config, rendered, isMine, refused });
// Guests have nothing to upload with (the API is for signed-in people): no attach button.
const uploads = config.me.guest
  ? null
  : composerUploads({ client, room: config.room, csrfToken: config.csrfToken, input, dropTarget: document.getElementById("conversation") });

const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];

function button(className, label, text) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.setAttribute("aria-label", label);
  element.title = label;
  element.textContent = text;
  return element;
}

// Give a stored message its actions (edit and delete on your own; delete on every message for
// moderators; react for signed-in people), its "(edited)" marker and its reactions row.
function decorate(item, message) {
  const mine = isMine(message.author);
  const actions = document.createElement("div");
  actions.className = "message-actions";
  if (!config.me.guest) {
    const react = button("action react-open", "Add a reaction", "☺+");
    react.addEventListener("click", () => togglePicker(item));
    actions.append(react);
  }
  if (mine) {
    const edit = button("action edit", "Edit this message", "Edit");
    edit.addEventListener("click", () => startEditing(item));
    actions.append(edit);
  }
  if (mine || config.moderator) {
    const remove = button("action delete", "Delete this message", "Delete");
    remove.addEventListener("click", () => {
      if (confirm("Delete this message for everyone?")) {
        client.delete(config.room, Number(item.dataset.seq)).catch(refused);
      }
    });
    actions.append(remove);
  }
  const reactions = document.createElement("div");
  reactions.className = "reactions";
  if (!message.deleted) {
    const reply = button("action reply", "Reply in thread", "Reply");
    reply.addEventListener("click", () => threads.open(threads.threadOf(message), reply));
    actions.prepend(reply);
  }
  item.append(actions, reactions);
  showAttachments(item, message.deleted ? [] : message.attachments);
  threads.decorate(item, message);
  showUpdate({ seq: message.seq, body: message.body, edited_at: message.edited_at, deleted: message.deleted });
  showReactions(message.seq, message.reactions ?? {}, message.mine ?? []);
}

function showUpdate(frame) {
  const item = rendered.get(frame.seq);
  if (!item) return;
  const body = item.querySelector(".body");
  item.classList.toggle("deleted", Boolean(frame.deleted));
  if (frame.deleted) {
    item.classList.remove("mentions-me");
    body.textContent = "message deleted";
    item.querySelector(".message-actions")?.remove();
    item.querySelector(".editor")?.remove();
    item.querySelector(".attachments")?.remove();
    body.hidden = false;
    showReactions(frame.seq, {}, []);
    return;
  }
  // An edit (message_updated) names no author: the item knows whose it is.
  item.classList.toggle("mentions-me", fillBody(body, frame.body, item.classList.contains("mine")));
  let marker = item.querySelector(".edited");
  if (frame.edited_at && !marker) {
    marker = document.createElement("span");
    marker.className = "edited";
    marker.textContent = "(edited)";
    item.querySelector(".message-actions").prepend(marker);
  }
  if (marker && frame.edited_at) marker.title = fullFormat.format(new Date(frame.edited_at));
}

function showReactions(seq, counts, mine) {
  const item = rendered.get(seq);
  const row = item?.querySelector(".reactions");
  if (!row) return;
  row.replaceChildren();
  for (const [emoji, count] of Object.entries(counts)) {
    const own = mine.includes(emoji);
    const chip = button("reaction", `${emoji} ${count}${own ? ", yours: remove it" : ": add yours"}`, "");
    chip.setAttribute("aria-pressed", String(own));
    chip.dataset.emoji = emoji;
    const glyph = document.createElement("span");
    glyph.textContent = emoji;
    const number = document.createElement("span");
    number.className = "count";
    number.textContent = String(count);
    chip.append(glyph, number);
    chip.disabled = config.me.guest;
    chip.addEventListener("click", () => react(seq, emoji, !own));
    row.append(chip);
  }
}

function react(seq, emoji, on) {
  client.react(config.room, seq, emoji, on).catch(refused);
}

function togglePicker(item) {
  const open = item.querySelector(".picker");
  if (open) {
    open.remove();
    return;
  }
  const picker = document.createElement("div");
  picker.className = "picker";
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", "Pick a reaction");
  for (const emoji of QUICK_EMOJI) {
    const choice = button("pick", `React with ${emoji}`, emoji);
    choice.addEventListener("click", () => {
      picker.remove();
      react(Number(item.dataset.seq), emoji, true);
    });
    picker.append(choice);
  }
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      picker.remove();
      item.querySelector(".react-open")?.focus();
    }
  });
  item.querySelector(".reactions").before(picker);
  picker.querySelector("button").focus();
}

// Inline editor: Enter saves, Shift+Enter is a new line, Escape cancels.
function startEditing(item) {
  if (item.querySelector(".editor")) return;
  const body = item.querySelector(".body");
  const editor = document.createElement("textarea");
  editor.className = "editor";
  editor.maxLength = config.maxBody;
  editor.value = body.textContent;
  editor.setAttribute("aria-label", "Edit your message: Enter saves, Escape cancels");
  const finish = () => {
    editor.remove();
    body.hidden = false;
    item.querySelector(".edit")?.focus();
  };
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      finish();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      const text = editor.value;
      if (text.trim() && text !== body.textContent) {
        client.edit(config.room, Number(item.dataset.seq), text).catch(refused);
      }
      finish();
    }
  });
  body.hidden = true;
  body.after(editor);
  editor.focus();
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  if (roomLost) return;
  if (uploads?.busy()) {
    showError("Your files are still uploading: send once their bars are full, or remove them.");
    return;
  }
  const files = uploads?.uploaded() ?? [];
  // A message needs text: one of files alone says their names.
  const body = input.value.trim() ? input.value : files.map((file) => file.name).join(", ");
  if (!body.trim()) return;
  const attachments = files.map((file) => file.id);
  uploads?.clear();
  const clientId = newClientId();
  const element = messageElement(config.me, body, null, true);
  element.classList.add("pending");
  list.append(element);
  regroup(element);
  unacked.set(clientId, { element });
  empty.hidden = true;
  scrollToNewest();
  input.value = "";
  input.style.height = "";
  // Shown at once, pending; the client sends it when it can, again after a drop with the same
  // client_id, until the server has stored it. The stored message itself replaces this element.
  client.send(config.room, body, { clientId, attachments }).then(
    () => unacked.get(clientId)?.element.classList.add("stored"),
    (error) => {
      const pending = unacked.get(clientId);
      if (!pending || error.code === "closed") return;
      removeMessageElement(pending.element);
      unacked.delete(clientId);
      showError(error.detail);
    },
  );
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    composer.requestSubmit();
  }
});

input.addEventListener("input", () => {
  input.style.height = "";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
});

log.addEventListener(
  "scroll",
  () => {
    if (nearBottom()) latestButton.hidden = true;
    noteRead();
  },
  { passive: true },
);

latestButton.addEventListener("click", () => {
  scrollToNewest();
  latestButton.hidden = true;
  input.focus();
});

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  unseen = 0;
  document.title = pageTitle;
  noteRead();
});

olderButton.addEventListener("click", () => {
  olderButton.disabled = true;
  client.history(config.room, { before: oldestSeq ?? undefined, limit: config.historyPage }).then(
    (messages) => {
      // Older messages go above what the reader is looking at: keep that in place.
      const fromBottom = log.scrollHeight - log.scrollTop;
      for (const message of messages.slice().reverse()) showMessage(message);
      log.scrollTop = log.scrollHeight - fromBottom;
      olderButton.hidden = messages.length < config.historyPage;
      olderButton.disabled = false;
    },
    (error) => {
      olderButton.disabled = false;
      refused(error);
    },
  );
});

for (const message of history) showMessage(message);
placeDivider(readUpTo);
empty.hidden = history.length > 0;
olderButton.hidden = history.length < config.historyPage;
scrollToNewest();
latestButton.hidden = true;
follow();
// On phones, focusing would throw the keyboard over the conversation before anyone asked for it.
if (!matchMedia("(pointer: coarse)").matches) input.focus();
