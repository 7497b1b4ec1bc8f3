import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.js';

/** Docker's rule for container names. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function validateName(name: string, what = 'container name'): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `invalid ${what} ${JSON.stringify(name)}: use 1-63 characters from [a-zA-Z0-9_.-], starting with a letter or digit`,
      { name },
    );
  }
  return name;
}

/** 64 hex characters, like Docker; the first 12 are the short id. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'nimble', 'proud', 'quiet', 'swift', 'tidy', 'vivid', 'witty', 'zesty', 'bold'];
const NOUNS = ['badger', 'bison', 'crane', 'dingo', 'egret', 'ferret', 'gecko', 'heron', 'ibis', 'lynx', 'marmot', 'newt', 'otter', 'puffin', 'quokka', 'raven'];

/** A readable default name such as `swift_otter_3f2a`. */
export function generateName(): string {
  const b = randomBytes(4);
  return `${ADJECTIVES[b[0]! % ADJECTIVES.length]}_${NOUNS[b[1]! % NOUNS.length]}_${b.readUInt16BE(2).toString(16).padStart(4, '0')}`;
}
