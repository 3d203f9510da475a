// The member list and who is typing, on the room page (protocol v1, docs/protocol.md).
//
// The page was rendered with the room's first members (owners, then moderators, then by name; at
// most 100, with the total). Presence says who is here: `presence` replaces the set (it follows
// every subscribe, so a reconnect starts afresh) and `presence_diff` adds and removes people. The
// list shows everyone here first, with a green dot (guests and non-members of a public room too),
// then the members who are not, greyed. Roles show as a tag. At most MAX_ROWS rows are drawn, so
// a crowded room stays cheap. `typing` shows a line for a few seconds, or until that person's
// message arrives.
//
// The frames come from the page's ParleyClient (connection.js), which parley.js subscribes to the
// room; typing notices go out through it. Names are set as text.

import { pageClient } from "./connection.js";

const config = JSON.parse(document.getElementById("parley-config").textContent);
const roster = JSON.parse(document.getElementById("parley-members").textContent);
const list = document.getElementById("people-list");
const count = document.getElementById("people-count");
const total = document.getElementById("members-total");
const more = document.getElementById("members-more");
const buttonCount = document.getElementById("people-button-count");
const peopleButton = document.getElementById("people-button");
const typingLine = document.getElementById("typing");
const input = document.getElementById("body");
const client = pageClient();

const TYPING_SHOWN_MS = 4000; // how long "… is typing" stays without another notice
const TYPING_EVERY_MS = 2000; // the server counts one typing frame per 2 s
const MAX_ROWS = 200; // rows drawn at most: everyone here first, then members who are not
const ROLE_TAGS = { owner: "owner", moderator: "moderator" };
const numberFormat = new Intl.NumberFormat();
const members = new Map(); // person key -> {id, name, role, guest: false}, from the server
const here = new Map(); // person key -> person, from presence
const typing = new Map(); // person key -> timer
let lastTyping = 0;
let subscribed = false;

function keyOf(person) {
  return person.guest ? `guest:${person.name}` : `user:${person.id}`;
}

for (const member of roster.members) members.set(keyOf({ ...member, guest: false }), { ...member, guest: false });

function row(key, person, online) {
  const item = document.createElement("li");
  item.className = `person ${online ? "online" : "offline"}${person.guest ? " guest" : ""}`;
  item.dataset.key = key;
  const dot = document.createElement("span");
  dot.className = "presence-dot";
  dot.setAttribute("role", "img");
  dot.setAttribute("aria-label", online ? "online" : "offline");
  const name = document.createElement("span");
  name.className = "person-name";
  name.textContent = person.name;
  item.append(dot, name);
  const role = members.get(key)?.role;
  if (person.guest || ROLE_TAGS[role]) {
    const tag = document.createElement("span");
    tag.className = person.guest ? "tag" : `tag role-${role}`;
    tag.textContent = person.guest ? "guest" : ROLE_TAGS[role];
    item.append(tag);
  }
  return item;
}

function byName(a, b) {
  return Number(a.person.guest) - Number(b.person.guest) || a.person.name.localeCompare(b.person.name);
}

function render() {
  const online = [...here].map(([key, person]) => ({ key, person })).sort(byName);
  const away = [...members].filter(([key]) => !here.has(key)).map(([key, person]) => ({ key, person }));
  away.sort(byName);
  const rows = [
    ...online.map(({ key, person }) => row(key, person, true)),
    ...away.map(({ key, person }) => row(key, person, false)),
  ].slice(0, MAX_ROWS);
  const shown = [...rows];
  if (online.length && away.length && online.length < rows.length) {
    const divider = document.createElement("li");
    // A plain item of the list (a list may hold only items): its text heads the ones below it.
    divider.className = "people-divider";
    divider.textContent = "Not here";
    shown.splice(online.length, 0, divider);
  }
  list.replaceChildren(...shown);

  const herePeople = online.length;
  // Before the first `presence` nobody is known to be here: say nothing rather than "0 here".
  count.textContent = !subscribed ? "" : herePeople === 1 ? "1 here" : `${numberFormat.format(herePeople)} here`;
  const memberWord = roster.total === 1 ? "member" : "members";
  total.textContent = roster.total ? `${subscribed ? " · " : ""}${numberFormat.format(roster.total)} ${memberWord}` : "";
  buttonCount.textContent = herePeople ? numberFormat.format(herePeople) : "";
  peopleButton?.setAttribute("aria-label", subscribed ? `Members, ${herePeople} here` : "Members");
  const notes = [];
  if (roster.total > members.size) {
    notes.push(`Listing everyone here and the first ${numberFormat.format(members.size)} of ${numberFormat.format(roster.total)} members.`);
  }
  const unlisted = online.length + away.length - rows.length;
  if (unlisted > 0) notes.push(`${numberFormat.format(unlisted)} more not shown.`);
  more.textContent = notes.join(" ");
  more.hidden = notes.length === 0;
}

function showTyping() {
  // A guest's name is whatever they typed: it is always marked as a guest's.
  const named = (key) => here.get(key)?.name ?? key.split(":").slice(1).join(":");
  const names = [...typing.keys()].map((key) => (key.startsWith("guest:") ? `${named(key)} (guest)` : named(key)));
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

function roomFrame(frame) {
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
}

for (const type of ["presence", "presence_diff", "typing"]) client.on(type, roomFrame);

// A message from someone shown as typing: what they typed has arrived, so they are no longer
// typing it (a new notice follows if they go on).
client.on("message", (message) => {
  if (message.room !== config.room) return;
  const key = keyOf(message.author);
  if (typing.has(key)) stopTyping(key);
});

// Tell the others while this person types (once subscribed: `presence` comes right after).
input.addEventListener("input", () => {
  const now = Date.now();
  if (!subscribed || !input.value.trim() || now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  client.typing(config.room);
});

render();
