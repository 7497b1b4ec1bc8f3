import { Option, type Command } from 'commander';
import type { PortBinding } from '../../api/types.js';
import { CorralError, ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { toJson } from '../output.js';

export interface PortRequest {
  ref: string;
  /** `80`, `80/tcp`, `53/udp`. */
  privatePort?: string;
  format: 'text' | 'json';
}

export function registerPort(program: Command, dispatch: (req: PortRequest) => Promise<void>): void {
  const cmd = program
    .command('port')
    .description("the container's published ports, or where PRIVATE_PORT is published")
    .argument('<container>')
    .argument('[private-port]', 'PORT[/tcp|udp]')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((ref: string, privatePort: string | undefined, o: { format: 'text' | 'json' }) =>
      dispatch({ ref, ...(privatePort !== undefined ? { privatePort } : {}), format: o.format }),
    );
  withExamples(cmd, ['corral port web', 'corral port web 80', 'corral port dns 53/udp']);
}

/** Docker's format: `80/tcp -> 0.0.0.0:8080`, or with PRIVATE_PORT only `0.0.0.0:8080`. */
export async function port(ctx: Context, req: PortRequest): Promise<number> {
  const info = await (await ctx.client()).inspect(req.ref);
  let ports: PortBinding[] = info.networkSettings.ports;
  if (req.privatePort !== undefined) {
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(req.privatePort);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new ValidationError(`port ${req.privatePort}: expected PORT[/tcp|udp] with PORT 1-65535`);
    const [want, proto] = [Number(m[1]), m[2] ?? 'tcp'];
    ports = ports.filter((p) => p.containerPort === want && p.protocol === proto);
    if (ports.length === 0) throw new CorralError('not_found', `no public port '${want}/${proto}' published for ${info.name}`);
  }
  if (req.format === 'json') ctx.out(toJson(ports));
  else if (req.privatePort !== undefined) ctx.out(ports.map((p) => `${hostAddr(p)}\n`).join(''));
  else ctx.out(ports.map((p) => `${p.containerPort}/${p.protocol} -> ${hostAddr(p)}\n`).join(''));
  return 0;
}

function hostAddr(p: PortBinding): string {
  return `${p.hostIp || '0.0.0.0'}:${p.hostPort}`;
}
