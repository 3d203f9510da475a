// A real Parley server for the tests: the repository's example project under Uvicorn, on a SQLite
// database in a temporary folder, with the in-memory channel layer (as tests/servers.py runs it).
//
// The Python is PARLEY_PYTHON when set, else the repository's .venv/bin/python.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync, existsSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import WebSocket from "ws";

import { ParleyClient } from "../../src/index.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
export const PYTHON = process.env.PARLEY_PYTHON || join(REPO, ".venv", "bin", "python");

// Load tests send far over the default limits on purpose: their servers run with every limit
// off, as tests/servers.py's NO_RATE_LIMITS; the rate-limit test sets its own.
export const NO_RATE_LIMITS = Object.fromEntries(
  ["PARLEY_SEND_RATE", "PARLEY_SUBSCRIBE_RATE", "PARLEY_HISTORY_RATE", "PARLEY_FRAME_RATE", "PARLEY_HANDSHAKE_RATE"].map(
    (name) => [name, "0"],
  ),
);

// Seeds rooms and users in one Python process (Django starts once): the management commands
// createroom and issuetoken, as an operator would run them. Prints {username: token} as JSON.
const SEED = `
import io, json, sys
import django
django.setup()
from django.core.management import call_command
spec = json.loads(sys.argv[1])
call_command("migrate", "--noinput", verbosity=0)
for room in spec["rooms"]:
    args = [room["slug"]] + (["--private"] if room.get("private") else []) + (["--guests"] if room.get("guests") else [])
    call_command("createroom", *args, stdout=io.StringIO())
tokens = {}
for user in spec["users"]:
    out = io.StringIO()
    call_command("issuetoken", user["name"], "--create", *(["--staff"] if user.get("staff") else []), stdout=out)
    tokens[user["name"]] = out.getvalue().strip().splitlines()[-1]
print(json.dumps(tokens))
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One seeded site: a database, its tokens, and the server process serving it (start, kill, stop). */
export class Site {
  constructor({ dir, env, tokens, port }) {
    this.dir = dir;
    this.env = env;
    this.tokens = tokens;
    this.port = port;
    this.proc = null;
    this.log = join(dir, "server.log");
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/ws/`;
  }

  token(user) {
    return this.tokens[user];
  }

  /** Start Uvicorn on the site's port (the same port every time) and wait until it listens. */
  async start() {
    const out = openSync(this.log, "a");
    const args = [
      "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", String(this.port),
      "--no-access-log", "--http", "parley.ops.servers:HeaderTimeoutProtocol",
    ]; // prettier-ignore
    this.proc = spawn(PYTHON, args, { cwd: REPO, env: this.env, stdio: ["ignore", out, out] });
    closeSync(out);
    const proc = this.proc;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${this.output().slice(-4000)}`);
      if (await listening(this.port)) return this;
      await sleep(100);
    }
    throw new Error(`server did not listen on ${this.port} within 30 s:\n${this.output().slice(-4000)}`);
  }

  /** Kill the server with SIGKILL, as a crash would, and wait until it is gone. */
  async kill() {
    await this.#end("SIGKILL");
  }

  /** Stop the server gracefully (SIGTERM). */
  async stop() {
    await this.#end("SIGTERM");
  }

  async #end(signal) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(timer);
  }

  output() {
    return existsSync(this.log) ? readFileSync(this.log, "utf8") : "";
  }

  /** Stop the server and remove the site's folder. */
  async destroy() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A new site: a migrated SQLite database with `rooms` (slugs, or {slug, private, guests}) and
 * `users` (names, or {name, staff}; each with an API token), served on a free port with `env` over the test defaults. Not started.
 */
export async function createSite({ rooms = [], users = [], env = {} } = {}) {
  if (!existsSync(PYTHON)) throw new Error(`No Python at ${PYTHON}: set PARLEY_PYTHON, or create the repository's .venv`);
  const dir = mkdtempSync(join(tmpdir(), "parley-js-"));
  const siteEnv = {
    ...process.env,
    DJANGO_SETTINGS_MODULE: "config.settings",
    DJANGO_SECRET_KEY: "parley-js-client-tests-not-for-production",
    DJANGO_DEBUG: "0",
    PARLEY_GUESTS: "1",
    CHANNEL_LAYER_URL: "memory://",
    DATABASE_URL: `sqlite:///${join(dir, "parley.sqlite3")}`,
    DJANGO_MEDIA_ROOT: join(dir, "media"), // uploads stay in the site's folder
    PYTHONUNBUFFERED: "1",
    // The example project first, then this checkout (ahead of any other install of parley).
    PYTHONPATH: [join(REPO, "example"), REPO, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    ...env,
  };
  const spec = {
    rooms: rooms.map((room) => (typeof room === "string" ? { slug: room } : room)),
    users: users.map((user) => (typeof user === "string" ? { name: user } : user)),
  };
  const seeded = spawnSync(PYTHON, ["-c", SEED, JSON.stringify(spec)], { cwd: REPO, env: siteEnv, encoding: "utf8" });
  if (seeded.status !== 0) throw new Error(`seeding the site failed:\n${seeded.stdout}\n${seeded.stderr}`);
  const tokens = JSON.parse(seeded.stdout.trim().split("\n").at(-1));
  return new Site({ dir, env: siteEnv, tokens, port: await freePort() });
}

/** Resolve when `predicate()` is true, checking every 20 ms; fail after `timeout` ms with `what`. */
export async function waitFor(predicate, what, timeout = 20000) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A site for the tests of one file: created (`createSite(spec)`) and started before them, and
 * destroyed after them with every client `client(user, options)` made (a token client on ws).
 */
export function siteForTests(spec) {
  const fixture = { site: null, clients: [] };
  fixture.client = (user, options = {}) => {
    const made = new ParleyClient(fixture.site.url, { token: fixture.site.token(user), WebSocket, ...options });
    fixture.clients.push(made);
    return made;
  };
  before(async () => {
    fixture.site = await createSite(spec);
    await fixture.site.start();
  });
  after(async () => {
    await Promise.all(fixture.clients.map((made) => made.close()));
    await fixture.site?.destroy();
  });
  return fixture;
}

/** Every value `event` of a client brings, in an array to look at later. */
export function record(client, event) {
  const values = [];
  client.on(event, (value) => values.push(value));
  return values;
}

/** A ws WebSocket class that counts the sockets made with it: {opened, WebSocket}. */
export function countingWebSocket() {
  const counter = { opened: 0 };
  counter.WebSocket = class extends WebSocket {
    constructor(...args) {
      super(...args);
      counter.opened += 1;
    }
  };
  return counter;
}

export { sleep };
