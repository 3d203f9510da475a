// The client's API against a real server: the snippet as written, typed errors, edits,
// deletes, reactions, read markers, presence, typing and notifications.

import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";

import { ParleyError } from "../src/index.js";
import { record, siteForTests, waitFor } from "./support/site.js";

const TIMEOUT = 30000;
const fixture = siteForTests({
  rooms: ["lobby", "edits", "people", { slug: "secret", private: true }],
  users: ["alice", "bob", { name: "ops", staff: true }],
});
const client = fixture.client;

test("the issue's snippet works as written", { timeout: TIMEOUT }, async () => {
  // 45 messages in the lobby first, so that `since: 41` and `before: 42` mean something.
  const seeder = client("bob");
  for (let i = 1; i <= 45; i += 1) await seeder.send("lobby", `seed ${i}`);

  // The runtime's WebSocket, as a browser or Node 22 has one; on Node 20 the ws package's.
  const runtimeWebSocket = globalThis.WebSocket;
  globalThis.WebSocket = WebSocket;
  const token = fixture.site.token("alice");
  const url = fixture.site.url;
  const messages = [];
  const states = [];
  try {
    // The snippet, with the package imported by its name and the test's server address.
    const { ParleyClient } = await import("parley-client");
    const client = new ParleyClient(url, { token });
    fixture.clients.push(client);
    client.on("message", (m) => messages.push(m));
    client.on("state", (s) => states.push(s));
    const sub = await client.subscribe("lobby", { since: 41 });
    const ack = await client.send("lobby", "hi");
    const page = await client.history("lobby", { before: 42, limit: 50 });

    assert.deepEqual(sub, { room: "lobby", head: 45, truncated: false });
    assert.equal(ack.room, "lobby");
    assert.equal(ack.seq, 46);
    assert.ok(Number.isInteger(ack.id));
    assert.deepEqual(
      page.map((message) => message.seq),
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
    await waitFor(() => messages.length >= 5, "the replay and the new message");
    assert.deepEqual(
      messages.map((message) => [message.seq, message.body]),
      [
        [42, "seed 42"],
        [43, "seed 43"],
        [44, "seed 44"],
        [45, "seed 45"],
        [46, "hi"],
      ],
    );
    const mine = messages.at(-1);
    assert.equal(mine.author.name, "alice");
    assert.equal(mine.id, ack.id);
    assert.deepEqual(states, ["connecting", "open"]);
  } finally {
    globalThis.WebSocket = runtimeWebSocket;
  }
});

test("a request made when the state turns open goes out once", { timeout: TIMEOUT }, async () => {
  const sent = [];
  class Tapped extends WebSocket {
    send(data) {
      sent.push(JSON.parse(String(data)));
      super.send(data);
    }
  }
  const alice = client("alice", { WebSocket: Tapped });
  const answered = [];
  alice.on("state", (state) => {
    if (state === "open") answered.push(alice.notifications({ since: 0 }));
  });
  await waitFor(() => answered.length === 1, "the state to turn open");
  await answered[0];
  await alice.ping();
  assert.equal(sent.filter((frame) => frame.type === "notifications").length, 1);
});

test("errors are ParleyErrors with the server's code and sentence", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  await assert.rejects(alice.subscribe("no-such-room"), (error) => {
    assert.ok(error instanceof ParleyError);
    assert.equal(error.code, "not_found");
    assert.match(error.detail, /no-such-room/);
    assert.equal(error.message, error.detail);
    return true;
  });
  // A private room is answered word for word as a room that does not exist.
  await assert.rejects(alice.history("secret"), { name: "ParleyError", code: "not_found" });
  await assert.rejects(alice.send("lobby", "x".repeat(4001)), { code: "too_large" });
  await assert.rejects(alice.send("lobby", "\u0000"), { code: "invalid" });
  // Checked before anything is sent: a slug the server would refuse anyway.
  await assert.rejects(alice.subscribe("not a slug"), { code: "invalid" });
  // The connection stays open through all of it.
  await alice.ping();
  assert.equal(alice.state, "open");
});

test("edits, deletes, reactions and read markers", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const bob = client("bob");
  const updates = record(bob, "message_updated");
  const reactions = record(bob, "reactions");
  await bob.subscribe("edits");
  const { seq } = await alice.send("edits", "first draft");

  const edited = await alice.edit("edits", seq, "second draft");
  assert.equal(edited.body, "second draft");
  assert.ok(edited.edited_at);
  await waitFor(() => updates.length >= 1, "bob to see the edit");
  assert.equal(updates[0].body, "second draft");

  const reacted = await bob.react("edits", seq, "👍");
  assert.deepEqual(reacted.counts, { "👍": 1 });
  assert.deepEqual(reacted.mine, ["👍"]);
  await waitFor(() => reactions.length >= 1, "bob to see the reaction");

  await assert.rejects(bob.edit("edits", seq, "not mine"), { code: "forbidden" });
  await assert.rejects(bob.react("edits", seq, "ok"), { code: "invalid" });

  const unread = await bob.read("edits", seq);
  assert.deepEqual(unread, { room: "edits", count: 0, last_read: seq });

  const deleted = await alice.delete("edits", seq);
  assert.equal(deleted.deleted, true);
  await waitFor(() => updates.some((update) => update.deleted), "bob to see the delete");
  const [message] = await bob.history("edits");
  assert.equal(message.deleted, true);
  assert.equal(message.body, "");
});

test("presence, typing, and who is online", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const bob = client("bob");
  const diffs = record(bob, "presence_diff");
  const typing = record(bob, "typing");
  await bob.subscribe("people");
  // `presence` comes right after `subscribed`.
  await waitFor(() => bob.online("people").length > 0, "bob's presence");
  assert.deepEqual(
    bob.online("people").map((person) => person.name),
    ["bob"],
  );
  await alice.subscribe("people");
  await waitFor(() => diffs.some((diff) => diff.joined.some((person) => person.name === "alice")), "alice to arrive");
  assert.deepEqual(bob.online("people").map((person) => person.name).sort(), ["alice", "bob"]);
  alice.typing("people");
  await waitFor(() => typing.length >= 1, "bob to see alice typing");
  assert.equal(typing[0].user.name, "alice");
  await alice.unsubscribe("people");
  await waitFor(() => bob.online("people").length === 1, "alice to leave");
});

test("notifications: live, replayed after since, and marked read", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const live = record(alice, "notification");
  const counts = record(alice, "notifications_unread");
  assert.deepEqual(await alice.notifications(), { unread: 0, truncated: false });
  const response = await fetch(`http://127.0.0.1:${fixture.site.port}/api/publish`, {
    method: "POST",
    headers: { Authorization: `Bearer ${fixture.site.token("ops")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ users: ["alice"], notification: { kind: "test.note", data: { text: "Hello, alice" } } }),
  });
  assert.equal(response.status, 201, await response.text());
  await waitFor(() => live.length >= 1 && counts.length >= 1, "the notification");
  assert.equal(live[0].text, "Hello, alice");
  assert.equal(counts.at(-1).count, 1);

  // Another client asking from 0 gets it replayed once.
  const again = client("alice");
  const replayed = record(again, "notification");
  assert.deepEqual(await again.notifications({ since: 0 }), { unread: 1, truncated: false });
  assert.deepEqual(
    replayed.map((note) => note.id),
    [live[0].id],
  );
  assert.equal(await alice.markNotificationRead(live[0].id), 0);
});
