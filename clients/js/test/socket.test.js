// RoomSocket's behaviour against a scripted fake WebSocket: URLs, ids, the lastSeq rule, re-sends, resync, final
// closes, the buffer bound. The real server is in server.test.js.
import test from "node:test";
import assert from "node:assert/strict";
import { RoomSocket } from "../roomactors.js";

/** A WebSocket whose server side the test plays: `open()`, `frame(data)`, `drop(code)`. */
class FakeWebSocket {
  static all = [];
  readyState = 0;
  protocol = "";
  binaryType = "blob";
  sent = [];
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;

  constructor(url, protocols) {
    this.url = new URL(url);
    this.protocols = protocols;
    FakeWebSocket.all.push(this);
  }

  send(data) {
    assert.equal(this.readyState, 1, "send on a socket that is not open");
    this.sent.push(typeof data === "string" ? data : new Uint8Array(data));
  }

  close(code = 1000, reason = "") {
    this.readyState = 2;
    queueMicrotask(() => this.drop(code, reason));
  }

  open(protocol = "roomactors.v1") {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }

  frame(data) {
    this.onmessage?.({ data });
  }

  drop(code = 1006, reason = "") {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }
}

/** A socket on a fresh fake; returns it, its events, and `next()` waiting (bounded) for the next fake WebSocket. */
function start(options = {}) {
  FakeWebSocket.all = [];
  const events = [];
  const socket = new RoomSocket({
    host: "example.test:8080", type: "chat", name: "lobby", WebSocket: FakeWebSocket,
    minReconnectDelayMs: 1, maxReconnectDelayMs: 2, ...options,
  });
  for (const type of ["open", "message", "close", "resync", "error"]) {
    socket.addEventListener(type, e => events.push(e));
  }
  const next = async (count) => {
    for (let i = 0; i < 200 && FakeWebSocket.all.length < count; i++) await new Promise(r => setTimeout(r, 5));
    assert.equal(FakeWebSocket.all.length, count, `expected connection attempt ${count}`);
    return FakeWebSocket.all[count - 1];
  };
  return { socket, events, next, kinds: () => events.map(e => e.type) };
}

const welcome = (ws, seq, id = "c1", token = "T1") =>
  ws.frame(`welcome ${seq}\n${JSON.stringify({ connection: id, token, resumeWindowSeconds: 120 })}`);

test("connects to /rooms/{type}/{name} with the subprotocol, the query and the ticket", async () => {
  const { socket, next } = start({ query: { name: "ann b" }, ticket: "tk", secure: true, type: "chat", name: "lob.by" });
  const ws = await next(1);
  assert.equal(ws.protocols, "roomactors.v1");
  assert.equal(ws.binaryType, "arraybuffer");
  assert.equal(ws.url.protocol, "wss:");
  assert.equal(ws.url.host, "example.test:8080");
  assert.equal(ws.url.pathname, "/rooms/chat/lob.by");
  assert.equal(ws.url.searchParams.get("name"), "ann b");
  assert.equal(ws.url.searchParams.get("ticket"), "tk");
  assert.equal(ws.url.searchParams.has("resume"), false);
  socket.close();
});

test("a ticket function is asked before every connect", async () => {
  let n = 0;
  const { socket, next } = start({ ticket: async () => `t${++n}` });
  const first = await next(1);
  assert.equal(first.url.searchParams.get("ticket"), "t1");
  first.open();
  welcome(first, 0);
  first.drop(1006);
  const second = await next(2);
  assert.equal(second.url.searchParams.get("ticket"), "t2");
  socket.close();
});

