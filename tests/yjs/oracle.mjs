// The npm yjs package as the oracle of RoomActors.Documents.YUpdate (tests/RoomActors.Tests/Documents): builds seeded
// random documents with several clients editing at once, and writes, as JSON on stdout, what yjs says of their updates.
//   node tests/yjs/oracle.mjs CASES SEED
//   node tests/yjs/oracle.mjs verify < updates.json   (an array of base64 updates: each one's document as JSON text)
// Each case: the updates (base64), Y.mergeUpdates of them, Y.encodeStateVectorFromUpdate of the merge, Y.diffUpdate of
// the merge against state vectors (real ones and clocks inside structs), and the text of each root Y.Text.
import * as Y from "yjs";

const typed = doc => { // root types are generic until asked for by kind
  for (const [name, get] of [["text", "getText"], ["map", "getMap"], ["list", "getArray"], ["xml", "getXmlFragment"]]) {
    if (doc.share.has(name)) doc[get](name);
  }
  return JSON.stringify(doc.toJSON());
};

if (process.argv[2] === "verify") {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const docs = JSON.parse(Buffer.concat(chunks).toString()).map(update => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Buffer.from(update, "base64"));
    return typed(doc);
  });
  process.stdout.write(JSON.stringify(docs));
  process.exit(0);
}

const [cases = "20", seed = "1"] = process.argv.slice(2);
let a = Number(seed) >>> 0;
const next = () => { // mulberry32
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = list => list[Math.floor(next() * list.length)];
const b64 = bytes => Buffer.from(bytes).toString("base64");
const pieces = ["a", "bc", "def", "😀", "é", "x😀y", "hello world", "\n", "漢字"];

function edit(doc, n) {
  const text = doc.getText("text");
  const roll = next();
  if (roll < 0.45 || text.length === 0) {
    text.insert(Math.floor(next() * (text.length + 1)), pick(pieces));
  } else if (roll < 0.65) {
    const at = Math.floor(next() * text.length);
    text.delete(at, Math.min(text.length - at, 1 + Math.floor(next() * 4)));
  } else if (roll < 0.72) {
    const at = Math.floor(next() * text.length);
    text.format(at, Math.min(text.length - at, 3), { bold: next() < 0.5 ? true : null });
  } else if (roll < 0.82) {
    const map = doc.getMap("map");
    if (next() < 0.2 && map.size > 0) map.delete(pick([...map.keys()]));
    else map.set(pick(["k1", "k2", "k3"]), pick([n, "s" + n, { nested: [n, true, null] }, new Uint8Array([n & 255, 7]), 1.5, -n]));
  } else if (roll < 0.92) {
    const list = doc.getArray("list");
    if (next() < 0.3 && list.length > 0) list.delete(Math.floor(next() * list.length), 1);
    else if (next() < 0.2) {
      const inner = new Y.Map();
      list.insert(Math.floor(next() * (list.length + 1)), [inner]);
      inner.set("x", n);
    } else list.insert(Math.floor(next() * (list.length + 1)), [n, "v" + n]);
  } else {
    const xml = doc.getXmlFragment("xml");
    const element = new Y.XmlElement("p");
    xml.insert(xml.length, [element]);
    element.insert(0, [new Y.XmlText("t" + n)]);
  }
}

const out = [];
for (let c = 0; c < Number(cases); c++) {
  const clients = 2 + Math.floor(next() * 3);
  const docs = [];
  const updates = [];
  for (let i = 0; i < clients; i++) {
    const doc = new Y.Doc({ gc: next() < 0.5 });
    doc.clientID = pick([i + 1, 1000 + i, 2 ** 31 + i, 2 ** 40 + i]);
    doc.on("update", update => updates.push(update));
    docs.push(doc);
  }
  const steps = 10 + Math.floor(next() * 60);
  for (let s = 0; s < steps; s++) {
    const doc = pick(docs);
    doc.transact(() => { for (let k = 1 + Math.floor(next() * 3); k > 0; k--) edit(doc, s); });
    if (next() < 0.35) { // sync two documents (concurrency otherwise)
      const [from, to] = [pick(docs), pick(docs)];
      Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
    }
  }
  // Some updates only, in a shuffled order, sometimes twice (overlaps), and whole states.
  const chosen = updates.filter(() => next() < 0.9).sort(() => next() - 0.5);
  if (next() < 0.5) chosen.push(Y.encodeStateAsUpdate(pick(docs)));
  if (next() < 0.3 && chosen.length > 0) chosen.push(pick(chosen));
  const merged = Y.mergeUpdates(chosen);
  const full = new Y.Doc();
  Y.applyUpdate(full, merged);
  const state = Y.encodeStateVectorFromUpdate(merged);
  const svs = [new Uint8Array([0]), ...docs.map(d => Y.encodeStateVector(d))];
  const decoded = Y.decodeStateVector(state);
  for (let k = 0; k < 3; k++) { // clocks inside structs, e.g. in the middle of an emoji
    const sv = new Map();
    for (const [client, clock] of decoded) if (next() < 0.7) sv.set(client, Math.floor(next() * (clock + 2)));
    svs.push(Y.encodeStateVector(sv));
  }
  const texts = {};
  if (full.share.has("text")) texts.text = full.getText("text").toString();
  out.push({
    updates: chosen.map(b64),
    merged: b64(merged),
    stateVector: b64(state),
    diffs: svs.map(sv => ({ stateVector: b64(sv), diff: b64(Y.diffUpdate(merged, sv)) })),
    texts,
    json: typed(full),
  });
}
process.stdout.write(JSON.stringify(out));
