// A bare Node `ws` broadcast server speaking the tutorial protocol, for Parley's benchmark.
//
// A client sends {"message": s} on ws://HOST:PORT/ws/chat/<room>/ and every socket in that room
// receives {"message": s}: no framework, no storage, no auth, as a team would write it in an hour.
//
//     node ws-server.js PORT            # compression off, ws's default
//     PEER_DEFLATE=1 node ws-server.js PORT   # accept permessage-deflate, ws's other settings as shipped
"use strict";

const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2]);
const rooms = new Map();
const server = new WebSocketServer({
  host: "127.0.0.1",
  port,
  perMessageDeflate: process.env.PEER_DEFLATE === "1",
});

function membersOf(room) {
  let members = rooms.get(room);
  if (members === undefined) {
    members = new Set();
    rooms.set(room, members);
  }
  return members;
}

server.on("connection", (socket, request) => {
  const members = membersOf(request.url);
  members.add(socket);
  socket.on("message", (data) => {
    // Encoded once for the whole room; ws still frames (and, when negotiated, compresses) per socket.
    const frame = Buffer.from(JSON.stringify({ message: JSON.parse(data).message }));
    for (const member of members) {
      if (member.readyState === WebSocket.OPEN) member.send(frame, { binary: false });
    }
  });
  socket.on("close", () => members.delete(socket));
});

server.on("listening", () => console.log(`ws broadcast server on 127.0.0.1:${port}`));
