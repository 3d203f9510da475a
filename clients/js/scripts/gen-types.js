// Write src/frames.d.ts, the TypeScript types of every frame, from the JSON Schema that Parley's
// server generates from its pydantic models (clients/protocol/frames.schema.json).
//
//   node scripts/gen-types.js           rewrite src/frames.d.ts
//   node scripts/gen-types.js --check   exit 1 when src/frames.d.ts is not what the schema makes
//
// The schema uses a small part of JSON Schema (objects, const, enum, anyOf, $ref, arrays, maps,
// oneOf for the two unions, allOf for a frame that extends another definition), so a page of our
// own does the job without a generator dependency.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_PATH = join(PACKAGE, "..", "protocol", "frames.schema.json");
export const TYPES_PATH = join(PACKAGE, "src", "frames.d.ts");

const SCALARS = { string: "string", integer: "number", number: "number", boolean: "boolean", null: "null" };

function refName(ref) {
  const prefix = "#/$defs/";
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice(prefix.length);
}

function typeOf(schema) {
  if (schema.$ref) return refName(schema.$ref);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.oneOf) return schema.oneOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `Array<${typeOf(schema.items ?? {})}>`;
  if (schema.type === "object") {
    if (schema.properties) throw new Error("nested object schemas are not supported: give them a $defs entry");
    const values = schema.additionalProperties;
    return `Record<string, ${values && values !== true ? typeOf(values) : "unknown"}>`;
  }
  if (SCALARS[schema.type]) return SCALARS[schema.type];
  if (Object.keys(schema).every((key) => ["title", "description", "default"].includes(key))) return "unknown";
  throw new Error(`unsupported schema ${JSON.stringify(schema)}`);
}

function comment(text, indent = "") {
  const lines = text.trim().split("\n").map((line) => line.trim());
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} * ${line}`.trimEnd()).join("\n")}\n${indent} */\n`;
}

// A definition that is `allOf` others and its own fields (Message: MessageData and a type).
function heritage(name, schema) {
  if (!schema.allOf) return "";
  const bases = schema.allOf.map((part) => {
    if (!part.$ref || Object.keys(part).length !== 1) throw new Error(`${name}: allOf must list $refs only`);
    return refName(part.$ref);
  });
  return ` extends ${bases.join(", ")}`;
}

function declaration(name, schema) {
  let out = schema.description ? comment(schema.description) : "";
  if (schema.oneOf) return `${out}export type ${name} = ${schema.oneOf.map(typeOf).join(" | ")};\n`;
  if (schema.type !== "object" || !schema.properties) throw new Error(`${name}: not an object schema`);
  const required = new Set(schema.required ?? []);
  out += `export interface ${name}${heritage(name, schema)} {\n`;
  for (const [field, property] of Object.entries(schema.properties)) {
    if (property.description) out += comment(property.description, "  ");
    out += `  ${field}${required.has(field) ? "" : "?"}: ${typeOf(property)};\n`;
  }
  return `${out}}\n`;
}

function frameMap(name, union, defs) {
  const mapping = defs[union].discriminator.mapping;
  const lines = Object.entries(mapping).map(([type, ref]) => `  ${type}: ${refName(ref)};`);
  return `/** Each ${union === "ClientFrame" ? "client" : "server"} frame's type by its \`type\`. */\nexport interface ${name} {\n${lines.join("\n")}\n}\n`;
}

// Server frames the client consumes itself: replies to its own requests, and frames it turns into
// events of its own shape (message, in order; subscribed, unsubscribed; error, as a ParleyError).
// Every other server frame type is passed on as the event of its name, so a new one is an event of
// both clients at once (the Python client's scripts/gen_frames.py keeps the same list; a test in
// tests/clients compares the two).
export const CONSUMED_FRAME_TYPES = [
  "message", "subscribed", "unsubscribed", "ack", "history", "pong", "notifications", "error",
];

/** The frame types passed on as events, in the schema's order. */
export function eventFrameTypes(schema) {
  return schema.serverFrameTypes.filter((type) => !CONSUMED_FRAME_TYPES.includes(type));
}

function eventMap(schema) {
  const mapping = schema.$defs.ServerFrame.discriminator.mapping;
  const lines = eventFrameTypes(schema).map((type) => `  ${type}: ${refName(mapping[type])};`);
  const doc = "/** The server frames ParleyClient passes on as events of the same name (client.on(type, listener)). */";
  return `${doc}\nexport interface FrameEventMap {\n${lines.join("\n")}\n}\n`;
}

/** The text of src/frames.d.ts for `schema`. */
export function render(schema) {
  const defs = schema.$defs;
  const parts = [
    "// Generated by scripts/gen-types.js from clients/protocol/frames.schema.json: do not edit.\n" +
      "// `npm run gen-types` rewrites it; the tests fail when it is stale.\n",
    comment(`${schema.title}: ${schema.description}`),
  ];
  for (const name of Object.keys(defs).sort()) parts.push(declaration(name, defs[name]));
  parts.push(frameMap("ClientFrameMap", "ClientFrame", defs));
  parts.push(frameMap("ServerFrameMap", "ServerFrame", defs));
  parts.push(eventMap(schema));
  return parts.join("\n");
}

function main() {
  const expected = render(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(TYPES_PATH, "utf8");
    } catch {
      // missing: stale
    }
    if (current !== expected) {
      console.error("src/frames.d.ts is stale: run `npm run gen-types`.");
      process.exit(1);
    }
    return;
  }
  writeFileSync(TYPES_PATH, expected);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
