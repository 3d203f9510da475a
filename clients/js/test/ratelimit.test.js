// Rate limits honoured: a refused frame waits out its retry_after and goes again, without piling
// up refusals (the server closes a socket that collects 50 of them), and a refused handshake is
// retried after the delay the server gave.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";

import { ParleyClient } from "../src/index.js";
import { createSite, waitFor } from "./support/site.js";

const TIMEOUT = 30000;
let site;
const clients = [];

// A ws WebSocket that keeps the error frames its sockets receive and counts the sockets.
function tappedWebSocket() {
  const tap = { opened: 0, errors: [] };
  tap.WebSocket = class extends WebSocket {
    constructor(...args) {
      super(...args);
      tap.opened += 1;
      this.on("message", (data) => {
        const frame = JSON.parse(String(data));
        if (frame.type === "error") tap.errors.push(frame);
      });
    }
  };
  return tap;
}

before(async () => {
  site = await createSite({
    rooms: ["busy"],
    users: ["alice", "bob"],
    // 3 sends a second after a burst of 2; 1 handshake a second after a burst of 3.
    env: { PARLEY_SEND_RATE: "3/2", PARLEY_HANDSHAKE_RATE: "1/3" },
  });
  await site.start();
});

after(async () => {
  await Promise.all(clients.map((made) => made.close()));
  await site?.destroy();
});

test("sends over PARLEY_SEND_RATE wait out retry_after and are stored once, in order", { timeout: TIMEOUT }, async () => {
  const tap = tappedWebSocket();
  const alice = new ParleyClient(site.url, { token: site.token("alice"), WebSocket: tap.WebSocket });
  clients.push(alice);
  const retries = [];
  alice.on("retrying", (retry) => retries.push(retry));
  const started = Date.now();
  const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => alice.send("busy", `burst ${i + 1}`)));
  const elapsed = (Date.now() - started) / 1000;

  const refusals = tap.errors.filter((frame) => frame.code === "rate_limited");
  assert.ok(refusals.length > 0, "the server refused some sends");
  assert.ok(refusals.every((frame) => typeof frame.retry_after === "number" && frame.retry_after > 0));
  assert.ok(refusals.length < 12, `refusals were not piled up: ${refusals.length}`);
  // Each refusal was announced, with the very frame that goes again (its client_id unchanged).
  assert.equal(retries.length, refusals.length);
  const stored = new Set(acks.map((ack) => ack.client_id));
  for (const { frame, error, delay } of retries) {
    assert.equal(frame.type, "send");
    assert.ok(stored.has(frame.client_id), `retried ${frame.client_id} was stored as such`);
    assert.equal(error.code, "rate_limited");
    assert.ok(delay >= error.retryAfter * 1000);
  }
  // 10 sends beyond the burst at 3 a second.
  assert.ok(elapsed >= 2.5, `the client waited: ${elapsed} s`);
  assert.equal(tap.opened, 1, "the socket was never closed for abuse (4429)");
  assert.deepEqual(
    acks.map((ack) => ack.seq),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  const page = await alice.history("busy");
  assert.deepEqual(
    page.map((message) => message.body),
    Array.from({ length: 12 }, (_, i) => `burst ${i + 1}`),
  );
});

test("a handshake over PARLEY_HANDSHAKE_RATE is retried after its retry_after", { timeout: TIMEOUT }, async () => {
  const taps = [0, 1, 2, 3].map(() => tappedWebSocket());
  const errors = [];
  const bobs = taps.map((tap) => {
    const bob = new ParleyClient(site.url, { token: site.token("bob"), WebSocket: tap.WebSocket, minReconnectDelay: 10 });
    bob.on("error", (error) => errors.push(error));
    clients.push(bob);
    return bob;
  });
  await Promise.all(bobs.map((bob) => bob.subscribe("busy")));
  const refused = errors.filter((error) => error.code === "rate_limited");
  assert.ok(refused.length > 0, "some handshakes were refused");
  assert.ok(refused.every((error) => error.retryAfter > 0));
  await waitFor(() => bobs.every((bob) => bob.state === "open"), "every client to be in");
});
