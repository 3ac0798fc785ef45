// Test support for the document room's node tests (outside test/ so the runner does not take it for a test file): real
// Yjs documents on the stock y-websocket provider, a raw socket for bad input, and a seeded random editor.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";
import { until } from "../../../clients/js/testing/server.js";

export { until };

/**
 * A Y.Doc on a y-websocket provider at `ws://HOST/rooms/doc/NAME`, the URL an app gives the stock provider. Waits (at
 * most `ms`) until the provider has synced. BroadcastChannel is off so that documents in this process meet only
 * through the server.
 */
export async function editor(host, name, { ms = 15_000, type = "doc", connect = true } = {}) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`ws://${host}/rooms/${type}`, name, doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, connect, maxBackoffTime: 500 });
  const closes = [];
  provider.on("connection-close", event => event && closes.push({ code: event.code, reason: event.reason }));
  const text = doc.getText("text");
  const result = { doc, provider, text, closes, destroy: () => { provider.destroy(); doc.destroy(); } };
  if (connect) await synced(result, ms);
  return result;
}

/** Waits until the editor's provider is connected and synced. */
export async function synced(editor, ms = 15_000) {
  await until(() => editor.provider.wsconnected && editor.provider.synced, "the provider to sync", ms);
}

/** A seeded PRNG (mulberry32): the same seed gives the same edits. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One random edit of `text`: an insert of 1-4 characters (sometimes an emoji) at a random place, or a delete. */
export function edit(text, next, label) {
  const length = text.length;
  if (length > 0 && next() < 0.3) {
    const at = Math.floor(next() * length);
    text.delete(at, Math.min(length - at, 1 + Math.floor(next() * 3)));
  } else {
    const pieces = [label, "x", "yz", "😀", "é"];
    text.insert(Math.floor(next() * (length + 1)), pieces[Math.floor(next() * pieces.length)]);
  }
}

/**
 * A raw WebSocket to the room (no Yjs): sends `frames` (Uint8Array, or a string for a text frame) after the open and
 * resolves with how the server closed it, `{ code, reason }`, or rejects after `ms`.
 */
export function rawClose(host, name, frames, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${host}/rooms/doc/${name}`);
    const timer = setTimeout(() => { socket.terminate(); reject(new Error(`no close within ${ms} ms`)); }, ms);
    socket.on("open", () => { for (const frame of frames) socket.send(frame); });
    socket.on("close", (code, reason) => { clearTimeout(timer); resolve({ code, reason: String(reason) }); });
    socket.on("error", () => { /* the close event follows and settles the promise */ });
  });
}

/** `[sync, update, bytes]` or any other frame from its varUint parts: numbers below 128 and byte arrays. */
export function frame(...parts) {
  const bytes = [];
  for (const part of parts) {
    if (typeof part === "number") bytes.push(part);
    else bytes.push(...part);
  }
  return new Uint8Array(bytes);
}

export { Y };
