// Who is in the room and who is typing, on the room page (protocol v1, docs/protocol.md).
//
// parley.js owns the page's socket: it hands this module the frames it does not handle itself
// (`parley:room-frame` events) and sends what this module asks (`parley:send` events). `presence`
// replaces the list (it follows every subscribe, so a reconnect starts afresh); `presence_diff`
// adds and removes people; `typing` shows a line for a few seconds. Names are set as text.

const config = JSON.parse(document.getElementById("parley-config").textContent);
const list = document.getElementById("people-list");
const count = document.getElementById("people-count");
const typingLine = document.getElementById("typing");
const input = document.getElementById("body");

const TYPING_SHOWN_MS = 4000; // how long "… is typing" stays without another notice
const TYPING_EVERY_MS = 2000; // the server counts one typing frame per 2 s
const here = new Map(); // person key -> person
const typing = new Map(); // person key -> timer
let lastTyping = 0;
let subscribed = false;

function keyOf(person) {
  return person.guest ? `guest:${person.name}` : `user:${person.id}`;
}

function render() {
  const people = [...here.values()].sort(
    (a, b) => Number(a.guest) - Number(b.guest) || a.name.localeCompare(b.name),
  );
  const items = people.map((person) => {
    const item = document.createElement("li");
    item.className = person.guest ? "person guest" : "person";
    item.dataset.key = keyOf(person);
    const dot = document.createElement("span");
    dot.className = "presence-dot";
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.textContent = person.name;
    item.append(dot, name);
    return item;
  });
  list.replaceChildren(...items);
  count.textContent = people.length === 1 ? "1 here" : `${people.length} here`;
}

function showTyping() {
  const names = [...typing.keys()].map((key) => here.get(key)?.name ?? key.split(":").slice(1).join(":"));
  if (names.length === 0) typingLine.textContent = "";
  else if (names.length === 1) typingLine.textContent = `${names[0]} is typing…`;
  else if (names.length === 2) typingLine.textContent = `${names[0]} and ${names[1]} are typing…`;
  else typingLine.textContent = "Several people are typing…";
}

function stopTyping(key) {
  clearTimeout(typing.get(key));
  typing.delete(key);
  showTyping();
}

document.addEventListener("parley:room-frame", (event) => {
  const frame = event.detail;
  if (frame.room !== config.room) return;
  switch (frame.type) {
    case "presence":
      subscribed = true;
      here.clear();
      for (const person of frame.online) here.set(keyOf(person), person);
      render();
      break;
    case "presence_diff":
      for (const person of frame.joined) here.set(keyOf(person), person);
      for (const person of frame.left) {
        here.delete(keyOf(person));
        stopTyping(keyOf(person));
      }
      render();
      break;
    case "typing": {
      const key = keyOf(frame.user);
      clearTimeout(typing.get(key));
      typing.set(key, setTimeout(() => stopTyping(key), TYPING_SHOWN_MS));
      showTyping();
      break;
    }
    default:
      break;
  }
});

// Tell the others while this person types (once subscribed: `presence` comes right after).
input.addEventListener("input", () => {
  const now = Date.now();
  if (!subscribed || !input.value.trim() || now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  document.dispatchEvent(new CustomEvent("parley:send", { detail: { type: "typing", room: config.room } }));
});
