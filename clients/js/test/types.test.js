// src/frames.d.ts is what scripts/gen-types.js makes from clients/protocol/frames.schema.json:
// a protocol change that is not regenerated here fails the tests.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CONSUMED_FRAME_TYPES, SCHEMA_PATH, TYPES_PATH, eventFrameTypes, render } from "../scripts/gen-types.js";

const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));

test("src/frames.d.ts is up to date with the schema (npm run gen-types)", () => {
  assert.equal(readFileSync(TYPES_PATH, "utf8"), render(schema), "src/frames.d.ts is stale: run `npm run gen-types`");
});

test("every frame type of the protocol has its type", () => {
  const types = readFileSync(TYPES_PATH, "utf8");
  for (const type of [...schema.clientFrameTypes, ...schema.serverFrameTypes]) {
    assert.match(types, new RegExp(`^  ${type}: \\w+;$`, "m"), `no type for the ${type} frame`);
  }
});

test("a changed schema renders differently", () => {
  const changed = structuredClone(schema);
  changed.$defs.Ack.properties.seq.description = "Changed.";
  assert.notEqual(render(changed), render(schema));
});

test("a frame that extends another definition inherits its fields instead of restating them", () => {
  const types = readFileSync(TYPES_PATH, "utf8");
  const message = types.match(/^export interface Message extends MessageData \{\n(?<body>[\s\S]*?)^\}$/m);
  assert.ok(message, "Message does not extend MessageData");
  assert.deepEqual([...message.groups.body.matchAll(/^  (\w+)\??:/gm)].map((field) => field[1]), ["type"]);
});

test("every server frame the client does not consume itself is an event (FrameEventMap)", () => {
  const changed = structuredClone(schema);
  changed.serverFrameTypes.push("shout");
  changed.$defs.Shout = {
    properties: { type: { const: "shout", type: "string" }, room: { type: "string" } },
    required: ["type", "room"],
    type: "object",
  };
  changed.$defs.ServerFrame.oneOf.push({ $ref: "#/$defs/Shout" });
  changed.$defs.ServerFrame.discriminator.mapping.shout = "#/$defs/Shout";
  const events = render(changed).match(/^export interface FrameEventMap \{\n(?<body>[\s\S]*?)^\}$/m);
  assert.ok(events, "no FrameEventMap");
  const names = [...events.groups.body.matchAll(/^  (\w+): \w+;$/gm)].map((line) => line[1]);
  assert.deepEqual(names, [...eventFrameTypes(schema), "shout"]);
  for (const consumed of CONSUMED_FRAME_TYPES) assert.ok(!names.includes(consumed), `${consumed} is consumed, not an event`);
});
