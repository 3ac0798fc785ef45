// The document room (`doc`, samples/Rooms/DocRoom.cs on src/Grains/Documents/DocumentRoom.cs) with the real clients:
// npm yjs on the stock y-websocket provider against the built all-in-one server.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startServer, roomName } from "../../../clients/js/testing/server.js";
import { editor, synced, random, edit, rawClose, frame, until, Y } from "../testing/yjs.mjs";

let server;
before(async () => { server = await startServer({ args: ["--RoomActors:Documents:MaxUpdateBytes=4096", "--RoomActors:Documents:MaxDocumentBytes=16384"] }); });
after(() => server?.kill());

const url = name => `http://${server.host}/rooms/doc/${name}`;

test("two editors typing at once converge, and a third that joins later gets the whole document", async () => {
  const name = roomName("converge");
  const a = await editor(server.host, name);
  const b = await editor(server.host, name);
  try {
    const nextA = random(1), nextB = random(2);
    for (let i = 0; i < 150; i++) { // interleaved: each edit leaves before the other's arrives
      edit(a.text, nextA, "a");
      edit(b.text, nextB, "b");
      if (i % 10 === 0) await new Promise(resolve => setImmediate(resolve));
    }
    await until(() => a.text.toString() === b.text.toString(), "a and b to converge", 20_000);
    assert.ok(a.text.length > 50, `the text has content (${a.text.length} characters)`);

    const c = await editor(server.host, name);
    try {
      assert.equal(c.text.toString(), a.text.toString(), "the late joiner has the whole document at sync");
      assert.deepEqual(c.doc.toJSON(), a.doc.toJSON());
    } finally {
      c.destroy();
    }

    // The HTTP view: the document as a Yjs update, and the text as JSON.
    const binary = await fetch(url(name));
    assert.equal(binary.status, 200);
    assert.equal(binary.headers.get("content-type"), "application/octet-stream");
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, new Uint8Array(await binary.arrayBuffer()));
    assert.equal(loaded.getText("text").toString(), a.text.toString());
    const json = await (await fetch(url(name) + "?format=json")).json();
    assert.deepEqual(json, { text: a.text.toString() });
  } finally {
    a.destroy();
    b.destroy();
  }
});

test("an editor that was offline edits, comes back and merges", async () => {
  const name = roomName("offline");
  const a = await editor(server.host, name);
  const b = await editor(server.host, name);
  try {
    a.text.insert(0, "shared start. ");
    await until(() => b.text.toString() === "shared start. ", "b to see a's first edit");

    b.provider.disconnect();
    await until(() => !b.provider.wsconnected, "b to go offline");
    const nextA = random(3), nextB = random(4);
    for (let i = 0; i < 40; i++) {
      edit(a.text, nextA, "A");
      edit(b.text, nextB, "B"); // offline: only b has these
    }
    assert.notEqual(a.text.toString(), b.text.toString());

    b.provider.connect();
    await synced(b);
    await until(() => a.text.toString() === b.text.toString(), "a and b to merge after b came back", 15_000);
    const late = await editor(server.host, name);
    try {
      assert.equal(late.text.toString(), a.text.toString());
    } finally {
      late.destroy();
    }
  } finally {
    a.destroy();
    b.destroy();
  }
});

test("awareness is relayed, sent to a newcomer, and dropped for a client whose socket dies", async () => {
  const name = roomName("awareness");
  const a = await editor(server.host, name);
  const b = await editor(server.host, name);
  try {
    a.provider.awareness.setLocalStateField("user", { name: "ada" });
    await until(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === "ada", "b to see ada");

    const c = await editor(server.host, name);
    try {
      await until(() => c.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === "ada", "the newcomer to see ada");
    } finally {
      c.destroy();
    }

    // A raw client announces itself, then its TCP connection dies without a close frame: the room drops its state.
    const ghost = new WebSocket(`ws://${server.host}/rooms/doc/${name}`);
    await new Promise((resolve, reject) => ghost.once("open", resolve).once("error", reject));
    const state = new TextEncoder().encode(JSON.stringify({ user: { name: "ghost" } }));
    ghost.send(frame(1, [6 + state.length], 1, 0xc0, 0x84, 0x3d, 1, [state.length], state)); // client 1000000, clock 1
    await until(() => b.provider.awareness.getStates().get(1000000)?.user?.name === "ghost", "b to see the ghost");
    ghost.terminate();
    await until(() => !b.provider.awareness.getStates().has(1000000), "the ghost's state to be dropped", 15_000);
    assert.equal(b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name, "ada", "the others' states stay");
  } finally {
    a.destroy();
    b.destroy();
  }
});

