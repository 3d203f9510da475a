// Files and threads against a real server: upload() (typed refusals with the server's sentence),
// send() with attachments and replyTo, the `thread` event, and history({thread}).

import assert from "node:assert/strict";
import { test } from "node:test";

import { ParleyError } from "../src/index.js";
import { record, siteForTests, waitFor } from "./support/site.js";

const TIMEOUT = 30000;
const fixture = siteForTests({ rooms: ["files", "threads", { slug: "secret", private: true }], users: ["alice", "bob"] });
const client = fixture.client;

test("an upload resolves with its record, and a message carries it", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const bob = client("bob");
  const seen = record(bob, "message");
  await bob.subscribe("files");
  const progress = [];
  const text = "the minutes of Tuesday's meeting\n";
  const file = new Blob([text], { type: "text/plain" });
  const stored = await alice.upload("files", file, { name: "minutes.txt", onProgress: (p) => progress.push(p) });

  assert.ok(Number.isInteger(stored.id));
  assert.equal(stored.name, "minutes.txt");
  assert.equal(stored.content_type, "text/plain");
  assert.equal(stored.size, Buffer.byteLength(text));
  assert.equal(stored.thumbnail_url, null);
  // Without XMLHttpRequest (Node) the end of the upload is its only progress.
  assert.deepEqual(progress.at(-1), { loaded: file.size, total: file.size });

  const ack = await alice.send("files", "minutes attached", { attachments: [stored.id] });
  await waitFor(() => seen.some((message) => message.seq === ack.seq), "bob's copy of the message");
  const message = seen.find((each) => each.seq === ack.seq);
  assert.deepEqual(
    message.attachments.map(({ id, name, size }) => ({ id, name, size })),
    [{ id: stored.id, name: "minutes.txt", size: stored.size }],
  );
});

test("a refused upload rejects with a ParleyError carrying the server's sentence", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const page = new Blob(["<html><script>alert(1)</script></html>"], { type: "text/plain" });
  const refused = await alice.upload("files", page, { name: "cat.txt" }).then(
    () => assert.fail("an HTML page was accepted"),
    (error) => error,
  );
  assert.ok(refused instanceof ParleyError);
  assert.equal(refused.code, "invalid");
  assert.match(refused.detail, /text\/html .*read from its content/);

  const empty = await alice.upload("files", new Blob([]), { name: "nothing.txt" }).catch((error) => error);
  assert.equal(empty.code, "invalid");
  assert.match(empty.detail, /'nothing.txt' is empty/);

  // Bob may not read the private room: nothing is uploaded there.
  const bob = client("bob");
  const hidden = await bob.upload("secret", new Blob(["x"]), { name: "x.txt" }).catch((error) => error);
  assert.equal(hidden.code, "not_found");
  assert.ok(hidden.detail.length > 0);

  await assert.rejects(alice.upload("files", "not a file"), (error) => error.code === "invalid");
  await assert.rejects(alice.send("files", "x", { attachments: "7" }), (error) => error.code === "invalid");
});

test("a cancelled upload rejects with code closed", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    alice.upload("files", new Blob(["x"]), { name: "x.txt", signal: controller.signal }),
    (error) => error instanceof ParleyError && error.code === "closed",
  );
});

test("replies: send with replyTo, the thread event, and history({thread})", { timeout: TIMEOUT }, async () => {
  const alice = client("alice");
  const bob = client("bob");
  const threads = record(bob, "thread");
  await bob.subscribe("threads");
  const original = await alice.send("threads", "lunch on Friday?");
  await alice.send("threads", "something else entirely");
  const first = await bob.send("threads", "yes, noon", { replyTo: original.seq });
  const second = await alice.send("threads", "noon it is", { replyTo: original.seq });

  await waitFor(() => threads.some((frame) => frame.thread_count === 2), "the thread frame with two replies");
  const last = threads.at(-1);
  assert.equal(last.room, "threads");
  assert.equal(last.seq, original.seq);
  assert.equal(last.last_reply, second.seq);

  const page = await alice.history("threads", { thread: original.seq });
  assert.deepEqual(
    page.map((message) => [message.seq, message.reply_to, message.body]),
    [
      [original.seq, null, "lunch on Friday?"],
      [first.seq, original.seq, "yes, noon"],
      [second.seq, original.seq, "noon it is"],
    ],
  );
  assert.equal(page[0].thread_count, 2);
  const room = await alice.history("threads");
  assert.equal(room.length, 4, "replies are messages of the room too");

  await assert.rejects(alice.history("threads", { thread: 99 }), (error) => error.code === "not_found");
  await assert.rejects(alice.send("threads", "x", { replyTo: -1 }), (error) => error.code === "invalid");
});
