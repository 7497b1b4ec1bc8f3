import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ImportResult } from '../api/types.js';
import { CorralError } from '../errors.js';
import { errorFrom, readAll, UnreachableError } from './http.js';

/**
 * Stream an archive to corrald (chunked, never buffered whole). corrald may answer before the
 * upload ends (a refused entry): the answer wins, and the rest of the input is not read.
 */
export function uploadArchive<T = ImportResult>(socketPath: string, path: string, body: Readable): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    const req = httpRequest({
      socketPath,
      method: 'POST',
      path,
      agent: false,
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' },
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      body.unpipe(req);
      body.destroy();
      void (async () => {
        if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) throw await errorFrom(res);
        const text = (await readAll(res)).toString('utf8');
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new CorralError('internal', `POST ${path}: corrald answered invalid JSON`);
        }
      })().then(resolve, reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(new UnreachableError(socketPath, err));
    });
    body.on('error', (err) => {
      if (answered) return;
      answered = true;
      req.destroy();
      reject(new CorralError('internal', `read the archive: ${err.message}`));
    });
    body.pipe(req);
  });
}
