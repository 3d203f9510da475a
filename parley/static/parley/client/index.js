// parley-client: Parley's WebSocket protocol v1 for browsers and Node.
export { ParleyClient } from "./client.js";
export { ParleyError } from "./errors.js";
