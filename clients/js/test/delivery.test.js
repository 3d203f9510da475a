// The delivery promise against a real server that is killed (SIGKILL) and restarted on the same
// port and database: every message once and in order, sends stored once, and when to give up.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";

import { ParleyClient } from "../src/index.js";
import { NO_RATE_LIMITS, countingWebSocket, createSite, sleep, waitFor } from "./support/site.js";

// A test that waits for what never comes fails instead of hanging the run.
const TIMEOUT = 30000;

let site;
const clients = [];

// Fast reconnects, so that a restart costs the tests a second, not fifteen.
const FAST = { minReconnectDelay: 100, maxReconnectDelay: 800 };

function client(user, options = {}) {
  const made = new ParleyClient(site.url, { token: site.token(user), WebSocket, ...FAST, ...options });
  clients.push(made);
  return made;
}

// Record the messages a client delivers for `room`, failing on a seq seen twice.
function collect(parley, room) {
  const seqs = [];
  const bodies = [];
  parley.on("message", (message) => {
    if (message.room !== room) return;
    seqs.push(message.seq);
    bodies.push(message.body);
  });
  return { seqs, bodies };
}

function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

before(async () => {
  site = await createSite({
    rooms: ["stream", "offline", "backlog", "quiet"],
    users: ["alice", "bob", "carol", "dave"],
    // A replay of at most 5 messages: a reader that missed more fills the rest from history.
    env: { ...NO_RATE_LIMITS, PARLEY_REPLAY_LIMIT: "5" },
  });
  await site.start();
});

after(async () => {
  await Promise.all(clients.map((made) => made.close()));
  await site?.destroy();
});

test("a server killed and restarted mid-stream: every subscriber sees 1..N once, in order", { timeout: TIMEOUT }, async () => {
  const N = 60;
  const readers = [client("alice"), client("bob")];
  const seen = readers.map((reader) => collect(reader, "stream"));
  await Promise.all(readers.map((reader) => reader.subscribe("stream", { since: 0 })));
  const writer = client("carol");
  const states = [];
  writer.on("state", (state) => states.push(state));

  const acks = [];
  for (let i = 1; i <= N; i += 1) acks.push(writer.send("stream", `m${i}`));
  // Kill the server while the stream is under way: some sends stored, some not, some acks lost.
  await waitFor(() => seen[0].seqs.length >= N / 3, "a third of the stream");
  await site.kill();
  await waitFor(() => writer.state === "reconnecting", "the writer to notice");
  await sleep(300);
  await site.start();

  const stored = await Promise.all(acks);
  assert.deepEqual(
    stored.map((ack) => ack.seq),
    range(1, N),
    "each send stored once, in the order made",
  );
  for (const reader of seen) {
    await waitFor(() => reader.seqs.length >= N, "every message to arrive");
    await sleep(200); // anything doubled would come now
    assert.deepEqual(reader.seqs, range(1, N));
    assert.deepEqual(
      reader.bodies,
      range(1, N).map((i) => `m${i}`),
    );
  }
  const page = await writer.history("stream", { limit: 100 });
  assert.deepEqual(
    page.map((message) => message.body),
    range(1, N).map((i) => `m${i}`),
  );
  assert.ok(states.includes("reconnecting"), `the writer reconnected: ${states}`);
  assert.equal(writer.state, "open");
});

