// The document is durable: in distributed mode (redis-server, and a silo co-hosting the gateway), every server process is
// killed and started again, and a new client gets the same document, including the part compacted into a snapshot.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { roomName } from "../../../clients/js/testing/server.js";
import { editor, random, edit, until, Y } from "../testing/yjs.mjs";
import { startCluster } from "../testing/cluster.mjs";

const cluster = await startCluster();
after(() => cluster.stop());

test("after every server process restarts, a new client gets the same document", async () => {
  const name = roomName("durable");
  const a = await editor(cluster.gateway, name, { ms: 60_000 });
  const b = await editor(cluster.gateway, name, { ms: 60_000 });
  let expected;
  try {
    const nextA = random(5), nextB = random(6);
    for (let i = 0; i < 100; i++) {
      edit(a.text, nextA, "a");
      edit(b.text, nextB, "b");
    }
    a.text.insert(0, "z".repeat(300_000)); // past CompactAfterBytes (256 KiB): the room writes a snapshot
    for (let i = 0; i < 20; i++) edit(b.text, nextB, "b"); // and more updates after it
    await until(() => a.text.toString() === b.text.toString(), "a and b to converge", 30_000);
    // Every update reached the other editor through the room, so each is stored (output gate) by now.
    expected = a.text.toString();
  } finally {
    a.destroy();
    b.destroy();
  }

  try {
    await cluster.restart();
  } catch (error) {
    throw new Error(`${error.message}\n${cluster.log()}`);
  }
  const c = await editor(cluster.gateway, name, { ms: 60_000 });
  try {
    assert.equal(c.text.length, expected.length);
    assert.equal(c.text.toString(), expected, "the new client has the document as it was before the restart");
    const stored = new Uint8Array(await (await fetch(`http://${cluster.gateway}/rooms/doc/${name}`)).arrayBuffer());
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, stored);
    assert.equal(loaded.getText("text").toString(), expected);
  } finally {
    c.destroy();
  }
});