test("welcome opens: id, lastSeq, then sends made before open go out with ids 1, 2 and resolve on their acks", async () => {
  const { socket, events, next, kinds } = start();
  assert.equal(socket.readyState, RoomSocket.CONNECTING);
  const a = socket.send("a");
  const b = socket.send(new Uint8Array([1, 10, 2]));
  const ws = await next(1);
  ws.open();
  assert.deepEqual(ws.sent, [], "nothing is written before welcome");
  welcome(ws, 7);
  assert.equal(socket.readyState, RoomSocket.OPEN);
  assert.equal(socket.id, "c1");
  assert.equal(socket.lastSeq, 7);
  assert.deepEqual(kinds(), ["open"]);
  assert.deepEqual(events[0].detail, { id: "c1", resumed: false, seq: 7 });
  assert.equal(ws.sent[0], "m 1\na");
  assert.deepEqual(ws.sent[1], new Uint8Array([...new TextEncoder().encode("m 2\n"), 1, 10, 2]));

  ws.frame("m 8\nhello");
  ws.frame("ack 1 9");
  ws.frame("ack 2 11");
  assert.deepEqual(await a, { id: 1, seq: 9 });
  assert.deepEqual(await b, { id: 2, seq: 11 });
  assert.equal(socket.lastSeq, 11);
  const message = events.find(e => e.type === "message");
  assert.equal(message.data, "hello");
  assert.equal(message.seq, 8);
  socket.close();
});

test("an ack acknowledges every earlier id too (the room handles a connection's messages in order)", async () => {
  const { socket, next } = start();
  const ws = await next(1);
  ws.open();
  welcome(ws, 0);
  const sends = [socket.send("1"), socket.send("2"), socket.send("3")];
  ws.frame("ack 2 5");
  assert.deepEqual(await Promise.all(sends.slice(0, 2)), [{ id: 1, seq: 5 }, { id: 2, seq: 5 }]);
  ws.frame("ack 3 6");
  assert.deepEqual(await sends[2], { id: 3, seq: 6 });
  socket.close();
});

test("binary messages arrive as ArrayBuffer with their seq; unknown frame kinds are ignored", async () => {
  const { socket, events, next } = start();
  const ws = await next(1);
  ws.open();
  welcome(ws, 0);
  ws.frame("pong");
  ws.frame("future 1 2\nwhatever");
  ws.frame(new Uint8Array([...new TextEncoder().encode("m 3\n"), 0, 255, 10]).buffer);
  const messages = events.filter(e => e.type === "message");
  assert.equal(messages.length, 1);
  assert.ok(messages[0].data instanceof ArrayBuffer);
  assert.deepEqual(new Uint8Array(messages[0].data), new Uint8Array([0, 255, 10]));
  assert.equal(messages[0].seq, 3);
  assert.equal(socket.lastSeq, 3);
  assert.equal(socket.readyState, RoomSocket.OPEN);
  socket.close();
});

test("after a drop it resumes with resume=TOKEN&seq=LASTSEQ; lastSeq reaches SEQ only after the K replayed frames", async () => {
  const { socket, events, next, kinds } = start();
  const first = await next(1);
  first.open();
  welcome(first, 3);
  first.frame("m 5\nx");
  first.drop(1006);
  assert.equal(socket.readyState, RoomSocket.CONNECTING);
  const close = events.find(e => e.type === "close");
  assert.equal(close.code, 1006);
  assert.equal(close.willReconnect, true);

  const second = await next(2);
  assert.equal(second.url.searchParams.get("resume"), "T1");
  assert.equal(second.url.searchParams.get("seq"), "5");
  second.open();
  second.frame('resumed 10\n{"connection":"c1","replayed":2}');
  assert.equal(socket.lastSeq, 5, "resumed does not set lastSeq before its replay");
  second.frame("m 7\ny");
  assert.equal(socket.lastSeq, 7);
  assert.equal(kinds().includes("open") && kinds().lastIndexOf("open") > kinds().indexOf("close"), false, "no open during the replay");
  second.frame("m 9\nz");
  assert.equal(socket.lastSeq, 10, "after the K replayed frames, lastSeq is resumed's SEQ");
  assert.deepEqual(kinds(), ["open", "message", "close", "message", "message", "open"]);
  assert.deepEqual(events.at(-1).detail, { id: "c1", resumed: true, seq: 10 });
  assert.equal(socket.readyState, RoomSocket.OPEN);

  // A resume with nothing missed opens at once.
  second.drop(1012);
  const third = await next(3);
  assert.equal(third.url.searchParams.get("seq"), "10");
  third.open();
  third.frame('resumed 10\n{"connection":"c1","replayed":0}');
  assert.equal(events.at(-1).type, "open");
  assert.equal(events.at(-1).detail.resumed, true);
  socket.close();
});

