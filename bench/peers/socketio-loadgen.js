// The Socket.IO side of Parley's load generator: bench/loadgen.py's room and idle modes, spoken
// with socket.io-client, printing the same JSON summary on its last line.
//
//     node socketio-loadgen.js --url http://127.0.0.1:PORT --receivers 1000 --messages 100 --rate 20
//     node socketio-loadgen.js --url ... --mode idle --receivers 10000 --server-pid PID --compression deflate
//
// Several comma-separated URLs spread the receivers over several server processes. With
// --compression deflate each socket offers permessage-deflate as a browser does; otherwise none.
"use strict";

const fs = require("node:fs");
const { performance } = require("node:perf_hooks");
const { io } = require("socket.io-client");

const MARK = "bench:";

function parseArgs(argv) {
  const args = {
    url: "", room: "bench", receivers: 1000, messages: 100, rate: 0, settle: 30,
    mode: "room", serverPid: 0, compression: "none",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = typeof args[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return args;
}

const now = () => performance.timeOrigin + performance.now(); // ms, sub-millisecond resolution
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function open(url, args) {
  const socket = io(url, {
    transports: ["websocket"],
    query: { room: args.room },
    forceNew: true,
    reconnection: false,
    timeout: 60000,
    // socket.io-client in Node offers permessage-deflate unless told not to, as a browser does.
    perMessageDeflate: args.compression === "deflate" ? { threshold: 1024 } : false,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

function negotiated(socket) {
  const ws = socket.io.engine.transport.ws;
  return ws && ws.extensions && ws.extensions.includes("permessage-deflate") ? 1 : 0;
}

function percentile(values, q) {
  if (values.length === 0) return null;
  const ordered = Float64Array.from(values).sort();
  return Math.round(ordered[Math.min(ordered.length - 1, Math.floor(q * ordered.length))] * 10) / 10;
}

async function openAll(urls, args, count, batch) {
  const sockets = [];
  for (let i = 0; i < count; i += batch) {
    const wave = [];
    for (let j = i; j < Math.min(count, i + batch); j++) wave.push(open(urls[j % urls.length], args));
    sockets.push(...(await Promise.all(wave)));
    await sleep(50); // do not look like a SYN flood
  }
  return sockets;
}

async function runRoom(args) {
  const urls = args.url.split(",");
  const receivers = await openAll(urls, args, args.receivers, 50);
  const expected = args.receivers * args.messages;
  const latencies = [];
  let delivered = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  for (const socket of receivers) {
    let got = 0;
    socket.on("message", (body) => {
      if (typeof body !== "string" || !body.startsWith(MARK) || got >= args.messages) return;
      latencies.push(now() - Number(body.split(":")[2]));
      got += 1;
      delivered += 1;
      if (delivered >= expected) finish();
    });
  }
  const sender = await open(urls[0], args);
  const start = now();
  for (let i = 0; i < args.messages; i++) {
    if (args.rate) await sleep(Math.max(0, start + (i * 1000) / args.rate - now()));
    sender.emit("message", `${MARK}${i}:${now()}`);
  }
  const wait = (args.settle + (args.rate ? args.messages / args.rate : 0)) * 1000;
  await Promise.race([finished, sleep(wait)]);
  const elapsed = (now() - start) / 1000;
  const summary = {
    receivers: args.receivers,
    messages: args.messages,
    offered_rate: args.rate || null,
    expected,
    delivered,
    elapsed,
    loss: expected - delivered,
    deliveries_per_s: Math.round(delivered / elapsed),
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    mean_ms: latencies.length ? Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 10) / 10 : null,
    deflate_negotiated: negotiated(sender),
  };
  for (const socket of [sender, ...receivers]) socket.close();
  return summary;
}

function rssKb(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line.split(/\s+/)[1]);
}

async function runIdle(args) {
  const before = rssKb(args.serverPid);
  const sockets = await openAll([args.url], args, args.receivers, 100);
  await sleep(2000); // let the server settle before reading its memory
  const after = rssKb(args.serverPid);
  let received = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  for (const socket of sockets) {
    socket.once("message", () => {
      received += 1;
      if (received === sockets.length) finish();
    });
  }
  const start = now();
  sockets[0].emit("message", `${MARK}0:${now()}`);
  await Promise.race([finished, sleep(60000)]);
  const elapsed = (now() - start) / 1000;
  await sleep(2000); // as bench/loadgen.py: memory once every socket has had a message
  const afterBroadcast = rssKb(args.serverPid);
  const summary = {
    sockets: sockets.length,
    rss_before_kb: before,
    rss_after_kb: after,
    rss_per_socket_kb: Math.round(((after - before) / Math.max(1, sockets.length)) * 10) / 10,
    broadcast_received: received,
    broadcast_seconds: Math.round(elapsed * 100) / 100,
    rss_after_broadcast_kb: afterBroadcast,
    rss_per_socket_after_broadcast_kb: Math.round(((afterBroadcast - before) / Math.max(1, sockets.length)) * 10) / 10,
    deflate_negotiated: negotiated(sockets[0]),
  };
  for (const socket of sockets) socket.close();
  return summary;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const summary = args.mode === "idle" ? await runIdle(args) : await runRoom(args);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
