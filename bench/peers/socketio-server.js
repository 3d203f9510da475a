// A Socket.IO 4 chat server for Parley's benchmark: one event, rooms, nothing stored.
//
// A client connects with ?room=<name> and emits "message" with a string; every socket in that room
// receives it as a "message" event. With REDIS_URL set, rooms span processes through Socket.IO's
// Redis adapter (the two-process case).
//
//     node socketio-server.js PORT
//     PEER_DEFLATE=1 REDIS_URL=redis://127.0.0.1:6379 node socketio-server.js PORT
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  serveClient: false,
  perMessageDeflate: process.env.PEER_DEFLATE === "1",
});

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room || "bench");
  socket.join(room);
  socket.on("message", (body) => io.to(room).emit("message", body));
});

async function useRedis(url) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const publisher = createClient({ url });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  // Pub/sub channels are shared by every Redis database: a key of our own keeps other runs out.
  io.adapter(createAdapter(publisher, subscriber, { key: process.env.SOCKETIO_KEY || "parley-bench-socketio" }));
}

async function main() {
  if (process.env.REDIS_URL) await useRedis(process.env.REDIS_URL);
  httpServer.listen(port, "127.0.0.1", () => console.log(`Socket.IO server on 127.0.0.1:${port}`));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
