// @mention autocomplete in the room's composer.
//
// Typing "@" and the start of a name lists up to 8 people of the room (GET
// the API's rooms/{slug}/people?prefix=…); arrow keys move, Enter or Tab picks, Escape closes, and a
// click picks too. The pick replaces "@al" with "@alice ". Names are inserted as text only.
// Its keys are handled on the form in the capture phase, before the composer's own Enter-to-send.

import { apiUrl } from "./config.js";

const config = JSON.parse(document.getElementById("parley-config").textContent);
const composer = document.getElementById("composer");
const input = document.getElementById("body");
const box = composer.querySelector(".composer-box");

// "@" at the start or after a character that cannot be in a name, then the name so far (the
// server's mention pattern, parley/mentions/parsing.py), right before the cursor.
const TYPED = /(?:^|[^\w.+@-])@([\w.+-]{0,150})$/u;
const DELAY_MS = 120; // wait for a pause in typing: the API is rate limited
const cache = new Map(); // prefix (lower case) -> usernames

const list = document.createElement("ul");
list.id = "mention-list";
list.className = "mention-list";
list.setAttribute("role", "listbox");
list.setAttribute("aria-label", "People to mention");
list.hidden = true;
// Said aloud when suggestions appear: a textarea cannot be a combobox (it takes no role, and a
// combobox is one line), so no aria-expanded tells a screen reader that the list opened.
const status = document.createElement("p");
status.id = "mention-status";
status.className = "sr-only";
status.setAttribute("role", "status");
box.append(list, status);
// A text box that suggests: the list it fills, and (while open) the option the arrows are on.
input.setAttribute("aria-autocomplete", "list");
input.setAttribute("aria-controls", list.id);

let names = [];
let active = 0;
let typed = null; // {start, end, prefix} of the "@prefix" being completed
let timer = null;
let asked = 0; // answers to older questions are dropped

function typedMention() {
  if (input.selectionStart !== input.selectionEnd) return null;
  const before = input.value.slice(0, input.selectionStart);
  const match = TYPED.exec(before);
  if (!match) return null;
  return { start: before.length - match[1].length - 1, end: before.length, prefix: match[1] };
}

// What is already known for a prefix: its own answer, or a shorter prefix's complete answer.
function known(prefix) {
  const key = prefix.toLowerCase();
  for (let length = key.length; length >= 0; length -= 1) {
    const people = cache.get(key.slice(0, length));
    if (people && (length === key.length || people.length < 8)) {
      return people.filter((name) => name.toLowerCase().startsWith(key));
    }
  }
  return null;
}

async function lookUp(prefix) {
  const question = ++asked;
  const url = apiUrl(`rooms/${encodeURIComponent(config.room)}/people?prefix=${encodeURIComponent(prefix)}`);
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const answer = await response.json();
    cache.set(prefix.toLowerCase(), answer.people);
    if (question === asked && typed && typed.prefix === prefix) show(answer.people);
  } catch {
    // Offline: no suggestions; typing the name in full still mentions.
  }
}

function show(people) {
  names = people;
  active = 0;
  list.replaceChildren(
    ...people.map((name, index) => {
      const item = document.createElement("li");
      item.id = `mention-${index}`;
      item.className = "mention-option";
      item.setAttribute("role", "option");
      item.textContent = `@${name}`;
      item.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the composer
        pick(index);
      });
      return item;
    }),
  );
  list.hidden = people.length === 0;
  const count = people.length === 1 ? "1 person" : `${people.length} people`;
  status.textContent = list.hidden ? "" : `${count} to mention: arrow keys to choose, Enter to pick.`;
  mark();
}

function mark() {
  for (const [index, item] of Array.from(list.children).entries()) {
    item.setAttribute("aria-selected", String(index === active));
  }
  if (list.hidden) input.removeAttribute("aria-activedescendant");
  else input.setAttribute("aria-activedescendant", `mention-${active}`);
}

function close() {
  clearTimeout(timer);
  typed = null;
  show([]);
}

function pick(index) {
  const name = names[index];
  if (!typed || name === undefined) return;
  const { start, end } = typed;
  const after = input.value.slice(end);
  const insert = `@${name}${after.startsWith(" ") ? "" : " "}`;
  input.setRangeText(insert, start, end, "end");
  if (after.startsWith(" ")) input.setSelectionRange(start + insert.length + 1, start + insert.length + 1);
  close();
  input.dispatchEvent(new Event("input", { bubbles: true })); // the composer resizes itself
}

function update() {
  typed = typedMention();
  if (!typed) {
    close();
    return;
  }
  const people = known(typed.prefix);
  if (people) {
    show(people);
    return;
  }
  clearTimeout(timer);
  const { prefix } = typed;
  timer = setTimeout(() => lookUp(prefix), DELAY_MS);
}

input.addEventListener("input", update);
input.addEventListener("click", update);
input.addEventListener("blur", close);

composer.addEventListener(
  "keydown",
  (event) => {
    if (list.hidden || event.target !== input || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : names.length - 1)) % names.length;
      mark();
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation(); // the composer's Enter-to-send does not see this key
  },
  { capture: true },
);
