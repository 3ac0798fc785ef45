// RoomSocket against the real all-in-one server (built by `dotnet build RoomActors.sln -c Release`), with the sample
// rooms echo, broadcast and counter. Connections that must drop go through a TCP proxy that resets them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { RoomSocket } from "../roomactors.js";
import { startServer, startProxy, until, next, record, roomName, delay } from "../testing/server.js";

const server = await startServer();
const sockets = [];
const proxies = [];
after(async () => {
  for (const socket of sockets) socket.close();
  for (const proxy of proxies) await proxy.close();
  await server.kill();
});

/** A RoomSocket to the server (or through `host`, a proxy); closed after the tests. */
function connect(type, name, options = {}) {
  const socket = new RoomSocket({ host: server.host, type, name, minReconnectDelayMs: 50, maxReconnectDelayMs: 200, ...options });
  sockets.push(socket);
  return socket;
}

async function proxy() {
  const p = await startProxy(server.host);
  proxies.push(p);
  return p;
}

const strictlyIncreasing = seqs => seqs.every((s, i) => i === 0 || s > seqs[i - 1]);

test("welcome opens the socket; messages come with increasing seq; send resolves with the ack {id, seq}", async () => {
  const socket = connect("echo", roomName("echo"));
  const log = record(socket);
  const open = await next(socket, "open");
  assert.equal(open.detail.resumed, false);
  assert.ok(open.detail.id !== null && open.detail.id !== undefined, "a connection id");
  assert.equal(typeof open.detail.seq, "number");
  assert.equal(socket.readyState, RoomSocket.OPEN);

  const acks = [];
  for (const text of ["one", "two", "three"]) {
    const ack = await socket.send(text);
    // The echo was sent in the turn the ack closes: it arrived first, with a number at or below the ack's.
    const echo = log.messages.find(m => m.data === text);
    assert.ok(echo, `the echo of ${text} arrived before its ack`);
    assert.ok(echo.seq <= ack.seq, `echo seq ${echo.seq} <= ack seq ${ack.seq}`);
    acks.push(ack);
  }
  assert.deepEqual(acks.map(a => a.id), [1, 2, 3]);
  assert.deepEqual(log.messages.map(m => m.data), ["one", "two", "three"]);
  const seqs = log.messages.map(m => m.seq);
  assert.ok(seqs[0] > open.detail.seq, `first message ${seqs[0]} after welcome ${open.detail.seq}`);
  assert.ok(strictlyIncreasing(seqs), `increasing: ${seqs}`);
  assert.ok(strictlyIncreasing(acks.map(a => a.seq)), "ack seqs increase");
  assert.equal(socket.lastSeq, acks[2].seq);
});

test("binary and text payloads round-trip unchanged, LF and all, in their own frame types", async () => {
  const socket = connect("echo", roomName("echo"));
  const log = record(socket);
  await next(socket, "open");
  const bytes = new Uint8Array([0, 10, 13, 255, 10, 0x80, 109, 32, 49, 10]);
  await socket.send(bytes);
  await socket.send("line one\nline two\n");
  await socket.send(new Uint8Array(0));
  await until(() => log.messages.length === 3, "three echoes");
  assert.ok(log.messages[0].data instanceof ArrayBuffer, "binary comes back binary");
  assert.deepEqual(new Uint8Array(log.messages[0].data), bytes);
  assert.equal(log.messages[1].data, "line one\nline two\n");
  assert.ok(log.messages[2].data instanceof ArrayBuffer);
  assert.equal(log.messages[2].data.byteLength, 0);
});

test("after a drop the socket resumes: no gap, the same messages in the same order as a client that stayed", async () => {
  const room = roomName("broadcast");
  const wire = await proxy();
  const dropped = connect("broadcast", room, { host: wire.host });
  const stayed = connect("broadcast", room);
  const sender = connect("broadcast", room);
  const a = record(dropped);
  const b = record(stayed);
  await Promise.all([next(dropped, "open"), next(stayed, "open"), next(sender, "open")]);
  const firstId = dropped.id;

  const sendAll = async (from, to) => {
    for (let i = from; i <= to; i++) await sender.send(`n${i}`);
  };
  await sendAll(1, 10);
  await until(() => a.messages.length >= 10, "10 messages before the drop");
  const resumed = next(dropped, "open");
  wire.refuse(true); // the network stays down: reconnect attempts fail until refuse(false)
  wire.drop();
  await sendAll(11, 30);
  await until(() => a.events.filter(e => e.type === "close").length >= 2, "a failed reconnect attempt");
  assert.equal(dropped.readyState, RoomSocket.CONNECTING, "offline while the sender sent 11-30");
  wire.refuse(false);
  const open = await resumed;
  assert.equal(open.detail.resumed, true);
  assert.equal(open.detail.id, firstId, "same connection id");
  await sendAll(31, 40);
  await until(() => a.messages.length >= 40 && b.messages.length >= 40, "40 messages at both");
  await delay(100); // anything extra (a duplicate) would arrive now

  const expected = Array.from({ length: 40 }, (_, i) => `n${i + 1}`);
  assert.deepEqual(b.messages.map(m => m.data), expected, "the client that stayed");
  assert.deepEqual(a.messages.map(m => m.data), expected, "the resumed client: no gap, no duplicate, same order");
  assert.deepEqual(a.messages.map(m => m.seq), b.messages.map(m => m.seq), "the same room numbers");
  assert.ok(strictlyIncreasing(a.messages.map(m => m.seq)));
  const closes = a.events.filter(e => e.type === "close");
  assert.ok(closes.every(e => e.code === 1006 && e.willReconnect), "drops, each followed by a reconnect");
  assert.equal(a.events.filter(e => e.type === "resync").length, 0);
});

