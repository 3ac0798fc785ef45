// The docs-editors scenario's updates: real Yjs updates of EDITORS editors typing into one document's root Y.Text
// "text". The document starts from a seed (SEED_CHARS characters by client 1); every editor has its own Y.Doc and
// clientID (1000 + its index), applies the seed, and then makes UPDATES small edits, one transaction (so one update)
// each: 1–4 characters typed at its cursor, now and then a backspace over 1–3 characters it typed itself, and now and
// then a jump of the cursor to a random place. Editors never see each other's edits and delete only their own text, so
// every update applies to the server's document in any interleaving of the editors, and every update changes the
// document (y-websocket's server relays only updates that change it: two editors deleting the same character would
// make the second delete vanish from the relay).
//
//   node bench/yjs/updates.mjs --out DIR [--editors 50] [--updates 20000] [--seed-chars 2000] [--seed 1]
//
// Writes DIR/seed.bin and DIR/editor-NNN.bin (each a sequence of length-prefixed updates, see common.mjs) and
// DIR/manifest.json (the parameters, the seed's client and clock, each editor's client ID and update count).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Y, random, parseArgs, writeSequence, prepare, typed } from './common.mjs'

const args = parseArgs({ out: '', editors: 50, updates: 20000, 'seed-chars': 2000, seed: 1 })
if (!args.out) {
  console.error('usage: node bench/yjs/updates.mjs --out DIR [--editors 50] [--updates 20000] [--seed-chars 2000] [--seed 1]')
  process.exit(1)
}
prepare(args.out)
const next = random(args.seed)
const seedClient = 1

const seedDoc = new Y.Doc()
seedDoc.clientID = seedClient
seedDoc.getText('text').insert(0, typed(next, args['seed-chars']))
const seed = Y.encodeStateAsUpdate(seedDoc)
writeSequence(join(args.out, 'seed.bin'), [seed])

const editors = []
for (let e = 0; e < args.editors; e++) {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, seed)
  doc.clientID = 1000 + e
  const text = doc.getText('text')
  const updates = []
  doc.on('update', update => updates.push(update))
  let cursor = Math.floor(next() * (text.length + 1))
  let typedHere = 0 // characters this editor typed right before the cursor since it last jumped
  let deletes = 0
  for (let i = 0; i < args.updates; i++) {
    const before = updates.length
    const r = next()
    if (r < 0.03) {
      cursor = Math.floor(next() * (text.length + 1))
      typedHere = 0
    }
    if (r >= 0.03 && r < 0.11 && typedHere > 0) {
      const count = Math.min(typedHere, 1 + Math.floor(next() * 3))
      text.delete(cursor - count, count)
      cursor -= count
      typedHere -= count
      deletes++
    } else {
      const count = 1 + Math.floor(next() * 4)
      text.insert(cursor, typed(next, count))
      cursor += count
      typedHere += count
    }
    if (updates.length !== before + 1) {
      throw new Error(`editor ${e}, edit ${i}: expected one update, got ${updates.length - before}`)
    }
  }
  writeSequence(join(args.out, `editor-${String(e).padStart(3, '0')}.bin`), updates)
  editors.push({ client: doc.clientID, updates: updates.length, deletes, bytes: updates.reduce((s, u) => s + u.length, 0) })
}

const manifest = {
  kind: 'editors',
  field: 'text',
  editors: args.editors,
  updatesPerEditor: args.updates,
  seedChars: args['seed-chars'],
  randomSeed: args.seed,
  seedClient,
  seedClock: args['seed-chars'],
  editorClients: editors.map(e => e.client),
  editorDetails: editors
}
writeFileSync(join(args.out, 'manifest.json'), JSON.stringify(manifest, null, 1))
const bytes = editors.reduce((s, e) => s + e.bytes, 0)
console.log(`bench/yjs: ${args.editors} editors × ${args.updates} updates (${(bytes / args.editors / args.updates).toFixed(1)} bytes on average) in ${args.out}`)
