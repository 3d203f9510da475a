// The network coming back (the browser's `online` event) ends a reconnect's back-off at once,
// against a real server that is down, then started. The event target is the `network` option, an
// EventTarget as a browser's window is (Node has no `online` event of its own).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ParleyClient } from "../src/index.js";
import { countingWebSocket, createSite, sleep, waitFor } from "./support/site.js";

const TIMEOUT = 60000;
// A back-off this long: without the `online` event, the client would wait up to ten minutes.
const SLOW = { minReconnectDelay: 600000, maxReconnectDelay: 600000 };

let site;
const clients = [];

function client(network, counter) {
  const made = new ParleyClient(site.url, { token: site.token("alice"), WebSocket: counter.WebSocket, network, ...SLOW });
  clients.push(made);
  return made;
}

before(async () => {
  site = await createSite({ rooms: ["lobby"], users: ["alice"] });
});

after(async () => {
  await Promise.all(clients.map((made) => made.close()));
  await site?.destroy();
});

test("online: a reconnect waiting out its back-off goes at once", { timeout: TIMEOUT }, async () => {
  const network = new EventTarget();
  const counter = countingWebSocket();
  const parley = client(network, counter);
  // The server is down: the first attempt fails, and the next waits a random time of up to 10 min.
  await waitFor(() => counter.opened === 1, "the first attempt");
  await site.start(); // seconds: the refused attempt has long closed and its back-off begun
  assert.equal(parley.state, "connecting");
  const subscribed = parley.subscribe("lobby");
  network.dispatchEvent(new Event("online"));
  await waitFor(() => parley.state === "open", "the reconnect the online event starts", 10000);
  assert.equal((await subscribed).room, "lobby");
  // Online while open changes nothing: no second socket.
  network.dispatchEvent(new Event("online"));
  await sleep(300);
  assert.equal(counter.opened, 2);
  assert.equal(parley.state, "open");
});

test("online after close() opens nothing", { timeout: TIMEOUT }, async () => {
  const network = new EventTarget();
  const counter = countingWebSocket();
  const parley = client(network, counter);
  await waitFor(() => parley.state === "open", "the connection");
  await site.kill();
  await waitFor(() => parley.state === "reconnecting", "the client to notice");
  await parley.close();
  await site.start();
  network.dispatchEvent(new Event("online"));
  await sleep(500);
  assert.equal(counter.opened, 1, "no socket opened after close()");
  assert.equal(parley.state, "closed");
});