test("sends the room did not acknowledge are re-sent after a resume and processed once", async () => {
  const room = roomName("counter");
  const wire = await proxy();
  const client = connect("counter", room, { host: wire.host });
  const observer = connect("counter", room);
  const c = record(client);
  const o = record(observer);
  await Promise.all([next(client, "open"), next(observer, "open")]);

  // 1, 2 never reach the server: the proxy discards them, then the connection drops.
  wire.blackhole("up");
  const lost = [client.send("inc"), client.send("inc")];
  await delay(200);
  assert.equal(o.messages.length, 0, "the blackholed sends did not reach the room");
  let resumed = next(client, "open");
  wire.drop();
  assert.equal((await resumed).detail.resumed, true);
  assert.deepEqual(await Promise.all(lost).then(acks => acks.map(a => a.id)), [1, 2]);

  // 3, 4 reach the room but their acks (and broadcasts) do not reach the client before the drop.
  wire.blackhole("down");
  const unacked = [client.send("inc"), client.send("inc")];
  await until(() => o.messages.length === 4, "the room processed 3 and 4");
  resumed = next(client, "open");
  wire.drop();
  assert.equal((await resumed).detail.resumed, true);
  assert.deepEqual(await Promise.all(unacked).then(acks => acks.map(a => a.id)), [3, 4]);

  assert.deepEqual((await client.send("inc")).id, 5);
  await until(() => o.messages.length >= 5 && c.messages.length >= 5, "the fifth increment at both");
  await delay(200); // a duplicate increment would arrive now
  assert.deepEqual(o.messages.map(m => m.data), ["1", "2", "3", "4", "5"], "each send processed exactly once");
  assert.deepEqual(c.messages.map(m => m.data), ["1", "2", "3", "4", "5"], "the client missed nothing (replayed)");
  const response = await fetch(`http://${server.host}/rooms/counter/${room}`);
  assert.equal(await response.text(), "5");
});

test("a forged resume token gets a resync event and a fresh connection, not silence", async () => {
  const room = roomName("echo");
  const wire = await proxy();
  const forged = [];
  /** Changes the first character of the resume token's secret (after its last dot): the server must refuse it. */
  class ForgingWebSocket extends WebSocket {
    constructor(url, protocols) {
      const u = new URL(url);
      const token = u.searchParams.get("resume");
      if (token) {
        const i = token.lastIndexOf(".") + 1;
        u.searchParams.set("resume", token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1));
        forged.push(u.searchParams.get("resume"));
      }
      super(u.toString(), protocols);
    }
  }
  const socket = connect("echo", room, { host: wire.host, WebSocket: ForgingWebSocket });
  const log = record(socket);
  const first = await next(socket, "open");
  const resync = next(socket, "resync");
  const fresh = next(socket, "open", 10_000, e => e.detail !== first.detail);
  wire.drop();
  const { detail } = await resync;
  assert.equal(forged.length, 1, "one resume attempt, with the forged token");
  assert.equal(detail.code, 4403, `4403 resume refused (got ${detail.code} ${detail.reason})`);
  assert.match(detail.reason, /^resume refused/);
  const open = await fresh;
  assert.equal(open.detail.resumed, false);
  assert.notEqual(open.detail.id, first.detail.id, "a new connection");
  assert.deepEqual(await socket.send("after"), { id: 1, seq: socket.lastSeq }, "ids start again at 1");
  assert.deepEqual(log.events.map(e => e.type).filter(t => t !== "message"), ["open", "close", "close", "resync", "open"]);
});

test("the offline buffer is bounded: over maxBufferedMessages, send rejects at once; the rest go out on open", async () => {
  const socket = connect("echo", roomName("echo"), { maxBufferedMessages: 3 });
  const held = [socket.send("a"), socket.send("b"), socket.send("c")];
  const started = Date.now();
  await assert.rejects(socket.send("d"), /send buffer full: 3 messages wait to be sent or acknowledged \(maxBufferedMessages 3\)/);
  assert.ok(Date.now() - started < 100, "rejected at once");
  assert.equal(socket.readyState, RoomSocket.CONNECTING);
  assert.deepEqual((await Promise.all(held)).map(a => a.id), [1, 2, 3]);
});
