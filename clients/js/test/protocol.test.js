// The pure protocol pieces (no socket): frame parsing and encoding, numbers, backoff, close policy.
import test from "node:test";
import assert from "node:assert/strict";
import { parseFrame, parseNumber, encodeMessage, reconnectDelay, closePolicy } from "../roomactors.js";

const bytes = (...values) => new Uint8Array(values);

test("parseFrame splits a text frame at the first LF; the body keeps later LFs", () => {
  for (const [frame, kind, fields, body] of [
    ["ack 3 17", "ack", ["3", "17"], ""],
    ["m 5\nhello", "m", ["5"], "hello"],
    ["m 5\n", "m", ["5"], ""],
    ["m 6\nline one\nline two\n", "m", ["6"], "line one\nline two\n"],
    ['welcome 0\n{"connection":"c1"}', "welcome", ["0"], '{"connection":"c1"}'],
    ["pong", "pong", [], ""],
    ["", "", [], ""],
  ]) {
    assert.deepEqual(parseFrame(frame), { kind, fields, body }, JSON.stringify(frame));
  }
});

test("parseFrame gives a binary frame's payload bytes unchanged, as an ArrayBuffer", () => {
  const header = new TextEncoder().encode("m 42\n");
  const payload = bytes(0, 10, 13, 255, 10, 0x80);
  const frame = new Uint8Array([...header, ...payload]);
  const parsed = parseFrame(frame.buffer);
  assert.equal(parsed.kind, "m");
  assert.deepEqual(parsed.fields, ["42"]);
  assert.ok(parsed.body instanceof ArrayBuffer);
  assert.deepEqual(new Uint8Array(parsed.body), payload);

  // A view into a larger buffer (node's Buffer) reads only its own bytes.
  const padded = new Uint8Array([99, ...frame, 99]);
  assert.deepEqual(new Uint8Array(parseFrame(padded.subarray(1, padded.length - 1)).body), payload);
  // No LF: all header, empty body.
  assert.deepEqual(new Uint8Array(parseFrame(new TextEncoder().encode("m 1").buffer).body), bytes());
});

test("parseNumber takes decimal integers up to 2^53-1 and nothing else", () => {
  for (const [field, expected] of [
    ["0", 0], ["17", 17], ["9007199254740991", 2 ** 53 - 1],
    ["9007199254740992", NaN], ["-1", NaN], ["+1", NaN], ["1.5", NaN], ["1e3", NaN], ["", NaN], [" 1", NaN], [undefined, NaN],
  ]) {
    assert.ok(Object.is(parseNumber(field), expected), `${field} -> ${parseNumber(field)}`);
  }
});

test("encodeMessage: a text payload is a text frame, a binary one header bytes + LF + the payload bytes", () => {
  assert.equal(encodeMessage(1, "hi"), "m 1\nhi");
  assert.equal(encodeMessage(12, "a\nb"), "m 12\na\nb");
  const payload = bytes(0, 10, 255);
  const frame = encodeMessage(7, payload);
  assert.ok(frame instanceof Uint8Array);
  assert.deepEqual(frame, new Uint8Array([...new TextEncoder().encode("m 7\n"), 0, 10, 255]));
  assert.deepEqual(encodeMessage(7, payload.buffer), frame);
  assert.deepEqual(new Uint8Array(parseFrame(frame).body), payload); // what the server would read back
  assert.throws(() => encodeMessage(1, 42), /string, an ArrayBuffer or a typed array/);
});

test("reconnectDelay doubles from the minimum up to the maximum, jittered between half and all", () => {
  for (const [attempt, low, high] of [[0, 125, 250], [1, 250, 500], [2, 500, 1000], [5, 4000, 8000], [6, 5000, 10000], [60, 5000, 10000]]) {
    assert.equal(reconnectDelay(attempt, 250, 10000, () => 0), low, `attempt ${attempt} low`);
    assert.equal(reconnectDelay(attempt, 250, 10000, () => 1), high, `attempt ${attempt} high`);
    const d = reconnectDelay(attempt, 250, 10000);
    assert.ok(d >= low && d <= high, `attempt ${attempt}: ${d}`);
  }
});

test("closePolicy: resync on 4403/4410, final on 4409, policy closes and the room's own close, else resume", () => {
  const table = {
    resync: [4403, 4410],
    final: [1000, 1002, 1003, 1007, 1008, 1009, 1010, 3000, 4000, 4409, 4999],
    resume: [1001, 1005, 1006, 1011, 1012, 1013, 1014, 1015, 4401],
  };
  for (const [policy, codes] of Object.entries(table)) {
    for (const code of codes) assert.equal(closePolicy(code), policy, String(code));
  }
});
