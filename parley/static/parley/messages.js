// One message as the page draws it (the conversation and the thread panel both use it): avatar,
// author, time and body, always as text, never as HTML, with the files it carries.

import { attachmentList } from "./files.js";

const AVATAR_COLOURS = 8;
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
export const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const yearDayFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });

/** Who wrote a message, as a key: consecutive messages with the same key are grouped. */
export function authorKey(author) {
  return author.guest ? `guest:${author.name}` : `user:${author.id}`;
}

function colourIndex(key) {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % AVATAR_COLOURS;
}

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.getFullYear() === today.getFullYear() ? dayFormat.format(date) : yearDayFormat.format(date);
}

/** A message's element: stored (with `createdAt`), or being sent (without). */
export function messageElement(author, body, createdAt, mine) {
  const item = document.createElement("li");
  item.className = mine ? "message mine" : "message";
  const when = createdAt ? new Date(createdAt) : new Date();
  item.dataset.author = authorKey(author);
  item.dataset.time = String(when.getTime());
  item.dataset.day = dayLabel(when); // shown by CSS as a divider above the day's first message

  const avatar = document.createElement("span");
  avatar.className = `avatar c${colourIndex(item.dataset.author)}${author.guest ? " guest" : ""}`;
  avatar.setAttribute("aria-hidden", "true");
  avatar.textContent = (Array.from(author.name.trim())[0] || "?").toUpperCase();

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
    time.textContent = timeFormat.format(when);
    time.title = fullFormat.format(when);
  } else {
    time.textContent = "sending…";
  }
  meta.append(time);
  const text = document.createElement("p");
  text.className = "body";
  text.textContent = body;
  if (createdAt) text.title = fullFormat.format(when);
  item.append(avatar, meta, text);
  return item;
}

/** Show the files a stored message carries under its body (none: nothing). */
export function showAttachments(item, attachments) {
  item.querySelector(".attachments")?.remove();
  if (!attachments?.length) return;
  item.querySelector(".body").after(attachmentList(attachments));
}