test("on resumed, unacked messages are re-sent with their ids, in order, before new ones; ids continue", async () => {
  const { socket, next } = start();
  const first = await next(1);
  first.open();
  welcome(first, 0);
  const acked = socket.send("a");
  const lost1 = socket.send("b");
  const lost2 = socket.send("c");
  first.frame("ack 1 1");
  first.drop(1006);
  const offline = socket.send("d"); // while offline: waits
  const second = await next(2);
  second.open();
  assert.deepEqual(second.sent, []);
  second.frame('resumed 1\n{"connection":"c1","replayed":0}');
  assert.deepEqual(second.sent, ["m 2\nb", "m 3\nc", "m 4\nd"]);
  second.frame("ack 4 4");
  assert.deepEqual(await acked, { id: 1, seq: 1 });
  assert.deepEqual(await Promise.all([lost1, lost2, offline]), [{ id: 2, seq: 4 }, { id: 3, seq: 4 }, { id: 4, seq: 4 }]);
  const live = socket.send("e");
  assert.deepEqual(second.sent.at(-1), "m 5\ne");
  socket.close();
  await assert.rejects(live, /closed by close/);
});

for (const code of [4410, 4403]) {
  test(`${code}: close (willReconnect), resync, unacked sends reject, waiting ones go out on a fresh connection from id 1`, async () => {
    const { socket, events, next, kinds } = start();
    const first = await next(1);
    first.open();
    welcome(first, 4);
    const unknown = socket.send("fate unknown");
    first.drop(1006);
    const waiting = socket.send("after the drop");
    const second = await next(2);
    assert.equal(second.url.searchParams.get("resume"), "T1");
    second.open();
    second.drop(code, code === 4410 ? "resync: unknown connection" : "resume refused: bad token");
    await assert.rejects(unknown, /may or may not have reached the room.*re-read the room's state/);
    assert.deepEqual(kinds(), ["open", "close", "close", "resync"]);
    assert.equal(events[2].willReconnect, true);
    assert.equal(events[3].detail.code, code);
    assert.equal(socket.id, null);

    const third = await next(3);
    assert.equal(third.url.searchParams.has("resume"), false, "fresh: no resume");
    assert.equal(third.url.searchParams.has("seq"), false);
    third.open();
    welcome(third, 20, "c2", "T2");
    assert.deepEqual(third.sent, ["m 1\nafter the drop"]);
    third.frame("ack 1 21");
    assert.deepEqual(await waiting, { id: 1, seq: 21 });
    assert.deepEqual(events.at(-1).detail, { id: "c2", resumed: false, seq: 20 });
    socket.close();
  });
}

for (const code of [4409, 1008, 1002, 1009, 1000, 4001]) {
  test(`${code} from the server is final: close with willReconnect false, held sends reject, no reconnect`, async () => {
    const { socket, events, next } = start();
    const ws = await next(1);
    ws.open();
    welcome(ws, 0);
    const pending = socket.send("x");
    ws.drop(code, "bye");
    await assert.rejects(pending, new RegExp(`closed the connection for good \\(${code} bye\\)`));
    const close = events.at(-1);
    assert.equal(close.type, "close");
    assert.equal(close.code, code);
    assert.equal(close.willReconnect, false);
    assert.equal(socket.readyState, RoomSocket.CLOSED);
    await new Promise(r => setTimeout(r, 30));
    assert.equal(FakeWebSocket.all.length, 1, "no reconnect");
    await assert.rejects(socket.send("y"), /RoomSocket is closed.*create a new RoomSocket/);
  });
}

test("close() is final: pending sends reject, the close event says willReconnect false, no reconnect", async () => {
  const { socket, events, next } = start();
  const ws = await next(1);
  ws.open();
  welcome(ws, 0);
  const pending = socket.send("x");
  socket.close(4000, "done");
  assert.equal(socket.readyState, RoomSocket.CLOSING);
  await assert.rejects(pending, /closed by close\(4000\)/);
  await new Promise(r => setTimeout(r, 30));
  assert.equal(socket.readyState, RoomSocket.CLOSED);
  const close = events.at(-1);
  assert.deepEqual([close.type, close.code, close.reason, close.willReconnect], ["close", 4000, "done", false]);
  assert.equal(FakeWebSocket.all.length, 1);
});

test("close() while waiting to reconnect cancels the reconnect", async () => {
  const { socket, events, next } = start({ minReconnectDelayMs: 50, maxReconnectDelayMs: 50 });
  const ws = await next(1);
  ws.drop(1006);
  socket.close();
  assert.equal(socket.readyState, RoomSocket.CLOSED);
  assert.equal(events.at(-1).willReconnect, false);
  await new Promise(r => setTimeout(r, 80));
  assert.equal(FakeWebSocket.all.length, 1);
});

test("the buffer bound: over maxBufferedMessages waiting or unacked, send rejects at once", async () => {
  const { socket, next } = start({ maxBufferedMessages: 2 });
  const held = [socket.send("1"), socket.send("2")];
  await assert.rejects(socket.send("3"), /send buffer full: 2 messages wait.*maxBufferedMessages 2/);
  const ws = await next(1);
  ws.open();
  welcome(ws, 0);
  await assert.rejects(socket.send("4"), /send buffer full/, "written but unacked still count");
  ws.frame("ack 1 1");
  await held[0];
  const fifth = socket.send("5");
  assert.deepEqual(ws.sent, ["m 1\n1", "m 2\n2", "m 3\n5"]);
  ws.frame("ack 3 2");
  assert.deepEqual(await Promise.all([held[1], fifth]), [{ id: 2, seq: 2 }, { id: 3, seq: 2 }]);
  socket.close();
});

test("a server without roomactors.v1 is an error and a final close, not a reconnect loop", async () => {
  const { socket, events, next } = start();
  const ws = await next(1);
  ws.open("");
  await new Promise(r => setTimeout(r, 30));
  const error = events.find(e => e.type === "error");
  assert.match(error.detail.error.message, /did not accept the subprotocol roomactors.v1.*update the server/);
  assert.equal(events.at(-1).type, "close");
  assert.equal(events.at(-1).willReconnect, false);
  assert.equal(socket.readyState, RoomSocket.CLOSED);
  assert.equal(FakeWebSocket.all.length, 1);
});

test("a malformed known frame is a protocol error: error event and final close", async () => {
  const { socket, events, next } = start();
  const ws = await next(1);
  ws.open();
  welcome(ws, 0);
  ws.frame("m x\nbad");
  await new Promise(r => setTimeout(r, 30));
  assert.match(events.find(e => e.type === "error").detail.error.message, /invalid number "x"/);
  assert.equal(events.filter(e => e.type === "message").length, 0);
  assert.equal(socket.readyState, RoomSocket.CLOSED);
});

test("options are checked with a message saying what to pass", () => {
  assert.throws(() => new RoomSocket({ type: "chat", name: "x", WebSocket: FakeWebSocket }), /needs options.host.*localhost:8080/);
  assert.throws(() => new RoomSocket({ host: "h", name: "x", WebSocket: FakeWebSocket }), /needs options.type/);
  assert.throws(() => new RoomSocket({ host: "h", type: "t", name: "x", WebSocket: null }), /pass options.WebSocket/);
  assert.throws(() => new RoomSocket({ host: "h", type: "t", name: "x", WebSocket: FakeWebSocket, maxBufferedMessages: 0 }), /maxBufferedMessages/);
});

test("onopen/onmessage/onclose property handlers run like a WebSocket's", async () => {
  const { socket, next } = start();
  const seen = [];
  socket.onopen = e => seen.push(`open ${e.detail.seq}`);
  socket.onmessage = e => seen.push(`message ${e.data}`);
  socket.onclose = e => seen.push(`close ${e.code}`);
  const ws = await next(1);
  ws.open();
  welcome(ws, 1);
  ws.frame("m 2\nhi");
  socket.close();
  await new Promise(r => setTimeout(r, 10));
  assert.deepEqual(seen, ["open 1", "message hi", "close 1000"]);
});

test("a ticket function that throws is an error event and a retry, not the end", async () => {
  let calls = 0;
  const { socket, events, next } = start({
    ticket: () => {
      if (++calls === 1) throw new Error("ticket service down");
      return "t2";
    },
  });
  const ws = await next(1);
  assert.equal(ws.url.searchParams.get("ticket"), "t2");
  assert.match(events.find(e => e.type === "error").detail.error.message, /ticket service down/);
  socket.close();
});

test("a welcome without a token (no resume offered): a drop is a resync, and the next connection is fresh", async () => {
  const { socket, next, kinds } = start();
  const first = await next(1);
  first.open();
  welcome(first, 0, "c1", "");
  const unknown = socket.send("x");
  first.drop(1006);
  await assert.rejects(unknown, /may or may not have reached the room/);
  assert.deepEqual(kinds(), ["open", "close", "resync"]);
  const second = await next(2);
  assert.equal(second.url.searchParams.has("resume"), false);
  socket.close();
});

test("a drop before the first welcome retries fresh, keeping the waiting sends", async () => {
  const { socket, next, kinds } = start();
  const waiting = socket.send("early");
  (await next(1)).drop(1006);
  const second = await next(2);
  assert.equal(second.url.searchParams.has("resume"), false);
  second.open();
  welcome(second, 0);
  assert.deepEqual(second.sent, ["m 1\nearly"]);
  second.frame("ack 1 1");
  assert.deepEqual(await waiting, { id: 1, seq: 1 });
  assert.deepEqual(kinds(), ["close", "open"], "no resync: nothing was lost");
  socket.close();
});

test("an error without a close event (node 20's WebSocket on a refused connect) is a drop, retried", async () => {
  const { socket, events, next } = start();
  const first = await next(1);
  first.onerror?.({}); // no onclose follows
  const second = await next(2);
  const close = events.find(e => e.type === "close");
  assert.deepEqual([close.code, close.willReconnect], [1006, true]);
  first.drop(1006); // a late close of the abandoned socket changes nothing
  assert.equal(events.filter(e => e.type === "close").length, 1);
  second.open();
  welcome(second, 0);
  assert.equal(socket.readyState, RoomSocket.OPEN);
  socket.close();
});

test("a connect that gets no welcome within connectTimeoutMs counts as a drop and is retried", async () => {
  const { socket, events, next } = start({ connectTimeoutMs: 20 });
  const first = await next(1);
  first.open(); // the socket opens, but the server never says welcome
  await next(2);
  const close = events.find(e => e.type === "close");
  assert.equal(close.code, 1006);
  assert.match(close.reason, /no welcome from ws:\/\/example.test:8080\/rooms\/chat\/lobby within 20 ms/);
  socket.close();
});

test("close() takes only the codes a client may send, and nothing arrives after it", async () => {
  const { socket, events, next } = start();
  const ws = await next(1);
  ws.open();
  assert.throws(() => socket.close(1001), /close code 1001 cannot be sent by a client: use 1000 or 3000-4999/);
  socket.close(3001);
  welcome(ws, 0); // a welcome racing the close: no open after close()
  ws.frame("m 1\nlate");
  await new Promise(r => setTimeout(r, 10));
  assert.deepEqual(events.map(e => e.type), ["close"]);
  assert.equal(socket.readyState, RoomSocket.CLOSED);
});
