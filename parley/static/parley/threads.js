// Threads: a reply quotes its original in the conversation; an original with replies says how many
// ("3 replies", live from the `thread` frame), which opens the thread panel: the original, then
// its replies in order, live, with a composer of its own that sends in the thread (replyTo).

import { messageElement, showAttachments } from "./messages.js";

const QUOTE_LENGTH = 90; // characters of the original a reply quotes

function repliesText(count) {
  return count === 1 ? "1 reply" : `${count} replies`;
}

/**
 * The page's threads. `rendered` is the conversation's seq → element map; `isMine(author)` tells
 * the reader's own messages; `refused(error)` shows a refusal.
 */
export function roomThreads({ client, config, rendered, isMine, refused }) {
  const panel = document.getElementById("thread-panel");
  const list = document.getElementById("thread-messages");
  const log = document.getElementById("thread-log");
  const summary = document.createElement("p"); // under the original: how many replies
  summary.className = "thread-summary";
  const composer = document.getElementById("thread-composer");
  const input = document.getElementById("thread-body");
  const counts = new Map(); // original's seq -> replies, as last heard
  const shown = new Map(); // seq -> element in the panel
  let openSeq = null; // the thread in the panel
  let opener = null; // what opened it: focus goes back there on close

  function threadButton(item, seq) {
    let count = item.querySelector(".thread-count");
    if (!count) {
      count = document.createElement("button");
      count.type = "button";
      count.className = "thread-count";
      count.addEventListener("click", () => open(seq, count));
      const after = item.querySelector(".attachments") ?? item.querySelector(".body");
      after.after(count);
    }
    return count;
  }

  function setCount(seq, count) {
    counts.set(seq, count);
    const item = rendered.get(seq);
    if (item && count > 0) {
      const button = threadButton(item, seq);
      button.textContent = repliesText(count);
      button.setAttribute("aria-label", `${repliesText(count)}: open the thread`);
    }
    if (seq === openSeq) summary.textContent = repliesText(count);
  }

  // What a reply quotes of its original: its author and the start of its text (when on screen).
  function quoteText(original) {
    const item = rendered.get(original);
    if (!item) return "a message further up";
    const author = item.querySelector(".author")?.textContent ?? "";
    let text = item.querySelector(".body")?.textContent ?? "";
    if (text.length > QUOTE_LENGTH) text = `${text.slice(0, QUOTE_LENGTH - 1)}…`;
    return `${author}: ${text}`;
  }

  /** Give a stored message of the conversation its thread parts: a quote or a count. */
  function decorate(item, message) {
    if (message.reply_to !== null && message.reply_to !== undefined) {
      const quote = document.createElement("button");
      quote.type = "button";
      quote.className = "reply-quote";
      quote.textContent = quoteText(message.reply_to);
      quote.setAttribute("aria-label", `Reply to ${quote.textContent}. Open the thread`);
      quote.addEventListener("click", () => open(message.reply_to, quote));
      item.querySelector(".body").before(quote);
      return;
    }
    const count = Math.max(message.thread_count ?? 0, counts.get(message.seq) ?? 0);
    if (count > 0) setCount(message.seq, count);
  }

  /** The seq a "Reply in thread" on this message opens: its original's, for a reply. */
  function threadOf(message) {
    return message.reply_to ?? message.seq;
  }

  function panelElement(message) {
    const item = messageElement(message.author, message.deleted ? "message deleted" : message.body, message.created_at, isMine(message.author));
    item.dataset.seq = String(message.seq);
    item.classList.toggle("deleted", Boolean(message.deleted));
    showAttachments(item, message.attachments);
    return item;
  }

  function showInPanel(message) {
    if (shown.has(message.seq)) return;
    const item = panelElement(message);
    let before = null;
    for (const [seq, element] of shown) {
      if (seq > message.seq && (before === null || seq < Number(before.dataset.seq))) before = element;
    }
    list.insertBefore(item, before);
    shown.set(message.seq, item);
    if (message.seq === openSeq) {
      item.classList.add("thread-original");
      item.append(summary);
    }
  }

  function open(seq, from = null) {
    opener = from ?? document.activeElement;
    openSeq = seq;
    shown.clear();
    list.replaceChildren();
    summary.textContent = counts.has(seq) ? repliesText(counts.get(seq)) : "";
    panel.hidden = false;
    document.body.classList.add("thread-open");
    input.focus();
    client.history(config.room, { thread: seq, limit: 100 }).then(
      (messages) => {
        if (openSeq !== seq) return;
        for (const message of messages) showInPanel(message);
        if (messages[0]) setCount(seq, Math.max(messages[0].thread_count, messages.length - 1));
        log.scrollTop = log.scrollHeight;
      },
      (error) => {
        if (openSeq === seq) refused(error);
      },
    );
  }

  function close() {
    panel.hidden = true;
    openSeq = null;
    document.body.classList.remove("thread-open");
    if (opener?.isConnected) opener.focus();
    opener = null;
  }

  /** A stored message arrived: a reply of the open thread joins the panel. */
  function arrived(message) {
    if (openSeq === null || message.reply_to !== openSeq) return;
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    showInPanel(message);
    if (stick) log.scrollTop = log.scrollHeight;
  }

  /** An edit or a delete: the panel's copy follows. */
  function updated(frame) {
    const item = shown.get(frame.seq);
    if (!item) return;
    item.classList.toggle("deleted", Boolean(frame.deleted));
    item.querySelector(".body").textContent = frame.deleted ? "message deleted" : frame.body;
    if (frame.deleted) item.querySelector(".attachments")?.remove();
  }

  document.getElementById("thread-close").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim() || openSeq === null) return;
    input.value = "";
    // The reply comes back as a message of the room, like any other: it joins the panel then.
    client.send(config.room, body, { replyTo: openSeq }).catch((error) => {
      if (error.code === "closed") return;
      if (!input.value) input.value = body;
      refused(error);
    });
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  client.on("thread", (frame) => {
    if (frame.room === config.room) setCount(frame.seq, frame.thread_count);
  });

  return { decorate, threadOf, open, arrived, updated };
}
