// The files a message carries: images as their thumbnails, laid out at their final size before
// they load (the width and height come with the message), and other files as a link with their
// name and size. A click opens the file itself, which Parley serves only to the room's readers.

const THUMBNAIL_SIZE = 320; // px: the server's thumbnails fit in this square (parley/rooms/uploads.py)
const UNITS = ["bytes", "KB", "MB", "GB"];
const SVG = "http://www.w3.org/2000/svg";

/** A size in bytes as people read it: "512 bytes", "1.4 MB". */
export function formatSize(bytes) {
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || size >= 10 ? Math.round(size) : Math.round(size * 10) / 10;
  return `${shown} ${UNITS[unit]}`;
}

/** The size a thumbnail of a `width` by `height` image is drawn at: the thumbnail's own size. */
export function thumbnailSize(width, height) {
  const scale = Math.min(1, THUMBNAIL_SIZE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A file's name and size as two spans, `${kind}-name` and `${kind}-size`. */
export function nameAndSize(file, kind) {
  const name = document.createElement("span");
  name.className = `${kind}-name`;
  name.textContent = file.name;
  const size = document.createElement("span");
  size.className = `${kind}-size`;
  size.textContent = formatSize(file.size);
  return [name, size];
}

function imageLink(file) {
  const link = document.createElement("a");
  link.className = "attachment-image";
  link.href = file.url;
  link.target = "_blank";
  link.rel = "noopener";
  link.title = `${file.name} (${formatSize(file.size)}, ${file.width} × ${file.height})`;
  const image = document.createElement("img");
  image.src = file.thumbnail_url;
  // Set before it loads, so the conversation does not jump when it does.
  const { width, height } = thumbnailSize(file.width, file.height);
  image.width = width;
  image.height = height;
  image.alt = file.name;
  image.loading = "lazy";
  image.decoding = "async";
  link.append(image);
  return link;
}

function fileLink(file) {
  const link = document.createElement("a");
  link.className = "attachment-file";
  link.href = file.url;
  link.setAttribute("download", file.name);
  const icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("class", "attachment-icon");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "18");
  icon.setAttribute("height", "18");
  for (const d of ["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    icon.append(path);
  }
  link.append(icon, ...nameAndSize(file, "attachment"));
  return link;
}

/** A list of a message's files, as links to them. */
export function attachmentList(attachments) {
  const list = document.createElement("ul");
  list.className = "attachments";
  // In upload order (by id), as history pages list them, whatever order a live frame names them in.
  for (const file of [...attachments].sort((a, b) => a.id - b.id)) {
    const item = document.createElement("li");
    item.dataset.attachment = String(file.id);
    item.append(file.thumbnail_url && file.width && file.height ? imageLink(file) : fileLink(file));
    list.append(item);
  }
  return list;
}
