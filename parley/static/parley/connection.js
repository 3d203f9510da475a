// The page's one connection to Parley: a ParleyClient (the npm package parley-client, served at
// ./client/: clients/js/src, which a build copies into the package) on the page's session
// cookies. Every script of the page (the room, the member list, the bell, the unread badges)
// shares it, so a page holds one socket, and reconnecting, resuming and resending are the
// package's alone.

import { ParleyClient } from "./client/index.js";
import { apiUrl, socketUrl } from "./config.js";

let client = null;

/** The page's ParleyClient, made on first use: no token, so the handshake carries the cookies.
 * Uploads go to the API where the URLconf put it (the socket's path is the host's to choose). */
export function pageClient() {
  client ??= new ParleyClient(socketUrl(), { api: new URL(apiUrl(""), location.href).href });
  return client;
}
