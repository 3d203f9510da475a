// The quick switcher: Ctrl+K (⌘K on a Mac) or the sidebar's "Jump to…" button opens a small
// dialog that filters the sidebar's rooms and conversations by name as you type; ↑ and ↓ move,
// Enter opens the highlighted one, Esc closes. Names come from the sidebar and are set as text.

const dialog = document.getElementById("switcher");
const input = document.getElementById("switcher-input");
const list = document.getElementById("switcher-list");
const nothing = document.getElementById("switcher-empty");
const opener = document.getElementById("switcher-open");
const sidebar = document.getElementById("sidebar");

const SHOWN = 50; // options listed at once: typing narrows the rest down
let options = []; // [{link, label, element}] as listed now
let active = 0;
let returnTo = null;

if (opener && navigator.platform.startsWith("Mac")) opener.querySelector("kbd").textContent = "⌘K";

// Everything the sidebar lists, in its order: {icon, href, label, haystack, current, unread}.
function entries() {
  return [...sidebar.querySelectorAll(".side-item[href]")].map((link) => {
    const badge = link.querySelector(".unread-count");
    return {
      icon: link.querySelector(".side-icon, .avatar"),
      href: link.href,
      label: link.querySelector(".side-name")?.textContent ?? link.dataset.room,
      // A room's title and slug; a conversation's other person (not its dm-… slug).
      haystack: (link.dataset.name ?? link.dataset.room).toLowerCase(),
      current: link.getAttribute("aria-current") === "page",
      unread: badge && !badge.hidden ? badge.textContent : "",
    };
  });
}

// Names starting with what was typed come first, then those containing it, each in sidebar order.
function matches(query) {
  const all = entries();
  const typed = query.trim().toLowerCase();
  if (!typed) return all;
  const starts = [];
  const contains = [];
  for (const entry of all) {
    const words = entry.haystack.split(/[\s_-]+/);
    if (words.some((word) => word.startsWith(typed))) starts.push(entry);
    else if (entry.haystack.includes(typed)) contains.push(entry);
  }
  return [...starts, ...contains];
}

function option(entry, index) {
  const item = document.createElement("li");
  item.id = `switcher-option-${index}`;
  item.className = "switcher-option";
  item.setAttribute("role", "option");
  // The sidebar's own icon (#, a lock, or the person's avatar), copied.
  const icon = entry.icon ? entry.icon.cloneNode(true) : document.createElement("span");
  const name = document.createElement("span");
  name.className = "switcher-name";
  name.textContent = entry.label;
  item.append(icon, name);
  if (entry.current) {
    const here = document.createElement("span");
    here.className = "switcher-note";
    here.textContent = "open";
    item.append(here);
  } else if (entry.unread) {
    const badge = document.createElement("span");
    badge.className = "unread-count";
    badge.textContent = entry.unread;
    item.append(badge);
  }
  item.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
  item.addEventListener("click", () => go(entry));
  return item;
}

function render() {
  const found = matches(input.value).slice(0, SHOWN);
  options = found.map((entry, index) => ({ entry, element: option(entry, index) }));
  list.replaceChildren(...options.map(({ element }) => element));
  nothing.hidden = options.length > 0;
  select(0);
}

function select(index) {
  if (!options.length) {
    input.removeAttribute("aria-activedescendant");
    return;
  }
  active = (index + options.length) % options.length;
  options.forEach(({ element }, at) => element.setAttribute("aria-selected", String(at === active)));
  const chosen = options[active].element;
  input.setAttribute("aria-activedescendant", chosen.id);
  chosen.scrollIntoView({ block: "nearest" });
}

function go(entry) {
  dialog.close();
  location.assign(entry.href);
}

function openSwitcher() {
  if (dialog.open) return;
  returnTo = document.activeElement;
  input.value = "";
  render();
  dialog.showModal();
  input.focus();
}

if (dialog && sidebar) {
  opener?.addEventListener("click", openSwitcher);
  input.addEventListener("input", render);
  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      select(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (options.length) go(options[active].entry);
    }
  });
  // A click on the backdrop (the dialog box itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
    returnTo = null;
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      if (dialog.open) dialog.close();
      else openSwitcher();
    }
  });
}
