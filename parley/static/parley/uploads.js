// Files for the next message: picked with the attach button, dropped on the conversation, or
// pasted into the composer. Each uploads at once (parley-client's upload(), with a progress bar)
// and waits in the tray under the composer; the message takes the ids of those that made it. A
// refusal stays in the tray as the server's sentence (too big: which limit, and the number).

import { nameAndSize } from "./files.js";

/**
 * The composer's uploads for `room`. `input` is the composer's textarea (a message of files alone
 * may leave it empty), `dropTarget` the element files are dropped on.
 */
export function composerUploads({ client, room, csrfToken, input, dropTarget }) {
  const tray = document.getElementById("uploads");
  const button = document.getElementById("attach");
  const picker = document.getElementById("attach-input");
  const entries = new Set(); // {file, element, record, error, controller}

  function changed() {
    tray.hidden = entries.size === 0;
    // A message of files alone needs no text: the files' names stand for it.
    input.required = ![...entries].some((entry) => entry.record);
  }

  function entryElement(file) {
    const item = document.createElement("li");
    item.className = "upload uploading";
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", `Uploading ${file.name}`);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "upload-remove";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    remove.title = "Remove";
    remove.textContent = "×";
    item.append(...nameAndSize(file, "upload"), progress, remove);
    return item;
  }

  function add(file) {
    const entry = { file, element: entryElement(file), record: null, error: null, controller: new AbortController() };
    entries.add(entry);
    tray.append(entry.element);
    const progress = entry.element.querySelector("progress");
    entry.element.querySelector(".upload-remove").addEventListener("click", () => {
      entry.controller.abort();
      entries.delete(entry);
      entry.element.remove();
      changed();
      input.focus();
    });
    changed();
    const onProgress = ({ loaded, total }) => {
      progress.value = total ? Math.round((loaded / total) * 100) : 0;
    };
    client.upload(room, file, { onProgress, signal: entry.controller.signal, csrfToken }).then(
      (record) => {
        if (!entries.has(entry)) return;
        entry.record = record;
        progress.value = 100;
        entry.element.classList.replace("uploading", "uploaded");
        entry.element.dataset.attachment = String(record.id);
        changed();
      },
      (error) => {
        if (!entries.has(entry) || error.code === "closed") return;
        entry.error = error;
        entry.element.classList.replace("uploading", "failed");
        progress.remove();
        const why = document.createElement("span");
        why.className = "upload-error";
        why.setAttribute("role", "alert");
        why.textContent = error.detail;
        entry.element.querySelector(".upload-remove").before(why);
        changed();
      },
    );
  }

  function addAll(files) {
    for (const file of files) add(file);
  }

  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    addAll([...picker.files]);
    picker.value = ""; // the same file may be picked again
  });

  // Dropping files anywhere on the conversation attaches them.
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  dropTarget.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dropTarget.classList.add("dropping");
  });
  dropTarget.addEventListener("dragleave", (event) => {
    if (!dropTarget.contains(event.relatedTarget)) dropTarget.classList.remove("dropping");
  });
  dropTarget.addEventListener("drop", (event) => {
    dropTarget.classList.remove("dropping");
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    addAll([...event.dataTransfer.files]);
    input.focus();
  });

  // A pasted image (a screenshot) is attached; pasted text is left to the textarea.
  input.addEventListener("paste", (event) => {
    const images = [...(event.clipboardData?.files ?? [])].filter((file) => file.type.startsWith("image/"));
    if (!images.length) return;
    if (!event.clipboardData.types.includes("text/plain")) event.preventDefault();
    addAll(images);
  });

  return {
    /** Whether a file is still on its way to the server. */
    busy: () => [...entries].some((entry) => !entry.record && !entry.error),
    /** The files uploaded for the next message: [{id, name}]. */
    uploaded: () => [...entries].filter((entry) => entry.record).map((entry) => entry.record),
    /** Empty the tray (the message that carries them is on its way). */
    clear() {
      for (const entry of entries) entry.element.remove();
      entries.clear();
      changed();
    },
  };
}
