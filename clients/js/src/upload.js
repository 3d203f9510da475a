// Uploading a file to a room over Parley's HTTP API (POST {api}rooms/{slug}/attachments,
// multipart, field `file`): with XMLHttpRequest where there is one, so that the upload's progress
// can be reported; with fetch elsewhere (Node), where only its end is.

import { ParleyError } from "./errors.js";

// A refusal that is not Parley's JSON (a proxy's page, a dropped connection) still gets a code.
const CODE_OF_STATUS = { 400: "invalid", 401: "forbidden", 403: "forbidden", 404: "not_found", 413: "too_large", 429: "rate_limited" };

/** The API root beside a Parley WebSocket address: ws(s)://host/prefix/ws/ → http(s)://host/prefix/api/. */
export function apiRootFor(socketUrl) {
  const url = new URL("../api/", socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.href;
}

/** The ParleyError an API answer (`status`, its `text`) stands for. */
export function refusal(status, text, retryAfterHeader) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's or a server's error page
  }
  if (body && typeof body.code === "string" && typeof body.detail === "string") {
    return new ParleyError(body.code, body.detail, { retryAfter: body.retry_after ?? null });
  }
  const code = CODE_OF_STATUS[status] ?? (status >= 500 ? "unavailable" : "invalid");
  const retryAfter = retryAfterHeader ? Number(retryAfterHeader) : null;
  const detail =
    status === 0
      ? "The upload did not reach the server; check the connection and try again."
      : `The server refused the upload (HTTP ${status}).`;
  return new ParleyError(code, detail, { retryAfter: Number.isFinite(retryAfter) ? retryAfter : null });
}

/**
 * Send `file` (a Blob or File) to `url`; resolves with the attachment record the server answers.
 * `headers` go with the request; `onProgress({loaded, total})` hears the upload's progress;
 * `signal` (an AbortSignal) cancels it (the promise then rejects with code "closed").
 */
export function uploadFile({ url, file, name, headers = {}, onProgress, signal, XMLHttpRequest: XHR, fetch: fetcher }) {
  const form = new FormData();
  if (name === undefined) form.append("file", file);
  else form.append("file", file, name);
  if (typeof XHR === "function") return viaXhr(XHR, url, form, headers, onProgress, signal, file.size);
  if (typeof fetcher !== "function") {
    return Promise.reject(new TypeError("This runtime has neither XMLHttpRequest nor fetch to upload with."));
  }
  return viaFetch(fetcher, url, form, headers, onProgress, signal, file.size);
}

function cancelled() {
  return new ParleyError("closed", "The upload was cancelled.");
}

function viaXhr(XHR, url, form, headers, onProgress, signal, size) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled());
      return;
    }
    const request = new XHR();
    request.open("POST", url);
    request.withCredentials = true; // the session's cookies, where the API is on another origin too
    for (const [header, value] of Object.entries(headers)) request.setRequestHeader(header, value);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => {
      onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : size });
    };
    request.onload = () => {
      if (request.status === 201 || request.status === 200) {
        try {
          resolve(JSON.parse(request.responseText));
        } catch {
          reject(refusal(request.status, "", null));
        }
        return;
      }
      reject(refusal(request.status, request.responseText, request.getResponseHeader("Retry-After")));
    };
    request.onerror = () => reject(refusal(0, "", null));
    request.onabort = () => reject(cancelled());
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(form);
  });
}

async function viaFetch(fetcher, url, form, headers, onProgress, signal, size) {
  let response;
  try {
    response = await fetcher(url, {
      method: "POST",
      body: form,
      headers: { Accept: "application/json", ...headers },
      credentials: "include",
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw cancelled();
    throw refusal(0, String(error), null);
  }
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) {
    throw refusal(response.status, text, response.headers.get("Retry-After"));
  }
  onProgress?.({ loaded: size, total: size });
  return JSON.parse(text);
}
