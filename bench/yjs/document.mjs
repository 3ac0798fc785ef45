// The docs-sync scenario's document: about BYTES bytes of encoded Yjs state (Y.encodeStateAsUpdate), made the way a
// document grows: AUTHORS authors (client IDs 2000 + k) take turns writing sessions into the root Y.Text "text", a
// word or a few characters per transaction, with backspaces over what they just typed and jumps to other places, so
// the state holds many items, deletions and authors rather than one long string. The updates are written as chunks a
// loader sends one after another, each a merge (Y.mergeUpdates) of consecutive updates, under MAX_CHUNK bytes.
//
//   node bench/yjs/document.mjs --out DIR [--bytes 1048576] [--max-chunk 262144] [--authors 8] [--seed 2]
//
// Writes DIR/chunks.bin (length-prefixed updates, see common.mjs) and DIR/manifest.json (the state's size, its state
// vector and text length: what a client that synced the whole document must have).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Y, random, parseArgs, writeSequence, prepare, typed } from './common.mjs'

const args = parseArgs({ out: '', bytes: 1048576, 'max-chunk': 262144, authors: 8, seed: 2 })
if (!args.out) {
  console.error('usage: node bench/yjs/document.mjs --out DIR [--bytes 1048576] [--max-chunk 262144] [--authors 8] [--seed 2]')
  process.exit(1)
}
if (args['max-chunk'] >= 512 * 1024) {
  console.error('--max-chunk must stay under 512 KiB (a message size limit servers commonly set)')
  process.exit(1)
}
prepare(args.out)
const next = random(args.seed)
const doc = new Y.Doc()
const text = doc.getText('text')
const chunks = []
let pending = []
let pendingBytes = 0
doc.on('update', update => {
  if (pendingBytes + update.length > args['max-chunk'] / 2 && pending.length > 0) {
    chunks.push(Y.mergeUpdates(pending))
    pending = []
    pendingBytes = 0
  }
  pending.push(update)
  pendingBytes += update.length
})

let edits = 0
let size = 0
while (size < args.bytes) {
  // One writing session: an author, a place, then a burst of typing with some backspaces.
  doc.clientID = 2000 + Math.floor(next() * args.authors)
  let cursor = Math.floor(next() * (text.length + 1))
  let typedHere = 0
  const session = 20 + Math.floor(next() * 200)
  for (let i = 0; i < session; i++, edits++) {
    if (next() < 0.1 && typedHere > 0) {
      const count = Math.min(typedHere, 1 + Math.floor(next() * 6))
      text.delete(cursor - count, count)
      cursor -= count
      typedHere -= count
    } else {
      const word = next() < 0.5 ? typed(next, 1 + Math.floor(next() * 4)) : typed(next, 3 + Math.floor(next() * 9)) + ' '
      text.insert(cursor, word)
      cursor += word.length
      typedHere += word.length
    }
  }
  if (edits % 5000 < session) {
    size = Y.encodeStateAsUpdate(doc).length
  }
}
if (pending.length > 0) {
  chunks.push(Y.mergeUpdates(pending))
}
const largest = Math.max(...chunks.map(c => c.length))
if (largest >= args['max-chunk']) {
  throw new Error(`a chunk of ${largest} bytes is not under --max-chunk ${args['max-chunk']}`)
}

// The chunks applied to a fresh document must give the same state.
const check = new Y.Doc()
for (const chunk of chunks) {
  Y.applyUpdate(check, chunk)
}
if (check.getText('text').toString() !== text.toString()) {
  throw new Error('the chunks do not rebuild the document')
}

const state = Y.encodeStateAsUpdate(doc)
writeSequence(join(args.out, 'chunks.bin'), chunks)
const manifest = {
  kind: 'document',
  field: 'text',
  stateBytes: state.length,
  textLength: text.length,
  edits,
  authors: args.authors,
  randomSeed: args.seed,
  chunks: chunks.length,
  largestChunk: largest,
  stateVector: Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(doc)))
}
writeFileSync(join(args.out, 'manifest.json'), JSON.stringify(manifest, null, 1))
console.log(`bench/yjs: a document of ${state.length} bytes of state (${text.length} characters, ${edits} edits) in ${chunks.length} chunks (largest ${largest} bytes) in ${args.out}`)
