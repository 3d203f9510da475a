// Parley's chat page: protocol v1 over one WebSocket (see docs/protocol.md).
//
// Messages are always inserted with textContent, never as HTML, so nothing a person types can run
// as script. The page keeps messages ordered by seq, resumes from the last seq it saw after a
// reconnect, and resends unacknowledged messages with the same client_id, so a retry is never
// stored twice.

const config = JSON.parse(document.getElementById("parley-config").textContent);
const history = JSON.parse(document.getElementById("parley-history").textContent);

const log = document.getElementById("log");
const list = document.getElementById("messages");
const empty = document.getElementById("empty");
const olderButton = document.getElementById("older");
const composer = document.getElementById("composer");
const input = document.getElementById("body");
const connection = document.getElementById("connection");

const rendered = new Map(); // seq -> <li>
const unacked = new Map(); // client_id -> {body, element}
let lastSeq = 0; // the newest seq on screen: what a resubscribe resumes from
let oldestSeq = null;
let socket = null;
let live = false;
let attempt = 0;
let refCounter = 0;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

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

function messageElement(author, body, createdAt, mine) {
  const item = document.createElement("li");
  item.className = mine ? "message mine" : "message";
  const meta = document.createElement("div");
  meta.className = "meta";
  const name = document.createElement("span");
  name.className = author.guest ? "author guest" : "author";
  name.textContent = author.name;
  meta.append(name);
  if (author.guest) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "guest";
    meta.append(tag);
  }
  const time = document.createElement("time");
  if (createdAt) {
    time.dateTime = createdAt;
    time.textContent = timeFormat.format(new Date(createdAt));
  } else {
    time.textContent = "sending…";
  }
  meta.append(time);
  const text = document.createElement("p");
  text.className = "body";
  text.textContent = body;
  item.append(meta, text);
  return item;
}

function isMine(author) {
  return config.me.guest ? author.guest && author.name === config.me.name : author.id === config.me.id;
}

// Insert a stored message in seq order; a seq already on screen is ignored.
function showMessage(message) {
  if (rendered.has(message.seq)) return;
  const stick = nearBottom();
  const item = messageElement(message.author, message.body, message.created_at, isMine(message.author));
  item.dataset.seq = String(message.seq);
  const pending = unacked.get(message.client_id);
  if (pending && isMine(message.author)) {
    pending.element.remove();
    unacked.delete(message.client_id);
  }
  let before = null;
  for (const [seq, element] of rendered) {
    if (seq > message.seq && (before === null || seq < Number(before.dataset.seq))) before = element;
  }
  list.insertBefore(item, before ?? firstPending());
  rendered.set(message.seq, item);
  lastSeq = Math.max(lastSeq, message.seq);
  oldestSeq = oldestSeq === null ? message.seq : Math.min(oldestSeq, message.seq);
  empty.hidden = true;
  if (stick || isMine(message.author)) scrollToNewest();
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

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function sendMessage(clientId, body) {
  send({ type: "send", room: config.room, body, client_id: clientId, ref: clientId });
}

function handleFrame(frame) {
  switch (frame.type) {
    case "message":
      if (frame.room === config.room) showMessage(frame);
      break;
    case "subscribed":
      live = true;
      attempt = 0;
      setConnection("live", "Live");
      if (frame.truncated) olderButton.hidden = false;
      // Resend what was typed while offline, with the same client_id: never stored twice.
      for (const [clientId, pending] of unacked) sendMessage(clientId, pending.body);
      break;
    case "ack": {
      const pending = unacked.get(frame.client_id);
      if (pending) pending.element.classList.add("stored");
      break;
    }
    case "history":
      for (const message of frame.messages.slice().reverse()) showMessage(message);
      olderButton.hidden = frame.messages.length < config.historyPage;
      break;
    case "error":
      if (frame.ref && unacked.has(frame.ref)) {
        unacked.get(frame.ref).element.remove();
        unacked.delete(frame.ref);
      }
      showError(frame.detail);
      break;
    default:
      break;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  setConnection("connecting", attempt ? "Reconnecting…" : "Connecting…");
  socket = new WebSocket(`${scheme}://${location.host}/ws/`);
  socket.addEventListener("open", () => {
    send({ type: "subscribe", room: config.room, since: lastSeq, ref: `sub-${++refCounter}` });
  });
  socket.addEventListener("message", (event) => handleFrame(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    live = false;
    if (event.code === 4401) {
      setConnection("offline", "Signed out — reload to sign in");
      return;
    }
    // Exponential back-off with full jitter, capped at 15 s.
    const delay = Math.random() * Math.min(15000, 500 * 2 ** attempt);
    attempt += 1;
    setConnection("offline", `Offline — retrying in ${Math.ceil(delay / 1000)} s`);
    setTimeout(connect, delay);
  });
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value;
  if (!body.trim()) return;
  const clientId = newClientId();
  const element = messageElement(config.me, body, null, true);
  element.classList.add("pending");
  list.append(element);
  unacked.set(clientId, { body, element });
  empty.hidden = true;
  scrollToNewest();
  input.value = "";
  input.style.height = "";
  if (live) sendMessage(clientId, body);
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

olderButton.addEventListener("click", () => {
  send({ type: "history", room: config.room, before: oldestSeq ?? undefined, limit: config.historyPage });
});

for (const message of history) showMessage(message);
empty.hidden = history.length > 0;
olderButton.hidden = history.length < config.historyPage;
scrollToNewest();
connect();
input.focus();
