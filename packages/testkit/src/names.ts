import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A short unique name for one test's data: a Redis key prefix / BullMQ `prefix`, or a MongoDB database
 * name. Only ASCII letters, digits and `_` (valid everywhere, including FerretDB database names),
 * at most 32 characters: `<label>_<time><counter><random>`, e.g. `conv_lx4k2a0f3k9`.
 * `label` is reduced to [a-z0-9_] and cut to 12 characters.
 */
export function uniquePrefix(label = 't'): string {
  const cleanLabel = label.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 12) || 't';
  const time = Date.now().toString(36).slice(-6);
  const count = (counter++ % 1296).toString(36).padStart(2, '0');
  const random = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0').slice(0, 6);
  return `${cleanLabel}_${time}${count}${random}`;
}
