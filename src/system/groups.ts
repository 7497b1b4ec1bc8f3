import { readFile } from 'node:fs/promises';
import { ValidationError } from '../errors.js';

/** The gid of a group name (or a numeric gid), from /etc/group. */
export async function groupId(name: string, groupFile = '/etc/group'): Promise<number> {
  if (/^\d+$/.test(name)) return Number(name);
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new ValidationError(`--group ${name}: no such group in ${groupFile} (create it: groupadd ${name})`);
}
