import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { NotFoundError, CorralError } from '../errors.js';

export interface RequestContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Handler = (ctx: RequestContext, res: ServerResponse) => Promise<void>;
export type UpgradeHandler = (ctx: RequestContext, socket: Duplex, head: Buffer) => Promise<void>;

interface Route<H> {
  method: string;
  pattern: RegExp;
  handler: H;
}

/** Method + path patterns with `:name` segments; path segments are URL-decoded and must be plain. */
export class Router {
  private readonly routes: Route<Handler>[] = [];
  private readonly upgrades: Route<UpgradeHandler>[] = [];

  on(method: string, path: string, handler: Handler): this {
    this.routes.push({ method, pattern: compile(path), handler });
    return this;
  }
  upgrade(method: string, path: string, handler: UpgradeHandler): this {
    this.upgrades.push({ method, pattern: compile(path), handler });
    return this;
  }

  match(req: IncomingMessage): { handler: Handler; ctx: RequestContext } {
    return this.find(this.routes, req);
  }
  matchUpgrade(req: IncomingMessage): { handler: UpgradeHandler; ctx: RequestContext } {
    return this.find(this.upgrades, req);
  }

  private find<H>(routes: Route<H>[], req: IncomingMessage): { handler: H; ctx: RequestContext } {
    const url = new URL(req.url ?? '/', 'http://corrald');
    let pathMatched = false;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(v);
        } catch {
          throw new CorralError('validation', `malformed path segment ${JSON.stringify(v)}`);
        }
        if (decoded.includes('/') || decoded.includes('\0') || decoded === '.' || decoded === '..') {
          throw new CorralError('validation', `invalid ${k} ${JSON.stringify(decoded)}`);
        }
        params[k] = decoded;
      }
      return { handler: r.handler, ctx: { req, params, query: url.searchParams } };
    }
    if (pathMatched) throw new CorralError('validation', `method ${req.method} not allowed on ${url.pathname}`);
    throw new NotFoundError(`no such route: ${req.method} ${url.pathname}`);
  }
}

function compile(path: string): RegExp {
  const src = path.replace(/:([a-zA-Z]+)/g, (_, name: string) => `(?<${name}>[^/]+)`);
  return new RegExp(`^${src}$`);
}