test("truncated and malformed messages close their sender with a reason; the document and the others are untouched", async () => {
  const name = roomName("bad");
  const a = await editor(server.host, name);
  const b = await editor(server.host, name);
  try {
    a.text.insert(0, "keep me");
    await until(() => b.text.toString() === "keep me", "b to see a's text");
    const before = Y.encodeStateAsUpdate(a.doc);

    const cases = [
      { frames: [frame(0, 2, 10, 1, 2)], code: 4400, reason: /truncated/ }, // an update of 10 bytes with 2 sent
      { frames: [frame(0, 0)], code: 4400, reason: /ends where its state vector/ }, // a sync step 1 without its state vector
      { frames: [frame(0, 7, 0)], code: 4400, reason: /unknown sync message type 7/ },
      { frames: [frame(0, 2, 4, 1, 0xff, 0xff, 0xff)], code: 4400, reason: /malformed Yjs update/ },
      { frames: [frame(0, 2, 2, 0, 0, 9)], code: 4400, reason: /follow the end/ }, // trailing bytes
      { frames: [frame(0, 0, 2, 1, 0xff)], code: 4400, reason: /state vector/ },
      { frames: [frame(1, 3, 1, 1, 1)], code: 4400, reason: /awareness/ },
      { frames: [frame(9)], code: 4415, reason: /unknown message type 9/ },
      { frames: ["hello"], code: 4415, reason: /binary/ },
      { frames: [frame(0, 2, 0x90, 0x40, ...new Uint8Array(8208))], code: 4413, reason: /MaxUpdateBytes/ }, // 8,208 > 4,096
    ];
    for (const { frames, code, reason } of cases) {
      const closed = await rawClose(server.host, name, frames);
      assert.equal(closed.code, code, `${JSON.stringify(closed)} for ${frames[0].length}-byte frame`);
      assert.match(closed.reason, reason);
    }

    // Untouched: the same document over HTTP and at a's and b's, and they still edit together.
    const stored = new Uint8Array(await (await fetch(url(name))).arrayBuffer());
    const check = new Y.Doc();
    Y.applyUpdate(check, stored);
    assert.equal(check.getText("text").toString(), "keep me");
    assert.deepEqual(Y.encodeStateVectorFromUpdate(stored), Y.encodeStateVectorFromUpdate(before));
    b.text.insert(7, "!");
    await until(() => a.text.toString() === "keep me!", "a to see b's edit after the bad clients");
    assert.deepEqual(a.closes, []);
    assert.deepEqual(b.closes, []);
  } finally {
    a.destroy();
    b.destroy();
  }
});

test("a document past MaxDocumentBytes refuses the update that would grow it, with a final close the provider reports", async () => {
  const name = roomName("full");
  const a = await editor(server.host, name);
  try {
    for (let i = 0; i < 5; i++) {
      a.text.insert(a.text.length, "x".repeat(3000)); // 3,000-byte updates under the 4,096 limit: 15,000 in all
    }
    const closed = new Promise(resolve => a.provider.once("closed", resolve));
    a.text.insert(a.text.length, "y".repeat(3000)); // past 16,384
    const { code, reason } = await closed;
    assert.equal(code, 4413);
    assert.match(reason, /MaxDocumentBytes/);
    const json = await (await fetch(url(name) + "?format=json")).json();
    assert.equal(json.text, "x".repeat(15000), "the stored document has every accepted update and not the refused one");
  } finally {
    a.destroy();
  }
});

test("HTTP: other methods get 405, other paths 404, an unknown format 400", async () => {
  const name = roomName("http");
  assert.equal((await fetch(url(name), { method: "POST", body: "x" })).status, 405);
  assert.equal((await fetch(url(name) + "/elsewhere")).status, 404);
  assert.equal((await fetch(url(name) + "?format=xml")).status, 400);
  const empty = await fetch(url(name));
  assert.equal(empty.status, 200);
  assert.deepEqual([...new Uint8Array(await empty.arrayBuffer())], [0, 0], "a new document is the empty update");
});