test("sends made while disconnected are stored exactly once", { timeout: TIMEOUT }, async () => {
  const writer = client("dave");
  const reader = client("alice");
  const seen = collect(reader, "offline");
  await reader.subscribe("offline");
  await writer.send("offline", "before");
  await site.kill();
  await waitFor(() => writer.state === "reconnecting", "the writer to notice");

  const acks = ["one", "two", "three", "four", "five"].map((body) => writer.send("offline", `offline ${body}`));
  await sleep(500); // some reconnects fail meanwhile; the sends wait
  await site.start();
  const stored = await Promise.all(acks);
  assert.deepEqual(
    stored.map((ack) => ack.seq),
    [2, 3, 4, 5, 6],
  );

  const page = await writer.history("offline");
  assert.deepEqual(
    page.map((message) => [message.seq, message.body]),
    [
      [1, "before"],
      [2, "offline one"],
      [3, "offline two"],
      [4, "offline three"],
      [5, "offline four"],
      [6, "offline five"],
    ],
  );
  assert.deepEqual(
    stored.map((ack) => ack.client_id),
    page.slice(1).map((message) => message.client_id),
  );
  // The reader subscribed with no since: it resumes from where it was, and sees each once.
  await waitFor(() => seen.seqs.length >= 6, "the reader to catch up");
  assert.deepEqual(seen.seqs, [1, 2, 3, 4, 5, 6]);
});

test("a replay cut short by PARLEY_REPLAY_LIMIT is filled from history, in order", { timeout: TIMEOUT }, async () => {
  const writer = client("carol");
  for (let i = 1; i <= 130; i += 1) await writer.send("backlog", `b${i}`);
  const reader = client("bob");
  const seen = collect(reader, "backlog");
  const subscription = await reader.subscribe("backlog", { since: 3 });
  assert.deepEqual(subscription, { room: "backlog", head: 130, truncated: true });
  await waitFor(() => seen.seqs.length >= 127, "the gap to be filled");
  await sleep(200);
  assert.deepEqual(seen.seqs, range(4, 130));
  assert.deepEqual(
    seen.bodies,
    range(4, 130).map((i) => `b${i}`),
  );
});

test("close() stops reconnecting and rejects unacknowledged sends", { timeout: TIMEOUT }, async () => {
  const counter = countingWebSocket();
  const parley = client("alice", { WebSocket: counter.WebSocket });
  const states = [];
  parley.on("state", (state) => states.push(state));
  await parley.subscribe("quiet");
  await site.kill();
  await waitFor(() => parley.state === "reconnecting", "the client to notice");
  const pending = parley.send("quiet", "never sent");
  await parley.close();
  assert.equal(parley.state, "closed");
  await assert.rejects(pending, (error) => error.name === "ParleyError" && error.code === "closed");
  const opened = counter.opened;
  await site.start();
  await sleep(1500); // longer than the largest back-off
  assert.equal(counter.opened, opened, "no socket opened after close()");
  assert.equal(states.at(-1), "closed");
  const check = client("bob");
  const page = await check.history("quiet");
  assert.deepEqual(page, []);
});

test("an unknown token closes with 4401: the client says why and does not reconnect", { timeout: TIMEOUT }, async () => {
  const counter = countingWebSocket();
  const parley = new ParleyClient(site.url, { token: "not-a-token", WebSocket: counter.WebSocket, ...FAST });
  clients.push(parley);
  const errors = [];
  parley.on("error", (error) => errors.push(error));
  const subscribing = parley.subscribe("quiet");
  await assert.rejects(subscribing, (error) => error.code === "forbidden" && error.closeCode === 4401);
  assert.equal(parley.state, "closed");
  assert.ok(errors.some((error) => error.closeCode === 4401 && /unknown or revoked/.test(error.detail)));
  await sleep(1500);
  assert.equal(counter.opened, 1);
});

test("a revoked token's socket is closed (4401): the client stops, with the server's reason", { timeout: TIMEOUT }, async () => {
  const parley = client("carol");
  await parley.subscribe("quiet");
  const errors = [];
  parley.on("error", (error) => errors.push(error));
  const headers = { Authorization: `Bearer ${site.token("carol")}` };
  const base = `http://127.0.0.1:${site.port}/api`;
  const tokens = await (await fetch(`${base}/tokens`, { headers })).json();
  const revoked = await fetch(`${base}/tokens/${tokens[0].id}`, { method: "DELETE", headers });
  assert.equal(revoked.status, 200);
  await waitFor(() => parley.state === "closed", "the client to stop");
  assert.equal(errors.at(-1).closeCode, 4401);
  assert.equal(errors.at(-1).code, "forbidden");
});
