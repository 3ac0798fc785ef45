// What the two update scripts share: yjs from tests/yjs/node_modules (the versions of the committed lock), a seeded
// random generator (the same arguments write the same updates), argument parsing and the length-prefixed file format.
import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'

const require = createRequire(new URL('../../tests/yjs/package.json', import.meta.url))
let Y
try {
  Y = require('yjs')
} catch {
  console.error('bench/yjs: yjs is not installed; run `npm ci --no-audit --no-fund` in tests/yjs (bench/run does)')
  process.exit(1)
}
export { Y }

/** mulberry32: a small seeded generator; returns floats in [0, 1). */
export function random (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** --name value pairs, with defaults; numbers where the default is a number. */
export function parseArgs (defaults) {
  const args = { ...defaults }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in defaults)) {
      console.error(`unknown argument --${key}; known: ${Object.keys(defaults).map(k => '--' + k).join(' ')}`)
      process.exit(1)
    }
    args[key] = typeof defaults[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1]
  }
  return args
}

/** Writes updates as one file: for each, its length (uint32, little-endian) then its bytes. */
export function writeSequence (path, updates) {
  const total = updates.reduce((sum, u) => sum + 4 + u.length, 0)
  const buffer = Buffer.alloc(total)
  let offset = 0
  for (const u of updates) {
    buffer.writeUInt32LE(u.length, offset)
    buffer.set(u, offset + 4)
    offset += 4 + u.length
  }
  writeFileSync(path, buffer)
}

export function prepare (dir) {
  mkdirSync(dir, { recursive: true })
}

const letters = 'etaoinshrdlucmfwypvbgkqjxz'
/** Text as someone types it: mostly letters, a space now and then. */
export function typed (next, count) {
  let text = ''
  for (let i = 0; i < count; i++) {
    text += next() < 0.18 ? ' ' : letters[Math.floor(next() * next() * letters.length)]
  }
  return text
}
