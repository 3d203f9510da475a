// Median time of client.upload() for files of 10 KB, 1 MB and 8 MB, and of one history({thread}) page of
// 20 replies, against a real server (Uvicorn, SQLite, rate limits off). Not a test: figures to quote.
//
//   node scripts/upload-timing.js     (in clients/js; the server runs on the repository's .venv)
import { createSite } from "../test/support/site.js";
import { ParleyClient } from "../src/index.js";
import WebSocket from "ws";

const site = await createSite({ rooms: ["files"], users: ["alice"], env: { PARLEY_API_RATE: "0", PARLEY_SEND_RATE: "0", PARLEY_HISTORY_RATE: "0", PARLEY_FRAME_RATE: "0" } });
await site.start();
const client = new ParleyClient(site.url, { token: site.token("alice"), WebSocket });
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const size of [10 * 1024, 1024 * 1024, 8 * 1024 * 1024]) {
    const times = [];
    for (let i = 0; i < 7; i += 1) {
      const blob = new Blob([new Uint8Array(size).fill(97)]);
      const start = performance.now();
      await client.upload("files", blob, { name: "a.txt" });
      times.push(performance.now() - start);
    }
    console.log(`${size} bytes: median ${median(times).toFixed(1)} ms over 7 (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
  }
  const times = [];
  for (let i = 0; i < 7; i += 1) {
    const start = performance.now();
    const ack = await client.send("files", `original ${i}`);
    for (let r = 0; r < 20; r += 1) await client.send("files", `reply ${r}`, { replyTo: ack.seq });
    const t0 = performance.now();
    await client.history("files", { thread: ack.seq, limit: 100 });
    times.push(performance.now() - t0);
  }
  console.log(`history({thread}) of 20 replies: median ${median(times).toFixed(1)} ms over 7`);
} finally {
  await client.close();
  await site.destroy();
}
