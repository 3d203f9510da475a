// The addresses Parley's scripts use, from the page (`{% parley_config %}` renders them from the
// URLconf), so Parley works under any prefix. Every script imports them from here; none writes a
// path of its own.

const urls = JSON.parse(document.getElementById("parley-urls").textContent);

// A room's page.
export function roomUrl(slug) {
  const at = urls.room.lastIndexOf("__room__");
  return urls.room.slice(0, at) + encodeURIComponent(slug) + urls.room.slice(at + "__room__".length);
}

// An address of the HTTP API, from its root: apiUrl("rooms").
export function apiUrl(path) {
  return urls.api + path;
}

// Parley's WebSocket on this site.
export function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${urls.websocket}`;
}

export const searchUrl = urls.search;
