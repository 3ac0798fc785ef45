// A server restart (kill the all-in-one process, start it again on the same port): the in-memory rooms are gone,
// so the client must hear a resync and connect fresh, not wait in silence or pretend it resumed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { RoomSocket } from "../roomactors.js";
import { startServer, next, record, roomName } from "../testing/server.js";

let server = await startServer();
after(() => server.kill());

test("after the server restarts, the socket gets a resync and a fresh connection", async () => {
  const socket = new RoomSocket({ host: server.host, type: "counter", name: roomName("counter"), minReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
  try {
    const log = record(socket);
    const first = await next(socket, "open");
    assert.equal((await socket.send("inc")).id, 1);

    const resync = next(socket, "resync", 60_000);
    await server.kill();
    server = await startServer({ port: server.port });
    const { detail } = await resync;
    assert.ok([4403, 4410].includes(detail.code), `resync with 4403 or 4410 (got ${detail.code} ${detail.reason})`);
    const open = await next(socket, "open");
    assert.equal(open.detail.resumed, false);
    assert.notEqual(open.detail.id, first.detail.id);
    assert.equal((await socket.send("inc")).id, 1, "ids start again on the new connection");
    const closes = log.events.filter(e => e.type === "close");
    assert.ok(closes.length >= 2 && closes.every(e => e.willReconnect), "every close while restarting says it reconnects");
  } finally {
    socket.close();
  }
});
